"""Hazards learned from the observed patients: the conjugate Gamma update by hand, the draws, and their effect on the runs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from sim.distributions import Exponential
from sim.forecast import ObservedPatient, ObservedTrial
from sim.forecast.hazards import GammaRate, HazardPosterior, hazard_posterior
from sim.forecast.state import forecast_model, start_state
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.units import DAYS_PER_MONTH

AS_OF = dt.date(2026, 11, 15)
D = dt.date


def _patient(row: int, dose: dt.date, **outcomes) -> ObservedPatient:
    return ObservedPatient(row, f"H{row}", "Lead centre", dose - dt.timedelta(days=2), dose, **outcomes)


# dose, then what the file records
PATIENTS = [
    _patient(1, D(2026, 1, 5)),  # on treatment to the as-of date: 315 days, + 1 for the as-of day
    _patient(2, D(2026, 2, 2), best_response="SD", treatment_end_date=D(2026, 5, 1), treatment_end_reason="withdrawal"),
    _patient(
        3,
        D(2026, 3, 2),
        best_response="SD",
        progression_date=D(2026, 4, 13),  # the first scan, 42 days on
        last_scan_date=D(2026, 4, 13),
        treatment_end_date=D(2026, 4, 13),
        treatment_end_reason="progression",
        death_date=D(2026, 7, 1),
    ),
    _patient(
        4,
        D(2026, 4, 6),
        best_response="SD",
        progression_date=D(2026, 6, 29),  # the second scan, 84 days on
        last_scan_date=D(2026, 6, 29),
        treatment_end_date=D(2026, 6, 29),
        treatment_end_reason="progression",
    ),
]


def test_the_hazards_are_the_conjugate_update_computed_by_hand() -> None:
    model = TrialModel.from_scenario(load_scenario("base", ["forecast.learn_hazards=true"]))
    h = hazard_posterior(model, ObservedTrial(tuple(PATIENTS), outcomes_known=True), AS_OF)
    assert h is not None
    w = 24.0
    on_treatment = ((AS_OF - D(2026, 1, 5)).days + 1.0) + ((D(2026, 5, 1) - D(2026, 2, 2)).days + 0.5)
    on_treatment += (D(2026, 4, 13) - D(2026, 3, 2)).days + (D(2026, 6, 29) - D(2026, 4, 6)).days
    months = on_treatment / DAYS_PER_MONTH
    # 0.01 and 0.005 per month over 24 months are 0.24 and 0.12 events: the prior is worth 2, mean kept
    assert h.withdrawal == GammaRate(2 + 1, 2 / 0.01 + months, 1, pytest.approx(months))
    assert h.loss_to_follow_up == GammaRate(2 + 0, 2 / 0.005 + months, 0, pytest.approx(months))
    after = ((D(2026, 7, 1) - D(2026, 4, 13)).days + 0.5 + (AS_OF - D(2026, 6, 29)).days + 1.0) / DAYS_PER_MONTH
    pps = model.patients.post_progression_survival
    assert isinstance(pps, Exponential)
    law = h.post_progression_death
    k = max(pps.rate * w, 2.0)
    assert law is not None and law.events == 1 and law.months == pytest.approx(after)
    assert law.shape == pytest.approx(k + 1) and law.rate == pytest.approx(k / pps.rate + after)


def test_the_prior_keeps_the_scenario_rate_as_its_mean_and_at_least_two_events() -> None:
    """Gamma(0.24, 24) had its median near 0.0016 for a withdrawal rate of 0.01; Gamma(2, 200) has it near 0.0084."""
    model = TrialModel.from_scenario(load_scenario("base", ["forecast.learn_hazards=true"]))
    h = hazard_posterior(model, ObservedTrial((), outcomes_known=True), AS_OF)
    assert h is not None and h.withdrawal is not None
    assert h.withdrawal.mean() == pytest.approx(0.01)
    assert 0.5 * 0.01 < h.withdrawal.quantile(0.5) < 0.01


def test_time_after_progression_stops_at_the_end_of_survival_follow_up() -> None:
    """Follow-up of 3 months after treatment end: patient 4, progressed on 2026-06-29 and alive, is at risk 3 months,
    not to the as-of date (the model records no death after follow-up ends)."""
    model = TrialModel.from_scenario(
        load_scenario("base", ["forecast.learn_hazards=true", "schedule.survival_follow_up_months=3.0"])
    )
    h = hazard_posterior(model, ObservedTrial((PATIENTS[3],), outcomes_known=True), AS_OF)
    assert h is not None and h.post_progression_death is not None
    assert h.post_progression_death.months == pytest.approx(3.0)
    assert h.post_progression_death.events == 0


def test_each_replicate_draws_its_hazards_from_the_posteriors() -> None:
    model = TrialModel.from_scenario(load_scenario("base"))
    h = HazardPosterior(GammaRate(3.0, 150.0), None, GammaRate(20.0, 100.0))
    rng = np.random.default_rng(5)
    drawn = [h.draw(rng, model.patients) for _ in range(4000)]
    withdrawal = np.array([p.safety.withdrawal_per_month for p in drawn])
    assert abs(withdrawal.mean() - 3 / 150) <= 4 * math.sqrt(3 / 150**2 / withdrawal.size)
    assert all(p.safety.loss_to_follow_up_per_month == model.patients.safety.loss_to_follow_up_per_month for p in drawn)
    death = np.array([p.post_progression_survival.rate for p in drawn])
    assert abs(death.mean() - 0.2) <= 4 * math.sqrt(20 / 100**2 / death.size)


def test_a_higher_death_hazard_after_progression_moves_the_forecast_os() -> None:
    """The hazards reach the engine: a posterior death rate four times the scenario's shortens the forecast OS."""
    model = TrialModel.from_scenario(load_scenario("base"))
    observed = ObservedTrial((), outcomes_known=True)
    state = start_state(model, observed, dt.date(2025, 11, 14))
    pps = model.patients.post_progression_survival
    assert isinstance(pps, Exponential)
    faster = HazardPosterior(None, None, GammaRate(4 * pps.rate * 1e4, 1e4))
    base, learned = (
        run(forecast_model(model, s), replicates=150, seed=9, progress=False).replicates["median_os_months"]
        for s in (state, dataclasses.replace(state, hazards=faster))
    )
    gap = base.mean() - learned.mean()
    assert gap > 4 * math.hypot(base.std() / math.sqrt(base.size), learned.std() / math.sqrt(learned.size))


def test_the_forecast_reports_the_hazards_it_learned() -> None:
    import pandas as pd

    from sim.forecast import parse_observed
    from sim.forecast.result import forecast, forecast_document
    from sim.reports import forecast_text

    scenario = load_scenario("base", ["forecast.learn_hazards=true"])
    frame = pd.read_csv("scenarios/observed_made_up.csv", dtype=str, keep_default_na=False)
    observed = parse_observed(frame, scenario, AS_OF, "example")
    result = forecast(TrialModel.from_scenario(scenario), observed, AS_OF, replicates=20, seed=2, progress=False)
    hazards = forecast_document(result)["hazards"]
    assert set(hazards) == {"withdrawal", "loss_to_follow_up", "post_progression_death"}
    assert hazards["post_progression_death"]["events"] == 2  # MADE-UP-03 and -07 died after progression
    assert "post progression death hazard" in forecast_text(result)
    assert (
        forecast_document(
            forecast(
                TrialModel.from_scenario(load_scenario("base")), observed, AS_OF, replicates=5, seed=2, progress=False
            )
        )["hazards"]
        is None
    )
