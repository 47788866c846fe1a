"""The command line under faults and slips: output checked before compute, truthful messages, quiet pipes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import sim.cli.simulate as simulate
from sim import __version__
from sim.cli import _what_is_kept, build_parser, main
from sim.cli.options import attach_negative_values

TRIALSIM = Path(sys.executable).with_name("trialsim")


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("trialsim: error: "), err
    return err.removeprefix("trialsim: error: ")


def test_version(capsys) -> None:
    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"trialsim {__version__}"
    with pytest.raises(SystemExit) as done:  # argparse's own flag, after other words
        main(["--no-such-flag", "--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"trialsim {__version__}"


def test_version_and_run_import_no_plotting_templates_or_cluster() -> None:
    """``trialsim --version`` imports nothing of the library; ``run`` imports no report, Dask or reference engine."""
    probe = (
        "import sys; from sim.cli import main; main(['--version']); heavy = {m.split('.')[0] for m in sys.modules "
        "if m.startswith(('numpy', 'pandas', 'scipy', 'matplotlib', 'jinja2', 'dask'))}; print(sorted(heavy))"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert shown.splitlines()[-1] == "[]"
    probe = (
        "import sys; from sim.cli import build_parser; build_parser('run'); print(sorted(m for m in "
        "('matplotlib', 'jinja2', 'dask', 'distributed', 'sim.engines.reference', 'sim.reports.figures') "
        "if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"


def test_keep_patients_and_restart_need_out(capsys) -> None:
    assert main(["run", "--replicates", "2", "--keep-patients"]) == 2
    assert _error(capsys) == "--keep-patients writes patients.parquet and needs --out"
    assert main(["run", "--replicates", "2", "--restart"]) == 2
    assert _error(capsys) == "--restart discards the checkpoints in --out and needs it"


def test_a_results_file_blocked_by_a_folder_is_refused_before_the_run(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    (out / "summary.json").mkdir(parents=True)
    assert main(["run", "--replicates", "2", "--out", str(out)]) == 2
    assert _error(capsys) == f"--out {out}: summary.json is a folder, where the results file would go"
    assert not (out / "chunks").exists()


@pytest.mark.parametrize("command", [["oc", "--orr", "0.2"], ["sweep", "--vary", "efficacy.orr=0.2"], ["calibrate", "--orr", "0.15", "--dcr", "0.65", "--median-pfs", "4", "--scan-weeks", "6"]])
def test_unwritable_out_files_are_refused_before_computing(command, tmp_path, capsys, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setattr(simulate, "run_grid", lambda *a, **k: pytest.fail("computed before checking --out"))
    monkeypatch.setattr(simulate, "oc_grid", lambda *a, **k: pytest.fail("computed before checking --out"))
    assert main([*command, "--out", str(blocker / "table.csv")]) == 2
    assert "cannot write there" in _error(capsys)
    assert main([*command, "--out", ""]) == 2
    assert _error(capsys) == "argument --out: must name a file or folder, not an empty path"


def test_a_repeated_vary_is_refused(capsys) -> None:
    assert main(["sweep", "--vary", "efficacy.orr=0.1,0.2", "--vary", "efficacy.orr=0.3"]) == 2
    assert _error(capsys) == "--vary efficacy.orr is given twice; give all its values in one --vary"


def test_max_replicates_only_caps_mcse_target(monkeypatch, capsys) -> None:
    seen = {}

    def fake_run(model, settings):
        seen.update(dataclasses.asdict(settings))
        raise KeyboardInterrupt

    monkeypatch.setattr(simulate, "run", fake_run)
    assert main(["run", "--replicates", "1000001"]) == 130
    assert seen["max_replicates"] == 1000001 and seen["mcse_target"] is None
    assert "nothing was saved" in capsys.readouterr().err
    # on its own it would be ignored: refused instead
    assert main(["run", "--replicates", "2", "--max-replicates", "4"]) == 2
    assert _error(capsys) == "--max-replicates caps the batches --mcse-target adds and needs it"


@pytest.mark.parametrize(
    ("argv", "kept"),
    [
        (["run", "--out", "results"], "results/chunks"),
        (["oc", "--out", "grid/oc.csv"], "grid/oc.csv.chunks"),
        (["sweep", "--vary", "efficacy.orr=0.2", "--out=sweep.csv"], "sweep.csv.chunks"),
        (["run"], None),
        (["oc"], None),
        (["calibrate", "--out", "efficacy.toml"], None),
        (["report", "--out", "committee"], None),
    ],
)
def test_the_interrupt_message_says_what_is_kept(argv, kept) -> None:
    message = _what_is_kept(build_parser().parse_args(argv))
    if kept is None:
        assert message == "nothing was saved"
    else:
        assert message == f"finished chunks are kept in {kept}; the same command resumes from them"
    assert _what_is_kept(None) == "nothing was saved"  # interrupted while the command line was read


def test_restart_of_a_grid_needs_out(capsys) -> None:
    assert main(["oc", "--restart"]) == 2
    assert _error(capsys) == "--restart discards the checkpoints in --out and needs it"


def test_a_grid_whose_checkpoint_folder_is_blocked_is_refused_before_computing(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(simulate, "oc_grid", lambda *a, **k: pytest.fail("computed before checking --out"))
    (tmp_path / "oc.csv.chunks").write_text("a file where the cells' checkpoints would go")
    assert main(["oc", "--orr", "0.2", "--out", str(tmp_path / "oc.csv")]) == 2
    assert _error(capsys).startswith(f"--out {tmp_path / 'oc.csv.chunks'}: cannot write there")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["oc", "--orr", "-0.1,0.2"], "--orr values must be probabilities in [0, 1], got -0.1"),
        (["oc", "--orr=-0.1,0.2"], "--orr values must be probabilities in [0, 1], got -0.1"),
        (["oc", "--orr", "-0.1:0.3:0.1"], "--orr values must be probabilities in [0, 1], got -0.1"),
        (["oc", "--orr", "0.2,1.5"], "--orr values must be probabilities in [0, 1], got 1.5"),
        (["run", "--seed", "-1"], "argument --seed: must be a non-negative whole number, got -1"),
        (["run", "--replicates", "-5"], "argument --replicates: must be a whole number from 1 to 10000000, got -5"),
        (["calibrate", "--orr", "0.1", "--median-pfs", "3", "--scan-weeks", "6", "--cuts", "-1,2"], None),
    ],
)
def test_a_negative_value_reaches_its_options_own_check(argv, message, capsys, monkeypatch) -> None:
    """argparse alone says "expected one argument" for ``--orr -0.1,0.2``; each option's type says what it allows."""
    monkeypatch.setattr(simulate, "oc_grid", lambda *a, **k: pytest.fail("a bad --orr was computed"))
    assert main(argv) == 2
    error = _error(capsys)
    assert "expected one argument" not in error
    if message is not None:
        assert error == message


def test_only_a_word_after_an_option_is_attached() -> None:
    assert attach_negative_values(["oc", "--orr", "-0.1,0.2", "--seed", "3"]) == ["oc", "--orr=-0.1,0.2", "--seed", "3"]
    assert attach_negative_values(["oc", "--orr=0.1", "-0.2"]) == ["oc", "--orr=0.1", "-0.2"]
    assert attach_negative_values(["oc", "--json", "--seed"]) == ["oc", "--json", "--seed"]
    assert attach_negative_values(["run", "--", "-1.toml"]) == ["run", "--", "-1.toml"]
    assert attach_negative_values(["oc", "--orr", "-x"]) == ["oc", "--orr", "-x"]


def test_a_closed_pipe_is_quiet() -> None:
    done = subprocess.run(f"'{TRIALSIM}' benchmarks | head -2", shell=True, capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 2
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr


def test_an_observed_folder_is_refused_naming_it(tmp_path, capsys) -> None:
    assert main(["forecast", "--observed", str(tmp_path), "--as-of", "2026-11-01", "--replicates", "2"]) == 2
    assert _error(capsys) == f"observed file {tmp_path} is a folder; give the CSV file in it"


def test_a_count_with_a_non_ascii_digit_is_refused_naming_the_cell(tmp_path, capsys) -> None:
    root = Path(__file__).resolve().parents[1] / "scenarios"
    screened = tmp_path / "screened.csv"
    screened.write_text("site,screened,screen_failed\nLead centre,2\u00b2,3\n", encoding="utf-8")
    words = ["forecast", "--observed", str(root / "observed_made_up.csv"), "--as-of", "2026-11-20"]
    assert main([*words, "--screened", str(screened), "--replicates", "2"]) == 2
    assert _error(capsys).endswith("column screened: '2\u00b2' is not a whole number of patients")


def test_report_sources_given_twice_are_refused(tmp_path, capsys) -> None:
    assert main(["report", "base", "base", "--out", str(tmp_path / "r")]) == 2
    assert _error(capsys) == "scenario base is given twice; each scenario is one column of the report"
    run_dir = tmp_path / "run"
    assert main(["report", "--from", str(run_dir), f"{run_dir}/", "--out", str(tmp_path / "r")]) == 2
    assert _error(capsys) == f"--from {run_dir} is given twice; each scenario is one column of the report"


def test_scenario_files_with_one_stem_get_folders_of_their_own() -> None:
    from sim.reports.workflow import folder_names as _folder_names

    assert _folder_names(["a/base.toml", "b/base.toml", "base", "slow.toml"]) == ["base", "base_2", "base_3", "slow"]


NOBODY = "recruitment.periods=[{name='closed', start=2025-11-01, end=2027-12-31, rate_factor=0}]"


@pytest.mark.parametrize(
    "override, words",
    [
        (NOBODY, "expects 0 patients enrolled by trial.recruitment_close"),
        ("recruitment.screening_days=[3650, 3650]", "expects 0 patients enrolled"),
        ("recruitment.sites.0.ramp_up_months=600", "expects 0.67 patients enrolled"),
        ("safety.withdrawal_per_month=100", "100.0% of patients leave before their first scan"),
    ],
)
def test_a_trial_that_cannot_work_is_said_so_before_it_runs(override, words, capsys) -> None:
    assert main(["run", "--replicates", "2", "--no-progress", "--set", override]) == 0
    assert "trialsim: warning: " in capsys.readouterr().err
    assert main(["check", "--set", override]) == 0
    assert words in capsys.readouterr().out


def test_the_shipped_scenarios_need_no_warning(capsys) -> None:
    for name in ("base", "optimistic", "pessimistic", "slow_recruitment"):
        assert main(["check", name]) == 0
        assert "Warning:" not in capsys.readouterr().out


def test_a_value_given_twice_in_a_grid_is_refused(capsys) -> None:
    assert main(["sweep", "--vary", "efficacy.orr=0.2,0.20", "--replicates", "2"]) == 2
    assert _error(capsys) == "efficacy.orr gives the value 0.20 twice; give each value once"
    assert main(["oc", "--orr", "0.1,0.2,0.20", "--replicates", "2"]) == 2
    assert _error(capsys) == "--orr gives the value 0.2 twice; give each value once"


def test_a_report_says_what_a_run_was_changed_by_and_what_it_lacks(tmp_path, capsys) -> None:
    run_dir, page = tmp_path / "run", tmp_path / "page"
    assert main(["run", "--replicates", "20", "--no-progress", "--set", "efficacy.orr=0.25", "--out", str(run_dir)]) == 0
    assert main(["report", "--from", str(run_dir), "--out", str(page)]) == 0
    html = (page / "index.html").read_text(encoding="utf-8")
    assert "Run with <code>--set efficacy.orr=0.25</code>: the figures are for the scenario file as changed so." in html
    assert "kept no patient table" in html and "trialsim run --keep-patients --out DIR" in html


def test_a_power_curve_with_no_orr_the_pfs_can_carry_is_refused_before_simulating(tmp_path, capsys) -> None:
    assert main(["report", "base", "--orr", "0.6,0.7", "--out", str(tmp_path / "page")]) == 2
    assert _error(capsys).startswith("--orr: every value is at or above 0.512, the largest ORR scenario base's PFS")
    assert not (tmp_path / "page" / "index.html").exists()


def test_a_run_of_hours_needs_yes_and_says_how_long(monkeypatch, capsys) -> None:
    assert main(["run", "--replicates", "10000000", "--engine", "des", "--no-progress"]) == 2
    err = _error(capsys)
    assert err.startswith("10,000,000 simulated trials take about ") and " hours on 1 worker(s) (timed on 250)" in err
    assert err.endswith("add --yes to start it, or ask for fewer --replicates")

    def fake_run(model, settings):
        raise KeyboardInterrupt  # got past the estimate: the run itself would start here

    monkeypatch.setattr(simulate, "run", fake_run)
    assert main(["run", "--replicates", "10000000", "--engine", "des", "--no-progress", "--yes"]) == 130
