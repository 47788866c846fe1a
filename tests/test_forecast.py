"""The forecast against exact results: the unconditional run, the negative binomial, and its own calibration."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.engines.des import simulate_trial
from sim.forecast import ObservedPatient, ObservedTrial, parse_observed
from sim.forecast.orr_posterior import OrrPosterior
from sim.forecast.result import conditional_model, date_quantile, forecast
from sim.forecast.state import KnownRateWarning, site_posteriors
from sim.forecast.synthetic import observed_frame
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds, run
from sim.scenario import load_scenario
from sim.stats.beta_mixture import BetaMixture
from sim.units import DAYS_PER_MONTH
from tests.replicate_analysis import analyse_replicate, response_test

NOTHING = ObservedTrial((), outcomes_known=False)


def _model(*overrides: str) -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", list(overrides)))


def test_a_forecast_before_opening_with_nobody_enrolled_is_the_run_itself() -> None:
    """Nothing observed and nothing to learn: the same seed gives the same replicates, bit for bit."""
    model = _model()
    conditional = conditional_model(model, NOTHING, dt.date(2025, 11, 14))
    plain = run(model, replicates=40, seed=3, progress=False)
    started = run(conditional, replicates=40, seed=3, progress=False)
    pd.testing.assert_frame_equal(plain.replicates, started.replicates)


def test_a_forecast_on_the_opening_day_differs_only_in_the_screening_already_past() -> None:
    """As-of the opening day: screen failures of that day are in the past, everything else is the run."""
    model = _model()
    conditional = conditional_model(model, NOTHING, dt.date(2025, 11, 15))
    plain = run(model, replicates=40, seed=5, progress=False).replicates
    started = run(conditional, replicates=40, seed=5, progress=False).replicates
    screening = ["n_screened", "n_screen_failed"]
    pd.testing.assert_frame_equal(plain.drop(columns=screening), started.drop(columns=screening))
    assert (started["n_screened"] <= plain["n_screened"]).all()


# One site at a constant rate, no screen failure or screening delay: enrollments are the arrivals.
SIMPLE = (
    "recruitment.periods=[]",
    "recruitment.screen_failure_probability=0.0",
    "recruitment.screening_days=[0, 0]",
    'recruitment.sites=[{name = "Lead centre", activation = 2025-11-15, screened_per_month = 1.5, '
    "ramp_up_months = 0.0}]",
    "recruitment.rate_cv=0.4",
)
AS_OF = dt.date(2026, 11, 15)


def _enrolled(n: int, first: dt.date = dt.date(2025, 12, 1)) -> ObservedTrial:
    """``n`` patients enrolled every ten days from ``first``, outcomes unknown."""
    patients = tuple(
        ObservedPatient(
            row=i + 1,
            patient_id=f"X{i}",
            site="Lead centre",
            enrollment_date=first + dt.timedelta(days=10 * i),
            first_dose_date=first + dt.timedelta(days=10 * i + 3),
        )
        for i in range(n)
    )
    return ObservedTrial(patients, outcomes_known=False)


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_enrollment_forecast_is_the_negative_binomial_posterior_predictive(engine: str) -> None:
    """P(complete by close) and the completion-date quantiles against the gamma-Poisson closed form (4 MCSE)."""
    model = _model(*SIMPLE)
    n = 20
    observed = _enrolled(n)
    conditional = conditional_model(model, observed, AS_OF)
    result = run(conditional, replicates=3000, seed=11, engine=engine, progress=False)
    # the posterior of the rate multiplier: Gamma(k + n, k + lambda * exposure), k = 1 / cv^2
    k = 1.0 / 0.4**2
    per_day = 1.5 / DAYS_PER_MONTH
    start = model.open_day
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    shape, rate = k + n, k + per_day * (as_of_day - start)
    still = model.scenario.trial.sample_size - n

    def p_done_by(day: float) -> float:
        """P(the remaining patients all arrive before ``day``): the negative binomial tail."""
        mean_per_unit = per_day * (day - as_of_day)
        return float(stats.nbinom.sf(still - 1, shape, rate / (rate + mean_per_unit)))

    done = ~result.replicates["closed_short"].to_numpy(dtype=bool)
    expected = p_done_by(model.close_day)
    se = math.sqrt(expected * (1 - expected) / done.size)
    assert abs(done.mean() - expected) <= 4 * se
    days = (
        pd.to_datetime(result.replicates["enrollment_complete_date"]) - pd.Timestamp(model.scenario.trial.study_start)
    ).dt.days
    for q in (0.1, 0.5):
        value, mcse = date_quantile(days.to_numpy(dtype=float), q)
        # the q quantile of the completion date: the first whole day by whose end P(done) >= q
        exact = next(d for d in range(int(as_of_day), int(model.close_day) + 1) if p_done_by(d + 1.0) >= q)
        assert abs(value - exact) <= 4 * mcse + 1.0  # the date is the floor of a continuous time


def test_site_posterior_is_the_conjugate_update_and_a_known_rate_warns() -> None:
    model = _model(*SIMPLE)
    (site,) = site_posteriors(model, _enrolled(20), AS_OF, vague=False)
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    assert site.shape == pytest.approx(1 / 0.16 + 20)
    assert site.rate == pytest.approx(1 / 0.16 + 1.5 / DAYS_PER_MONTH * (as_of_day - model.open_day), rel=1e-12)
    with pytest.warns(KnownRateWarning, match="rate_cv is 0"):
        (known,) = site_posteriors(_model(*SIMPLE, "recruitment.rate_cv=0.0"), _enrolled(20), AS_OF, vague=False)
    assert math.isinf(known.shape) and known.rate_per_month(0.05) == known.rate_per_month(0.95) == 1.5
    (vague,) = site_posteriors(_model(*SIMPLE, "recruitment.rate_cv=0.0"), _enrolled(20), AS_OF, vague=True)
    assert vague.shape == pytest.approx(20.5)
    assert vague.rate_per_month() == pytest.approx(1.5 * 20.5 / (1.5 / DAYS_PER_MONTH * (as_of_day - model.open_day)))


def test_exposure_counts_only_patients_past_screening_and_the_calendar() -> None:
    """With a screening delay and screen failures the exposure is the thinned integral, computed by hand here."""
    model = _model(*SIMPLE[:-3], "recruitment.screen_failure_probability=0.25", "recruitment.screening_days=[10, 19]")
    (site,) = site_posteriors(model, _enrolled(5), AS_OF, vague=False)
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    per_day = model.scenario.recruitment.sites[0].screened_per_month / DAYS_PER_MONTH
    grid = np.arange(model.open_day, as_of_day, 1e-3) + 5e-4
    passed = np.mean([(grid + d < as_of_day) for d in range(10, 20)], axis=0)
    ramp = np.clip((grid - model.open_day) / (2.0 * DAYS_PER_MONTH), 0.0, 1.0)  # the base site's two-month ramp
    by_hand = float(np.sum(per_day * model.calendar.factors_at(grid) * ramp * 0.75 * passed) * 1e-3)
    assert site.exposure == pytest.approx(by_hand, rel=1e-4)


def _truth(model: TrialModel, history) -> tuple[bool, int, bool]:
    """What the synthetic trial really did: success, responders at the primary analysis, enrollment complete."""
    row, _, _ = analyse_replicate(history, model, response_test(model.scenario.analysis))
    return bool(row["reject_h0"]), int(row["responders"]), not bool(row["closed_short"])


def test_forecasts_of_trials_the_model_simulated_are_calibrated() -> None:
    """E[truth - forecast | data] = 0 when the conditioning is exact: checked on 80 synthetic trials.

    Each synthetic trial is cut at the as-of date and forecast; the gap between what it then did
    and the forecast's mean has mean zero, and is uncorrelated with the responders seen by the
    as-of date (a forecast that ignored them would fail the second check), each within 4 SE.
    """
    model = _model()
    gaps, seen = [], []
    for trial in range(80):
        history = simulate_trial(model, replicate_seeds(90_000, trial, trial + 1)[0])
        frame = observed_frame(history, model, AS_OF)
        observed = parse_observed(frame, model.scenario, AS_OF, "synthetic")
        conditional = conditional_model(model, observed, AS_OF)
        table = run(conditional, replicates=25, seed=trial, progress=False).replicates
        success, responders, complete = _truth(model, history)
        gaps.append(
            (
                success - table["reject_h0"].mean(),
                responders - table["responders"].mean(),
                complete - (~table["closed_short"]).mean(),
            )
        )
        seen.append((frame["confirmed"] == "true").sum() + 0.5 * (frame["best_response"] == "PR").sum())
    gap = np.array(gaps)
    centred = np.array(seen, dtype=float) - np.mean(seen)
    for column in range(3):
        assert abs(gap[:, column].mean()) <= 4 * gap[:, column].std(ddof=1) / math.sqrt(len(gap))
        product = gap[:, column] * centred
        assert abs(product.mean()) <= 4 * product.std(ddof=1) / math.sqrt(len(gap))


def test_the_forecast_runs_both_analyses_and_reports_the_posterior() -> None:
    model = _model()
    frame = pd.read_csv("scenarios/observed_made_up.csv", dtype=str, keep_default_na=False)
    observed = parse_observed(frame, model.scenario, AS_OF, "example")
    result = forecast(model, observed, AS_OF, replicates=60, seed=2, progress=False)
    responders = (frame["confirmed"] == "true").sum()
    settled = ((frame["confirmed"] != "true") & ((frame["progression_date"] != "") | (frame["death_date"] != ""))).sum()
    assert result.orr_evidence == (responders, settled)
    # every patient's status enters the ORR's likelihood, settled or not
    assert isinstance(result.orr_posterior, OrrPosterior) and result.orr_posterior.patients == len(frame)
    assert result.orr_posterior.prior == BetaMixture.beta(1.5, 8.5)  # the default: centred on efficacy.orr
    assert result.conditional.replicates["n_enrolled"].min() >= len(frame)
    # the patients already enrolled keep their enrollment dates in every replicate
    assert (
        pd.to_datetime(result.conditional.replicates["first_patient_in_date"]) == frame["enrollment_date"].min()
    ).all()
