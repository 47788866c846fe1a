"""The ``trialsim`` command: outputs, overrides and one-line errors with exit status 2."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

import sim.runs.dispatch as dispatch
import sim.runs.runner as runner
from sim.calibration import CalibrationError, CalibrationTargets, calibrate
from sim.calibration.benchmarks import LISTING
from sim.calibration.errors import Message, named
from sim.calibration.messages import NOT_CONFIRMED, PFS_LANDMARK
from sim.cli import build_parser, main
from sim.cli.options import FLAGS, flag_message
from sim.runs.folder import summary_document
from sim.runs.sweep import CellError, InputError, build_cells, oc_grid
from sim.scenario import ScenarioError, apply_overrides, builtin_scenarios, load_scenario, scenario_path
from sim.scenario.variants import resolved_scenario
from sim.stats.designs import simon_characteristics


def test_run_writes_summary_and_tables(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    status = main(["run", "--replicates", "30", "--seed", "5", "--out", str(out), "--keep-patients",
                   "--set", "efficacy.orr=0.2", "--no-progress"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Power: P(reject H0)" in printed and "MCSE" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 <= summary["power"]["estimate"] <= 1.0
    assert summary["power"]["mcse"] > 0
    assert summary["replicates"] == 30 and summary["overrides"] == ["efficacy.orr=0.2"]
    assert summary["orr"]["true"] == 0.2
    for name in ("last_patient_in", "primary_cutoff", "final_cutoff"):
        for q in ("q10", "q50", "q90"):
            entry = summary["timeline"][name][q]
            assert len(entry["date"]) == 10 and entry["date"][4] == "-"
            assert entry["mcse_days"] >= 0
    for key in ("mean", "bias", "median_ci_width", "coverage"):
        assert "estimate" in summary["orr"][key]
    replicates = pd.read_parquet(out / "replicates.parquet")
    assert len(replicates) == 30
    assert {"responders", "n_analysed", "orr", "reject_h0", "enrollment_complete_date"} <= set(replicates.columns)
    patients = pd.read_parquet(out / "patients.parquet")
    assert set(patients["cutoff"]) == {"primary", "final"}
    assert set(patients["replicate"]) == set(range(30))


def test_rerun_into_the_same_folder_resumes(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    assert main(["run", "--replicates", "12", "--chunk-size", "4", "--out", str(out), "--no-progress"]) == 0
    first = pd.read_parquet(out / "replicates.parquet")
    (out / "chunks" / "chunk-000000004-000000008.parquet").unlink()
    calls = []
    real = dispatch.run_chunk
    monkeypatch.setattr(dispatch, "run_chunk", lambda plan, start, stop: calls.append((start, stop)) or real(plan, start, stop))
    assert main(["run", "--replicates", "12", "--chunk-size", "4", "--out", str(out), "--no-progress"]) == 0
    assert calls == [(4, 8)]
    pd.testing.assert_frame_equal(first, pd.read_parquet(out / "replicates.parquet"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--set", "efficacy.orr=1.3"], "trialsim: error: efficacy.orr must be a probability in [0, 1], got 1.3"),
        (["run", "--replicates", "0"], "trialsim: error: argument --replicates: must be a whole number from 1 to 10000000, got 0"),
        (["run", "--jobs", "0"], "trialsim: error: argument --jobs: must be a number of workers from 1 to 256, or -1 for all cores, got 0"),
        (["run", "nowhere.toml"], "trialsim: error: scenario 'nowhere.toml' is neither a file nor a shipped scenario (base, optimistic, pessimistic, slow_recruitment)"),
        (["run", "--set", "efficacy.orr"], "trialsim: error: --set expects dotted.path=value, got 'efficacy.orr'"),
    ],
)
def test_bad_input_is_one_line_with_status_2(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == message + "\n"


def test_console_entry_point_has_no_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", "--set", "trial.sample_size=-1"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "trialsim: error: trial.sample_size must be a whole number in [1, 10000], got -1"
    assert "Traceback" not in proc.stderr


def test_oc_reports_type_one_error_and_grid(tmp_path, capsys) -> None:
    out = tmp_path / "oc.csv"
    assert main(["oc", "--replicates", "40", "--orr", "0.2,0.3", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Type I error at p0 = 0.1:" in printed
    assert printed.startswith("Scenario base (") and "\nSeed 20251115; no overrides\nH0: ORR <= 0.1, one-sided alpha 0.05\n" in printed
    table = pd.read_csv(out)
    assert table["efficacy.orr"].tolist() == [0.1, 0.2, 0.3]
    assert table["is_null"].tolist() == [True, False, False]
    assert {"power", "power_mcse", "early_stop", "n_enrolled", "decision_months_mcse"} <= set(table.columns)
    # common random numbers: a higher true ORR never lowers the estimated power here
    assert table["power"].is_monotonic_increasing


def test_sweep_two_way_grid(capsys) -> None:
    argv = ["sweep", "--replicates", "20", "--vary", "recruitment.sites.0.screened_per_month=1.5,3",
            "--vary", "efficacy.orr=0.1,0.25", "--json", "--no-progress"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4
    assert {(r["recruitment.sites.0.screened_per_month"], r["efficacy.orr"]) for r in rows} == {
        ("1.5", "0.1"), ("1.5", "0.25"), ("3", "0.1"), ("3", "0.25")}
    fast = [r for r in rows if r["recruitment.sites.0.screened_per_month"] == "3"]
    slow = [r for r in rows if r["recruitment.sites.0.screened_per_month"] == "1.5"]
    assert min(r["enrollment_complete"] for r in fast) > max(r["enrollment_complete"] for r in slow)


def test_design_command(capsys) -> None:
    assert main(["design", "--p0", "0.10", "--p1", "0.30", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    optimal = doc["designs"]["simon_optimal"]
    assert (optimal["r1"], optimal["n1"], optimal["r"], optimal["n"]) == (1, 10, 5, 29)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["oc", "--orr", "0.4:0.1:0.1"], "trialsim: error: --orr must be start:stop:step with step > 0 or a comma list, got '0.4:0.1:0.1'"),
        (["sweep", "--vary", "efficacy.orr"], "trialsim: error: --vary expects dotted.path=value1,value2,..., got 'efficacy.orr'"),
        (["sweep", "--vary", "efficacy.orr=0.1,1.5"], "trialsim: error: in the cell efficacy.orr=1.5: efficacy.orr must be a probability in [0, 1], got 1.5"),
        (["design", "--p0", "0.3", "--p1", "0.2"], "trialsim: error: --p1 must be greater than --p0 (0.3), got 0.2"),
        (["run", "--mcse-target", "0.7"], "trialsim: error: mcse_target must be in (0, 0.5), got 0.7"),
        (["oc", "--orr", "0.05:inf:0.05"], "trialsim: error: --orr must be start:stop:step with step > 0 or a comma list, got '0.05:inf:0.05'"),
        (["oc", "--orr", "0:0.1:1e-9"], "trialsim: error: --orr gives more than 200 values; use a coarser step"),
    ],
)
def test_grid_and_design_input_errors(argv, message, capsys) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == message + "\n"


# --- one CLI package, one convention --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["run"], "sim.cli.simulate"),
        (["oc"], "sim.cli.simulate"),
        (["sweep", "--vary", "efficacy.orr=0.1"], "sim.cli.simulate"),
        (["design", "--p0", "0.1", "--p1", "0.3"], "sim.cli.design"),
        (["benchmarks"], "sim.cli.calibrate"),
        (["calibrate"], "sim.cli.calibrate"),
    ],
)
def test_every_subcommand_registers_a_handler(argv, module) -> None:
    args = build_parser().parse_args(argv)
    assert args.handler.__module__ == module and args.handler.__name__ == f"handle_{argv[0]}"
    assert not hasattr(args, "func")


def test_console_script_is_sim_cli_main() -> None:
    (script,) = entry_points(group="console_scripts").select(name="trialsim")
    assert script.value == "sim.cli:main"
    assert script.load() is main


def test_design_table(capsys) -> None:
    assert main(["design", "--p0", "0.10", "--p1", "0.30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line[:15].strip(): line[15:].split() for line in lines if line.startswith(("single", "Simon"))}
    assert rows["single-stage"] == ["-", "5/25", "-", "-", "25.00", "25.00", "0.0334", "0.8065"]
    assert rows["Simon optimal"] == ["1/10", "5/29", "0.7361", "0.1493", "15.01", "26.16", "0.0471", "0.8051"]
    assert rows["Simon minimax"] == ["1/15", "5/25", "0.5490", "0.0353", "19.51", "24.65", "0.0328", "0.8017"]
    assert lines[0] == "Designs for H0: ORR <= 0.1 against H1: ORR = 0.3"


def test_design_json_records(capsys) -> None:
    argv = ["design", "--p0", "0.10", "--p1", "0.30", "--alpha", "0.05", "--power", "0.80", "--nmax", "60", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["nmax"] == 60
    single, optimal, minimax = (out["designs"][k] for k in ("single_stage", "simon_optimal", "simon_minimax"))
    assert (single["n"], single["r"], single["reject_if_at_least"]) == (25, 5, 6)
    assert single["alpha"] == pytest.approx(stats.binom.sf(5, 25, 0.10), abs=1e-15)
    assert single["power"] == pytest.approx(stats.binom.sf(5, 25, 0.30), abs=1e-15)
    assert (optimal["r1"], optimal["n1"], optimal["r"], optimal["n"]) == (1, 10, 5, 29)
    assert (minimax["r1"], minimax["n1"], minimax["r"], minimax["n"]) == (1, 15, 5, 25)
    pet0, en0, size = simon_characteristics(1, 10, 5, 29, 0.10)
    assert (optimal["pet_p0"], optimal["en_p0"], optimal["alpha"]) == pytest.approx((pet0, en0, size), abs=1e-12)
    assert optimal["pet_p0"] == pytest.approx(0.7360989291, abs=1e-10)
    assert minimax["en_p0"] == pytest.approx(19.50956981080936, abs=1e-10)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--p0", "0.30", "--p1", "0.10"], "--p1 must be greater than --p0 (0.3), got 0.1"),
        (["--p0", "0.10", "--p1", "0.30", "--alpha", "1.5"], "--alpha must be a probability strictly between 0 and 1, got 1.5"),
        (["--p0", "0", "--p1", "0.30"], "--p0 must be a probability strictly between 0 and 1, got 0.0"),
        (["--p0", "abc", "--p1", "0.30"], "argument --p0: invalid float value: 'abc'"),
        (["--p0", "0.10", "--p1", "0.30", "--power", "0.01"], "--power must be greater than --alpha (0.05), got 0.01"),
        (["--p0", "0.10", "--p1", "0.30", "--nmax", "1"], "--nmax must be an integer from 2 to 500, got 1"),
        (
            ["--p0", "0.10", "--p1", "0.30", "--nmax", "20"],
            "--nmax 20 is too small: no design with n <= 20 reaches power 0.8 at p1=0.3; allowed: a larger --nmax (at most 500)",
        ),
    ],
)
def test_design_bad_input_is_one_line_naming_the_option(argv, message, capsys) -> None:
    assert main(["design", *argv]) == 2
    assert capsys.readouterr().err == f"trialsim: error: {message}\n"


# --- library parameters shown as options ----------------------------------------------------------


def test_flags_name_real_library_parameters() -> None:
    """Every key of the table is a parameter of a library function or record (or a phrase a message uses)."""
    parameters = {f.name for f in dataclasses.fields(CalibrationTargets)}
    for function in (calibrate, apply_overrides, build_cells, oc_grid):
        parameters |= set(inspect.signature(function).parameters)
    assert set(FLAGS) - {PFS_LANDMARK, NOT_CONFIRMED, LISTING} <= parameters
    assert FLAGS["cohort_size"] == "--cohort" and FLAGS["overrides"] == "--set" and FLAGS["source_n"] == "--n"


def test_a_python_caller_sees_parameters_and_the_cli_sees_options() -> None:
    with pytest.raises(CalibrationError) as info:
        CalibrationTargets(scan_weeks=6, orr=0.3, dcr=0.2, median_pfs_months=4.0, median_os_months=4.0)
    assert str(info.value) == (
        "dcr (0.2) must not be below orr (0.3): responders are part of disease control; "
        "median_os_months (4) must exceed median_pfs_months (4): OS includes PFS"
    )
    assert flag_message(info.value) == (
        "--dcr (0.2) must not be below --orr (0.3): responders are part of disease control; "
        "--median-os (4) must exceed --median-pfs (4): OS includes PFS"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario("base", ["efficacy.orr"])
    assert str(info.value) == "overrides expects dotted.path=value, got 'efficacy.orr'"
    assert flag_message(info.value) == "--set expects dotted.path=value, got 'efficacy.orr'"


def test_only_marked_names_are_respelled() -> None:
    """'family' and 'tolerance' as plain words stay; as marked parameter names they become options."""
    text = Message(f"a PFS of the weibull family (tolerance 0.01); another {named('family')} or {named('tolerance')} 0.02")
    assert text == "a PFS of the weibull family (tolerance 0.01); another family or tolerance 0.02"
    assert text.spelled(FLAGS) == "a PFS of the weibull family (tolerance 0.01); another --family or --tolerance 0.02"
    assert flag_message(CalibrationError(str(text))) == str(text)  # unmarked text is shown as it is


def test_grid_errors_name_their_parameter_then_the_option() -> None:
    with pytest.raises(CellError) as cell:
        build_cells("base", [], {"recruitment.sites.4.name": ["'a'"]})
    assert str(cell.value) == (
        "in the cell recruitment.sites.4.name='a': overrides recruitment.sites.4.name: "
        "recruitment.sites.4 must be a list index below 1"
    )
    assert flag_message(cell.value) == (
        "in the cell recruitment.sites.4.name='a': --set recruitment.sites.4.name: "
        "recruitment.sites.4 must be a list index below 1"
    )
    with pytest.raises(InputError) as big:
        build_cells("base", [], {"efficacy.orr": [str(i) for i in range(15)], "trial.sample_size": [str(i) for i in range(15)]})
    assert str(big.value) == "axes gives more than 200 cells; use fewer values"
    assert flag_message(big.value) == "--vary gives more than 200 cells; use fewer values"


# --- what a run says it ran ------------------------------------------------------------------------


def test_each_shipped_scenario_prints_its_own_heading(capsys) -> None:
    headings = {}
    for name in sorted(builtin_scenarios()):
        assert main(["run", name, "--replicates", "2", "--seed", "9", "--no-progress"]) == 0
        headings[name] = capsys.readouterr().out.split("\n\n")[0].splitlines()
    assert len({tuple(lines) for lines in headings.values()}) == 4
    for name, (source, settings, hypothesis) in headings.items():
        scenario = load_scenario(name)
        assert source.startswith(f"Scenario {name} (") and f"{name}.toml)" in source and scenario.trial.name in source
        assert settings == "Seed 9; engine vector; no overrides"  # auto chose the vector engine, and says so
        assert hypothesis == f"H0: ORR <= {scenario.analysis.p0:g}, one-sided alpha {scenario.analysis.alpha:g}; 2 replicates"


def test_the_heading_names_a_scenario_file_and_the_overrides(tmp_path, capsys) -> None:
    file = tmp_path / "mine.toml"
    file.write_text(scenario_path("base").read_text().replace("p0 = 0.10", "p0 = 0.12").replace("alpha = 0.05", "alpha = 0.1"))
    argv = ["--replicates", "2", "--seed", "4", "--set", "efficacy.orr=0.2", "--set", "trial.sample_size=30", "--no-progress"]
    assert main(["run", str(file), *argv]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        f"Scenario {file}: {load_scenario('base').trial.name}",
        "Seed 4; engine vector; overrides efficacy.orr=0.2, trial.sample_size=30",
        "H0: ORR <= 0.12, one-sided alpha 0.1; 2 replicates",
    ]
    assert main(["sweep", str(file), "--vary", "efficacy.orr=0.2", *argv]) == 0
    assert capsys.readouterr().out.splitlines()[1:4] == [
        "Seed 4; overrides efficacy.orr=0.2, trial.sample_size=30", "H0: ORR <= 0.12, one-sided alpha 0.1", ""]
    assert main(["oc", str(file), "--orr", "0.2", *argv]) == 0
    assert capsys.readouterr().out.splitlines()[2] == "H0: ORR <= 0.12, one-sided alpha 0.1"


def test_run_json_prints_the_summary_document(tmp_path, capsys) -> None:
    argv = ["run", "pessimistic", "--replicates", "6", "--seed", "2", "--chunk-size", "4", "--set", "efficacy.orr=0.12", "--no-progress"]
    assert main([*argv, "--json", "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert captured.err.startswith("\nWrote ")  # the files written go to stderr, so stdout stays JSON
    assert printed == json.loads((tmp_path / "run" / "summary.json").read_text())
    assert printed["chunk_size"] == 4 and printed["replicates"] == 6 and printed["seed"] == 2
    scenario = load_scenario("pessimistic", ["efficacy.orr=0.12"])
    assert printed["resolved_scenario"] == resolved_scenario(scenario, iso_dates=True)
    assert printed["resolved_scenario"]["efficacy"]["orr"] == 0.12
    assert printed["resolved_scenario"]["trial"]["recruitment_close"] == scenario.trial.recruitment_close.isoformat()
    assert main([*argv, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in again.items() if k != "command"} == {k: v for k, v in printed.items() if k != "command"}


def test_summary_json_records_the_default_chunk_size(tmp_path, capsys) -> None:
    assert main(["run", "--replicates", "3", "--no-progress", "--out", str(tmp_path / "r")]) == 0
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["chunk_size"] == runner.DEFAULT_CHUNK


SIMON = [
    "monitoring.rule='simon'",
    "monitoring.stage1_patients=10",
    "monitoring.stage1_max_responders=1",
    "monitoring.final_max_responders=5",
]


@pytest.mark.parametrize(
    ("engine", "settings", "used"),
    [("des", [], "des"), ("auto", [], "vector"), ("auto", ["efficacy.orr_prior={beta=[3, 12]}"], "vector")],
)
def test_summary_json_names_the_engine_that_simulated(tmp_path, capsys, engine, settings, used) -> None:
    """With auto, the engine it chose for the scenario: vector for every run the vector engine can simulate."""
    overrides = [arg for setting in settings for arg in ("--set", setting)]
    argv = ["run", "--replicates", "3", "--no-progress", "--engine", engine, *overrides, "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["engine"] == used


def test_every_summary_json_key_is_documented() -> None:
    reference = (Path(__file__).resolve().parent.parent / "docs" / "reference.md").read_text()
    section = reference.split("## `summary.json`", 1)[1]
    result = runner.run("base", replicates=2, seed=1, progress=False)
    for key in summary_document(result, command="trialsim run"):
        assert f"`{key}`" in section or f"`{key}." in section, key
