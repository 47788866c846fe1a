"""Forecasts on the vector engine: the SimPy engine's forecasts within 4 combined MCSE, its draws kept exactly.

Each engine runs on its own streams (independent seeds) from the same trial state: the made-up
file under the scenario's ORR and under an ORR law (each replicate its own ORR), with learned
hazards, with screening counts (patients in screening, the screen-failure Beta), after an
interim look held, with a look still waiting for its enrolled patients' responses (paused), with
replacement of non-evaluable patients, and with a site that opens late. The figures are the
summary's, which the forecast prints: P(enrollment complete by close), power (the conditional
power, or the predictive probability under an ORR law), the enrolled, the timeline quantiles
(completion, primary and final cutoffs) and the look's timing. The closed forms run on both
engines in the forecast tests (negative binomial completion, late site opening, recorded dates).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.summary import OperatingCharacteristics
from sim.engines.des import simulate_trial
from sim.engines.vector import SEED_BLOCK, simulate_histories
from sim.engines.vector.conditioned import conditioned_journeys
from sim.forecast import ObservedTrial, parse_observed, parse_screening
from sim.forecast.orr_posterior import NODES
from sim.forecast.pfs_posterior import PfsPosterior, hazard_nodes, prior_shape
from sim.forecast.state import forecast_model, start_state
from sim.forecast.synthetic import observed_frame
from sim.model.conditioning import status_at
from sim.model.trial_model import TrialModel, orr_ceiling
from sim.runs.runner import replicate_seeds
from sim.scenario import load_scenario
from sim.stats.beta_mixture import BetaMixture
from sim.stats.mcse import Estimate
from tests.helpers import assert_figures_agree

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"
AS_OF = dt.date(2026, 11, 15)
SIMPY_REPLICATES, VECTOR_REPLICATES = 500, 2000
SIMON = [
    'monitoring.rule="simon"',
    "monitoring.stage1_patients=10",
    "monitoring.stage1_max_responders=0",
    "monitoring.final_max_responders=5",
    "monitoring.pause_enrollment=true",
]
LATE_SITE = [
    "recruitment.sites=["
    '{name = "Lead centre", activation = 2025-11-15, screened_per_month = 2.2, ramp_up_months = 2.0}, '
    '{name = "Second", activation = 2027-01-01, screened_per_month = 1.5, ramp_up_months = 1.0}]',
    "forecast.activation_delay_days=120",
]
REPLACING = ["trial.replace_non_evaluable=true", "safety.withdrawal_per_month=0.15"]


def _made_up(overrides: list[str], **state: object) -> TrialModel:
    """The forecast model of the made-up file on the base scenario with ``overrides`` (``state``: start_state's)."""
    scenario = load_scenario("base", overrides)
    model = TrialModel.from_scenario(scenario)
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    observed = parse_observed(frame, scenario, AS_OF, "example")
    if state.pop("screened", False):
        counts = pd.DataFrame({"site": ["Lead centre"], "screened": ["20"], "screen_failed": ["6"]})
        state["screening"] = parse_screening(counts, scenario, observed, "screening")
    return forecast_model(model, start_state(model, observed, AS_OF, **state))  # type: ignore[arg-type]


def _synthetic(overrides: list[str], seed: int) -> TrialModel:
    """The forecast model of a trial the model simulated, cut at the as-of date (losses, patients not yet dosed)."""
    model = TrialModel.from_scenario(load_scenario("base", overrides))
    history = simulate_trial(model, replicate_seeds(seed, 0, 1)[0])
    observed = parse_observed(observed_frame(history, model, AS_OF), model.scenario, AS_OF, "synthetic")
    return forecast_model(model, start_state(model, observed, AS_OF))


def _with_orr_law(model: TrialModel) -> TrialModel:
    """The same start with each replicate's ORR drawn from Beta(4, 14): the predictive run's per-replicate models."""
    assert model.start is not None
    return dataclasses.replace(model, start=dataclasses.replace(model.start, orr_posterior=BetaMixture.beta(4, 14)))


def _with_pfs_law(model: TrialModel) -> TrialModel:
    """The same start with each replicate's PFS hazard ratio drawn from its prior (a likelihood of 1): the engines
    must apply the same law (its estimation is tests/test_forecast_pfs.py's)."""
    assert model.start is not None
    hazards = hazard_nodes(model)
    ceilings = np.array([orr_ceiling(model.scenario, float(h)) for h in hazards])
    ones = np.ones((model.start.n_enrolled, hazards.size, NODES))
    law = PfsPosterior(model.scenario, prior_shape(model), hazards, ceilings, ones)
    return dataclasses.replace(model, start=dataclasses.replace(model.start, pfs_hazard=law))


CASES = {
    "made_up": lambda: _made_up([]),
    "orr_law": lambda: _with_orr_law(_made_up([])),
    "learned_hazards": lambda: _made_up(["forecast.learn_hazards=true"]),
    "learned_pfs": lambda: _with_pfs_law(_made_up([])),
    "screening_counts": lambda: _made_up([], screened=True),
    "look_held": lambda: _made_up(SIMON[:-1] + ["monitoring.stage1_patients=7"], looks=[1]),
    "look_pending_paused": lambda: _made_up(SIMON),
    "replacement": lambda: _synthetic(REPLACING, 31),
    "late_site": lambda: _made_up(LATE_SITE),
}


def _figures(summary: OperatingCharacteristics) -> dict[str, Estimate]:
    figures = {
        "power": summary.power,
        "target_reached": summary.target_reached,
        "n_enrolled": summary.n_enrolled,
        "early_stop": summary.early_stop,
        "orr_mean": summary.orr_mean,
        "decision_months": summary.decision_months,
        "median_pfs": summary.median_pfs,
        "median_os": summary.median_os,
    }
    for name, quantiles in summary.timeline.items():
        figures.update({f"{name}_q{q:g}": estimate for q, estimate in quantiles.items()})
    if summary.monitored and summary.timing is not None:
        figures.update(summary.timing.columns())
    return figures


@pytest.mark.parametrize("case", sorted(CASES))
def test_vector_forecasts_agree_with_the_simpy_engine_within_four_combined_mcse(case: str) -> None:
    model = CASES[case]()
    des = sim.run(model, replicates=SIMPY_REPLICATES, seed=101, engine="des", progress=False)
    vector = sim.run(model, replicates=VECTOR_REPLICATES, seed=202, engine="vector", progress=False)
    # a quantile "never reached" on one side sits at the edge of the other's support: skipped
    compared = assert_figures_agree(_figures(des.summary), _figures(vector.summary), same_reach=False)
    assert compared >= 10


def test_a_forecast_before_opening_with_nobody_enrolled_is_the_run_in_distribution() -> None:
    """Nothing observed and nothing learned: the forecast is the vector engine's own run, within 4 combined MCSE.

    (On the SimPy engine the two are equal bit for bit, tests/test_forecast.py; the vector forecast has its own layout.)
    """
    model = TrialModel.from_scenario(load_scenario("base"))
    started = forecast_model(model, start_state(model, ObservedTrial((), outcomes_known=False), dt.date(2025, 11, 14)))
    plain = sim.run(model, replicates=2000, seed=3, engine="vector", progress=False).summary
    forecast = sim.run(started, replicates=2000, seed=4, engine="vector", progress=False).summary
    assert_figures_agree(_figures(plain), _figures(forecast), same_reach=False)


def test_the_same_seed_gives_the_same_forecast_for_any_chunking_and_jobs() -> None:
    """Chunks and workers change nothing; a span of replicates is the same whichever blocks surround it."""
    model = _made_up(REPLACING)
    whole = sim.run(model, replicates=120, seed=7, engine="vector", chunk_size=120, progress=False).replicates
    again = sim.run(
        model, replicates=120, seed=7, engine="vector", chunk_size=50, n_jobs=2, backend="threading", progress=False
    )
    pd.testing.assert_frame_equal(whole, again.replicates)
    own = _with_orr_law(model)  # each replicate its own model, and its own overflow stream
    alone = simulate_histories(own, 7, 260, 280)
    inside = simulate_histories(own, 7, 0, 2 * SEED_BLOCK).span(260, 280)
    for field in ("patients", "enrollment_day", "first_dose_day", "true_orr", "n_screened"):
        np.testing.assert_array_equal(getattr(alone, field), getattr(inside, field), err_msg=field)
    np.testing.assert_array_equal(alone.journeys.death_day, inside.journeys.death_day)


def test_every_replicate_keeps_the_enrolled_patients_statuses_and_dates() -> None:
    """Each replicate's enrolled patients, read at the as-of date, have the file's status: shared and own models."""
    model = _made_up([])
    state = model.start
    assert state is not None
    replicates = 40
    dose = np.repeat(state.first_dose_day[None, :], replicates, axis=0)
    for models in ([model.patients] * replicates, [model.with_orr(0.1 + 0.005 * r) for r in range(replicates)]):
        drawn = conditioned_journeys(models, state.outcomes, dose, state.as_of_day, np.random.default_rng(4))
        seen = status_at(drawn, dose.reshape(-1), state.as_of_day, model.patients.schedule.sd_min_days)
        for name in ("best_scan", "confirmed", "progressed", "dead", "end_reason"):
            np.testing.assert_array_equal(getattr(seen, name), np.tile(getattr(state.outcomes, name), replicates))
        for name in ("last_scan", "progression", "death"):
            recorded = np.tile(state.outcomes.day(name), replicates)
            np.testing.assert_array_equal(seen.day(name)[np.isfinite(recorded)], recorded[np.isfinite(recorded)])
