"""What a block of forecast replicates draws at the as-of date, in the order of the vector forecast's seed layout.

Each replicate's patient model (its true ORR from the posterior, then its learned hazards and PFS), its
screen-failure probability, the first doses of the patients not yet dosed, the enrolled patients'
futures given their status (:mod:`.conditioned`), the screening arrivals (:mod:`.forecast_arrivals`)
and the new patients each replicate may enroll: the SimPy engine's draws at the start of a forecast
replicate (:func:`sim.engines.des._simulate`), made for the block at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from ...arrays import take_rows
from ...model.journey import PatientJourneys, plan_journeys
from ...model.patient_model import LatentOutcomes, PatientModel, outcomes_under
from ...model.trial_model import TrialModel
from ...model.trial_state import TrialState
from .arrivals import Arrivals
from .conditioned import conditioned_journeys, model_groups
from .forecast_arrivals import forecast_arrivals

__all__ = ["ForecastBlock", "draw_patients", "forecast_block", "new_patients_each"]


@dataclass(frozen=True)
class ForecastBlock:
    """A block's draws at the as-of date: per replicate its model, true ORR and enrolled patients' first doses
    (``dose[r, k]``); the enrolled patients' journeys and the new patients', replicate after replicate; the
    arrivals (replicates numbered in the block) and which of them were in screening at the as-of date."""

    models: list[PatientModel]
    true_orr: NDArray[np.float64]
    dose: NDArray[np.float64]
    enrolled: PatientJourneys
    new: PatientJourneys
    arrivals: Arrivals
    pinned: NDArray[np.bool_]


def new_patients_each(model: TrialModel, state: TrialState) -> int:
    """New patients drawn up front per replicate: the places left, and a sample size more when losses are replaced."""
    size = model.scenario.trial.sample_size
    spare = size if model.scenario.trial.replace_non_evaluable else 0
    return max(size - state.n_enrolled, 0) + spare


def forecast_block(model: TrialModel, state: TrialState, rng: np.random.Generator, replicates: int) -> ForecastBlock:
    """The block's draws from its stream ``rng``, in the layout's order."""
    models, true_orr = _replicate_models(model, state, rng, replicates)
    failing = np.full(replicates, model.scenario.recruitment.screen_failure_probability)
    if state.screen_failure is not None:
        failing = rng.beta(*state.screen_failure, replicates)
    dose = _first_doses(model, state, rng, replicates)
    enrolled = conditioned_journeys(models, state.outcomes, dose, state.as_of_day, rng, state.patient_id)
    arrivals, pinned = forecast_arrivals(model, state, rng, replicates, failing)
    new = plan_journeys(model.patients, draw_patients(models, rng, new_patients_each(model, state)))
    return ForecastBlock(models, true_orr, dose, enrolled, new, arrivals, pinned)


def _replicate_models(
    model: TrialModel, state: TrialState, rng: np.random.Generator, replicates: int
) -> tuple[list[PatientModel], NDArray[np.float64]]:
    """Each replicate's patient model and true ORR: from the forecast's posterior (one uniform each), then each
    replicate's learned hazards and PFS hazard ratio; the scenario's model, shared, when none is drawn."""
    law = state.orr_posterior
    if law is None:
        models = [model.patients] * replicates
        true_orr = np.full(replicates, model.patients.efficacy.orr)
    else:
        true_orr = np.asarray(law.draw(rng.random(replicates), state.orr_ceiling), dtype=float)
        models = [model.with_orr(float(orr)) for orr in true_orr]
    if state.hazards is not None:
        models = [state.hazards.draw(rng, m) for m in models]
    if state.pfs_hazard is not None:  # a forecast learning the PFS: each replicate's hazard ratio given its ORR
        models = [state.pfs_hazard.draw(rng, m) for m in models]
    return models, true_orr


def _first_doses(
    model: TrialModel, state: TrialState, rng: np.random.Generator, replicates: int
) -> NDArray[np.float64]:
    """Each replicate's first-dose days of the enrolled patients (:func:`sim.engines.des_start.first_doses`'s law)."""
    low, high = model.scenario.recruitment.enrollment_to_first_dose_days
    waiting = np.isnan(state.first_dose_day)
    earliest = np.maximum(low, np.ceil(state.as_of_day - state.enrollment_day[waiting])).astype(np.int64)
    out = np.repeat(state.first_dose_day[None, :], replicates, axis=0)
    out[:, waiting] = state.enrollment_day[waiting] + rng.integers(earliest, high + 1, (replicates, earliest.shape[0]))
    return out


def draw_patients(models: Sequence[PatientModel], rng: np.random.Generator, each: int) -> LatentOutcomes:
    """``each`` patients per replicate, replicate after replicate: one draw per model, shared out in turn."""
    groups = model_groups(models)
    if each == 0:  # the trial is full and nobody is replaced: nothing to draw
        return models[0].draw(rng, 0)
    drawing = [models[int(members[0])] for members in groups]
    sizes = [each * members.shape[0] for members in groups]
    drawn = outcomes_under(drawing, sizes, drawing[0].random_numbers(rng, sum(sizes)))
    if len(groups) == 1:
        return drawn
    owner = np.concatenate(groups)  # drawn's j-th run of ``each`` patients belongs to replicate owner[j]
    start = np.empty(len(models), dtype=np.intp)
    start[owner] = np.arange(owner.shape[0]) * each
    rows = (start[:, None] + np.arange(each)[None, :]).reshape(-1)
    return LatentOutcomes(**{f.name: take_rows(getattr(drawn, f.name), rows) for f in fields(LatentOutcomes)})
