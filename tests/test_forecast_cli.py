"""``trialsim forecast`` end to end: the JSON keys, the files it writes, resuming, and a grid of what-ifs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv")
# the command line is what these tests check, not the likelihood's precision (tests/test_forecast_likelihood*.py)
COARSE = ["--set", "forecast.likelihood_matches=50"]
BASE = ["forecast", "--observed", EXAMPLE, "--as-of", "2026-11-15", "--no-progress", "--seed", "4", *COARSE]


def test_json_gives_the_keys_a_committee_reads(capsys) -> None:
    assert main([*BASE, "--replicates", "40", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for key in (
        "p_enrollment_complete_by_close",
        "conditional_power",
        "predictive_probability",
        "predictive_probability_sceptical",
    ):
        assert set(doc[key]) == {"estimate", "mcse", "n"} and doc[key]["n"] == 40
    assert set(doc["enrollment_complete_date"]) == {"q10", "q50", "q90", "mcse_days"}
    (site,) = doc["sites"]
    assert site["name"] == "Lead centre" and site["enrolled"] == 12
    rate = site["posterior_rate_per_month"]
    assert rate["q05"] < rate["mean"] < rate["q95"]
    assert doc["observed"]["n_enrolled"] == 12 and doc["observed"]["outcomes_known"]
    assert doc["orr_prior"]["source"].startswith("default: centred on efficacy.orr")
    assert doc["orr_posterior"]["patients_in_likelihood"] == 12
    assert doc["orr_posterior"]["q05"] < doc["orr_posterior"]["mean"] < doc["orr_posterior"]["q95"]


def test_out_writes_the_forecast_and_both_runs_and_resumes(tmp_path, capsys) -> None:
    out = tmp_path / "f"
    assert main([*BASE, "--replicates", "20", "--chunk-size", "10", "--out", str(out)]) == 0
    first = json.loads((out / "forecast.json").read_text())
    assert (out / "forecast.txt").read_text().startswith("Scenario base")
    for run in ("conditional", "predictive", "sceptical"):
        assert (out / run / "replicates.parquet").exists()
    assert main([*BASE, "--replicates", "20", "--chunk-size", "10", "--out", str(out)]) == 0
    assert "resumed: reused 2 of 2 chunks" in capsys.readouterr().err
    assert json.loads((out / "forecast.json").read_text())["conditional_power"] == first["conditional_power"]


def test_vary_forecasts_what_ifs_side_by_side(tmp_path, capsys) -> None:
    out = tmp_path / "grid"
    words = [*BASE, "--replicates", "30", "--vary", "trial.recruitment_close=2027-11-30,2028-02-29", "--out", str(out)]
    assert main(words) == 0
    table = pd.read_csv(out / "forecast_grid.csv")
    assert list(table["trial.recruitment_close"]) == ["2027-11-30", "2028-02-29"]
    # three more months of recruitment make completion by the (later) close more likely
    assert table["p_enrollment_complete_by_close"].iloc[1] >= table["p_enrollment_complete_by_close"].iloc[0]
    assert {"conditional_power_mcse", "predictive_probability_mcse", "predictive_probability_sceptical_mcse"} <= set(
        table.columns
    )
