"""The vector engine's forecasts: replicates started from a running trial's state, many at once.

Each block of :data:`~.layout.SEED_BLOCK` replicates makes the SimPy engine's draws at the as-of
date together (:mod:`.forecast_start`); the enrolled patients then stand as patients 0 to n-1 of
every replicate in the lockstep enrollment (:func:`.replacement.enroll_replacing`), which takes the
next places in order, replaces the non-evaluable when the scenario says so (a loss known before the
as-of date at once, a later one on the day it is known, while recruitment is open), and settles the
interim looks still to be held: first those the enrolled patients complete, then the rest as their
patients enroll. A replicate that needs more new patients than were drawn draws them from its own
stream, ``sample_size`` at a time.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ...model.history import HistoryBatch
from ...model.journey import PatientJourneys
from ...model.patient_model import LatentOutcomes, PatientModel
from ...model.trial_model import TrialModel
from ...model.trial_state import TrialState
from .arrivals import Arrivals
from .enrollment import Enrollment, LookRecord, stack_looks
from .forecast_start import ForecastBlock, draw_patients, forecast_block, new_patients_each
from .replacement import AlreadyEnrolled, MorePatients, draw_more, enroll_replacing, scenario_looks

__all__ = ["simulate_forecast"]


def simulate_forecast(
    model: TrialModel, blocks: list[np.random.Generator], overflow: list[np.random.SeedSequence]
) -> HistoryBatch:
    """The forecast replicates of ``blocks`` (each block's stream; blocks of equal size), one block after another.

    ``overflow[r]`` seeds the stream of replicate r (counted from the first block's first) for new
    patients beyond those drawn up front.
    """
    state = model.start
    assert state is not None
    size = len(overflow) // len(blocks)
    drawn_blocks = [forecast_block(model, state, rng, size) for rng in blocks]
    replicates = size * len(blocks)
    models = [m for b in drawn_blocks for m in b.models]
    dose = np.concatenate([b.dose for b in drawn_blocks])
    arrivals = Arrivals.concatenate([_renumbered(b.arrivals, j * size) for j, b in enumerate(drawn_blocks)])
    pinned = np.concatenate([b.pinned for b in drawn_blocks])
    journeys, rows = _journeys(drawn_blocks, state.n_enrolled, new_patients_each(model, state))
    drawn = np.full(replicates, rows.shape[1], dtype=np.int64)
    more = _overflow(models, overflow, model.scenario.trial.sample_size)
    while True:
        start = AlreadyEnrolled(_loss_known(model, state, journeys, rows, dose), dose, pinned)
        looks = scenario_looks(model, journeys, rows)
        replacing = model.scenario.trial.replace_non_evaluable
        evaluable = journeys.evaluable[rows] if replacing else np.ones(rows.shape, dtype=bool)
        known_after = journeys.evaluability_day[rows]
        sample_size = model.scenario.trial.sample_size
        enrollment, short = enroll_replacing(
            arrivals, replicates, sample_size, model.close_day, evaluable, known_after, drawn, looks, start
        )
        if not short.any():
            true_orr = np.concatenate([b.true_orr for b in drawn_blocks])
            return _batch(state, arrivals, enrollment, journeys, rows, looks.look_records(), dose, true_orr)
        journeys, rows, drawn = draw_more(model, journeys, rows, drawn, np.flatnonzero(short), more)


def _renumbered(arrivals: Arrivals, first: int) -> Arrivals:
    """A block's arrivals with its replicates numbered from ``first``."""
    return Arrivals(
        arrivals.replicate + first,
        arrivals.day,
        arrivals.site,
        arrivals.fails,
        arrivals.screening_days,
        arrivals.dose_days,
    )


def _journeys(blocks: list[ForecastBlock], enrolled: int, each: int) -> tuple[PatientJourneys, NDArray[np.intp]]:
    """Every replicate's enrolled then new patients' journeys, and ``rows[r, k]``: patient k of replicate r."""
    parts = [b.enrolled for b in blocks] + [b.new for b in blocks]
    replicates = sum(len(b.models) for b in blocks)
    first_new = replicates * enrolled
    rows = np.empty((replicates, enrolled + each), dtype=np.intp)
    rows[:, :enrolled] = np.arange(first_new).reshape(replicates, enrolled)
    rows[:, enrolled:] = first_new + np.arange(replicates * each).reshape(replicates, each)
    return PatientJourneys.concatenate(parts), rows


def _loss_known(
    model: TrialModel, state: TrialState, journeys: PatientJourneys, rows: NDArray[np.intp], dose: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The day each enrolled patient's loss is known and replaced: -inf before the as-of date, inf for none.

    The SimPy engine's ``start_from``: only when losses are replaced, and only before recruitment closes.
    """
    enrolled = rows[:, : state.n_enrolled]
    when = dose + journeys.evaluability_day[enrolled]
    replaced = model.scenario.trial.replace_non_evaluable & ~journeys.evaluable[enrolled] & (when < model.close_day)
    return np.where(replaced, np.where(when < state.as_of_day, -np.inf, when), np.inf)


def _overflow(models: list[PatientModel], seeds: list[np.random.SeedSequence], size: int) -> MorePatients:
    """Replicate r's patients beyond those drawn up front: ``size`` at a time from its model and its own stream."""
    streams: dict[int, np.random.Generator] = {}

    def more(r: int) -> LatentOutcomes:
        if r not in streams:
            streams[r] = np.random.default_rng(seeds[r])
        return draw_patients([models[r]], streams[r], size)

    return more


def _batch(
    state: TrialState,
    arrivals: Arrivals,
    enrollment: Enrollment,
    journeys: PatientJourneys,
    rows: NDArray[np.intp],
    records: list[LookRecord],
    dose: NDArray[np.float64],
    true_orr: NDArray[np.float64],
) -> HistoryBatch:
    """The histories: each replicate's enrolled patients as the data have them, then those it enrolled."""
    replicates, enrolled = dose.shape
    owner = arrivals.replicate
    new = np.flatnonzero(enrollment.enrolled)
    replicate = np.concatenate([np.repeat(np.arange(replicates), enrolled), owner[new]])
    rank = np.concatenate([np.tile(np.arange(enrolled), replicates), enrollment.rank[new]])
    order = np.lexsort((rank, replicate))
    decision = arrivals.day[new] + arrivals.screening_days[new]
    count, target = enrollment.count, enrollment.target
    full = np.where(np.isfinite(enrollment.full_day), enrollment.full_day, state.enrollment_complete_day)
    screened = enrollment.screened
    eligible = screened & ~arrivals.fails
    return HistoryBatch(
        patients=count,
        journeys=journeys.take(rows[replicate[order], rank[order]]),
        site=np.concatenate([np.tile(state.site, replicates), arrivals.site[new]])[order],
        consent_day=np.concatenate([np.full(replicates * enrolled, math.nan), arrivals.day[new]])[order],
        enrollment_day=np.concatenate([np.tile(state.enrollment_day, replicates), decision])[order],
        first_dose_day=np.concatenate([dose.reshape(-1), decision + arrivals.dose_days[new]])[order],
        n_screened=np.bincount(owner[screened], minlength=replicates).astype(np.int64),
        n_screen_failed=np.bincount(owner[screened & arrivals.fails], minlength=replicates).astype(np.int64),
        n_turned_away=np.bincount(owner[eligible & ~enrollment.enrolled], minlength=replicates).astype(np.int64),
        enrollment_target=target,
        enrollment_complete_day=np.where(count >= target, full, math.nan),
        true_orr=true_orr,
        **stack_looks(records),
    )
