"""The ``trialsim`` command: outputs, overrides and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

import sim.runner as runner
from sim.cli import main


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
    real = runner._run_chunk
    monkeypatch.setattr(runner, "_run_chunk", lambda *a: calls.append(a[2:4]) or real(*a))
    assert main(["run", "--replicates", "12", "--chunk-size", "4", "--out", str(out), "--no-progress"]) == 0
    assert calls == [(4, 8)]
    pd.testing.assert_frame_equal(first, pd.read_parquet(out / "replicates.parquet"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--set", "efficacy.orr=1.3"], "trialsim: error: efficacy.orr must be a probability in [0, 1], got 1.3"),
        (["run", "--replicates", "0"], "trialsim: error: argument --replicates: must be a whole number of at least 1, got 0"),
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
