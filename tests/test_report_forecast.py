"""The report with a forecast: the observed enrollment line, the fan continuing from it, and its files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sim.cli import main

EXAMPLE = str(Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv")


def test_the_report_shows_the_observed_enrollment_and_the_forecast_fan(tmp_path, capsys) -> None:
    out = tmp_path / "report"
    words = ["report", "base", "--observed", EXAMPLE, "--as-of", "2026-11-15", "--replicates", "40"]
    assert main([*words, "--oc-replicates", "10", "--orr", "0.1,0.2", "--out", str(out), "--no-progress"]) == 0
    page = (out / "index.html").read_text()
    assert '<section id="forecast">' in page and 'id="figure-forecast_enrollment"' in page
    assert page.index('id="forecast"') < page.index('id="recruitment"')
    fan = pd.read_csv(out / "data" / "forecast_enrollment.csv", parse_dates=["date"])
    observed = pd.read_csv(EXAMPLE, parse_dates=["enrollment_date"])
    past = fan["date"] <= "2026-11-15"
    expected = [int((observed["enrollment_date"] <= day).sum()) for day in fan.loc[past, "date"]]
    assert fan.loc[past, "observed"].astype(int).tolist() == expected
    assert fan.loc[past, "enrolled_q50"].isna().all() and fan.loc[~past, "observed"].isna().all()
    after = fan.loc[~past]
    assert (after["enrolled_q10"] >= len(observed)).all()  # every future keeps the patients already enrolled
    assert np.all(np.diff(after["enrolled_q50"].to_numpy()) >= 0)
    document = json.loads((out / "runs" / "forecast" / "forecast.json").read_text())
    assert document["observed"]["n_enrolled"] == len(observed)
    assert f"{document['p_enrollment_complete_by_close']['estimate']:.0%}" in page


def test_observed_needs_its_date_and_scenarios_to_simulate(tmp_path, capsys) -> None:
    assert main(["report", "--observed", EXAMPLE, "--out", str(tmp_path / "r")]) == 2
    assert "--observed and --as-of go together" in capsys.readouterr().err
    words = ["report", "--from", str(tmp_path), "--observed", EXAMPLE, "--as-of", "2026-11-15", "--out", str(tmp_path / "r")]
    assert main(words) == 2
    assert "cannot be drawn --from saved folders" in capsys.readouterr().err
