"""Screening counts in a forecast: the rate learns from every screened patient, pending patients enroll after the as-of date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.forecast import ObservedError, parse_observed, parse_screening
from sim.forecast.result import conditional_model
from sim.forecast.state import site_posteriors
from sim.model.recruitment import pending_screening_ends, site_rates
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.units import DAYS_PER_MONTH

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"
AS_OF = dt.date(2026, 11, 15)


def _observed(*overrides: str):
    scenario = load_scenario("base", list(overrides))
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    return scenario, parse_observed(frame, scenario, AS_OF, "example")


def _counts(scenario, observed, screened: str, failed: str, site: str = "Lead centre"):
    frame = pd.DataFrame({"site": [site], "screened": [screened], "screen_failed": [failed]})
    return parse_screening(frame, scenario, observed, "screening file s.csv")


def test_a_site_with_counts_learns_from_every_screened_patient() -> None:
    scenario, observed = _observed("recruitment.periods=[]", "recruitment.sites.0.ramp_up_months=0.0")
    model = TrialModel.from_scenario(scenario)
    (site,) = site_posteriors(model, observed, AS_OF, vague=False, screening=_counts(scenario, observed, "25", "8"))
    as_of_day = (AS_OF - scenario.trial.study_start).days + 1.0
    k = 1 / 0.3**2
    assert site.shape == pytest.approx(k + 25)
    assert site.rate == pytest.approx(k + 2.2 / DAYS_PER_MONTH * (as_of_day - model.open_day), rel=1e-12)


@pytest.mark.parametrize(
    ("screened", "failed", "site", "message"),
    [
        ("10", "3", "Lead centre", "row 1 (Lead centre), column screened: 10 screened cannot hold 3 screen failures"),
        ("2O", "3", "Lead centre", "column screened: '2O' is not a whole number"),
        ("20", "-1", "Lead centre", "column screen_failed: '-1' is not a whole number"),
        ("20", "3", "Elsewhere", "column site: 'Elsewhere' is not a site of the scenario; allowed: Lead centre"),
    ],
)
def test_bad_counts_are_named(screened, failed, site, message) -> None:
    scenario, observed = _observed()
    with pytest.raises(ObservedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _counts(scenario, observed, screened, failed, site)


def test_pending_patients_consented_before_and_finish_screening_after_the_as_of_date() -> None:
    scenario = load_scenario("base")
    model = TrialModel.from_scenario(scenario)
    rates = site_rates(
        scenario.recruitment.sites[0], 0, scenario.trial.study_start, model.open_day, 0.0, np.random.default_rng(0)
    )
    as_of_day = (AS_OF - scenario.trial.study_start).days + 1.0
    consent, ends = pending_screening_ends(rates, model.calendar, as_of_day, (7, 28), 5000, np.random.default_rng(1))
    assert consent.size == ends.size == 5000
    assert (consent < as_of_day).all() and (consent >= as_of_day - 28).all()
    assert (ends >= as_of_day).all() and (ends - consent >= 7).all() and (ends - consent <= 28).all()
    # P(still in screening | consent t) grows with t: the later half of the window holds more of them
    assert (consent > as_of_day - 14).mean() > 0.6


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_patients_in_screening_enroll_after_the_as_of_date_and_failures_follow_the_posterior(engine: str) -> None:
    """A site that screens almost no one after the as-of date: its pending patients are the ones who enroll."""
    scenario, observed = _observed("recruitment.sites.0.screened_per_month=0.001", "recruitment.rate_cv=0.0")
    counts = _counts(scenario, observed, "20", "5")  # 20 - 5 - 12 = 3 still in screening
    conditional = conditional_model(TrialModel.from_scenario(scenario), observed, AS_OF, screening=counts)
    assert conditional.start is not None and conditional.start.pending.tolist() == [3]
    assert conditional.start.screen_failure == pytest.approx((0.32 * 20 + 5, 0.68 * 20 + 15))
    table = run(conditional, replicates=40, seed=1, engine=engine, progress=False).replicates
    assert (table["n_enrolled"] >= 15).all() and (table["n_enrolled"] == 15).mean() > 0.9
    last_in = pd.to_datetime(table["last_patient_in_date"])
    assert ((last_in > pd.Timestamp(AS_OF)) & (last_in <= pd.Timestamp(AS_OF) + pd.Timedelta(days=28))).mean() > 0.9
