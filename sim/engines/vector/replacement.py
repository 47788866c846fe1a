"""Enrollment when non-evaluable patients are replaced, for many replicates in lockstep.

With ``trial.replace_non_evaluable`` the target rises by one on the day a patient's loss before
the first post-baseline scan becomes known (while recruitment is open), and screening, paused
while enrollment is full, starts again. The k-th enrollment of a replicate depends only on its
earlier patients, so all replicates take their k-th enrollment together, step by step:

* after an enrollment on day ``e`` with ``k`` patients, enrollment is open if ``k`` is below the
  target on day ``e``; otherwise it is full until the next day a loss becomes known (a pause:
  arrivals inside it are not screened, decisions inside it are turned away), or for good;
* the next patient is the first eligible decision after that, whose arrival was screened and
  which falls before the recruitment close;
* interim looks are settled on the step that enrolls their n-th patient, and a paused look or a
  futility stop constrains the steps after it (:mod:`.lockstep_looks`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ...model.history import HistoryBatch
from ...model.journey import PatientJourneys, plan_journeys
from ...model.monitoring import judged_days
from ...model.patient_model import LatentOutcomes
from ...model.trial_model import TrialModel
from .arrivals import Arrivals
from .enrollment import Enrollment, design_stops, history_batch
from .lockstep_looks import LockstepLooks

__all__ = ["AlreadyEnrolled", "MorePatients", "draw_more", "enroll_replacing", "scenario_looks", "simulate_replacing"]

MorePatients = Callable[[int], LatentOutcomes]
"""Draws ``sample_size`` more patients for replicate ``r`` (its own stream, so any chunk draws the same)."""


@dataclass(frozen=True)
class AlreadyEnrolled:
    """A forecast's start: the patients every replicate has enrolled at the as-of date, as patients 0 to n-1.

    ``known[r, k]`` is the day patient k's loss is known and replaced (-inf: before the as-of date, so
    already; inf: never), ``dose[r, k]`` their first dose; ``pinned`` marks the arrivals known to be in
    screening at the as-of date, screened whatever enrollment is doing.
    """

    known: NDArray[np.float64]
    dose: NDArray[np.float64]
    pinned: NDArray[np.bool_]


def _inside(
    day: NDArray[np.float64], owner: NDArray[np.int64], pauses: list[tuple[NDArray[np.float64], NDArray[np.float64]]]
) -> NDArray[np.bool_]:
    """Whether each day falls strictly inside one of its replicate's pauses."""
    out = np.zeros(day.shape, dtype=bool)
    for start, end in pauses:
        out |= (day > start[owner]) & (day < end[owner])
    return out


def enroll_replacing(
    arrivals: Arrivals,
    replicates: int,
    sample_size: int,
    close_day: float,
    evaluable: NDArray[np.bool_],
    known_after: NDArray[np.float64],
    drawn: NDArray[np.int64],
    looks: LockstepLooks | None = None,
    start: AlreadyEnrolled | None = None,
) -> tuple[Enrollment, NDArray[np.bool_]]:
    """Enrollment with replacement, and the replicates that ran out of drawn patients.

    ``evaluable[r, k]`` and ``known_after[r, k]`` describe patient k of replicate r, for k below
    ``drawn[r]``; ``known_after`` is the day after first dose on which evaluability is known, so a
    loss is known on ``enrollment + (days to first dose + known_after)`` (the SimPy engine's sum).
    A replicate that needs patient ``drawn[r]`` stops there and is flagged: the caller draws more
    and runs again. ``looks`` (fresh for each run) settles the interim looks as their patients
    enroll and holds what they found (:mod:`.lockstep_looks`). ``start`` gives a forecast's enrolled
    patients: the looks they complete are settled first, as the SimPy engine's monitor does at once.
    """
    looks = looks or LockstepLooks((), False, np.inf, known_after[:, :0], known_after[:, :0], _never)
    capacity = evaluable.shape[1]
    owner = arrivals.replicate
    decision = arrivals.day + arrivals.screening_days
    rows = np.flatnonzero(~arrivals.fails & (decision < close_day))
    candidate = rows[np.lexsort((decision[rows], owner[rows]))]
    c_owner, c_decision, c_day = owner[candidate], decision[candidate], arrivals.day[candidate]
    first = np.searchsorted(c_owner, np.arange(replicates))
    has_candidates = first < np.searchsorted(c_owner, np.arange(replicates), side="right")
    blocked = np.zeros(candidate.shape, dtype=bool)
    positions = np.arange(candidate.shape[0])
    last = np.full(replicates, -np.inf)
    count = np.zeros(replicates, dtype=np.int64)
    known = np.full((replicates, capacity), np.inf)
    dose = np.full((replicates, capacity), np.nan)
    rank = np.full(owner.shape, -1, dtype=np.int64)
    needs_more = np.zeros(replicates, dtype=bool)
    pauses: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    pinned = np.zeros(candidate.shape, dtype=bool) if start is None else start.pinned[candidate]
    if start is not None:
        already = start.known.shape[1]
        count[:], known[:, :already], dose[:, :already] = already, start.known, start.dose
        everyone = np.arange(replicates)
        for size in [n for n in looks.sizes if n <= already]:
            stopped, closed = looks.after_enrollment(everyone, np.full(replicates, size), dose, last)
            known[stopped] = np.where(known[stopped] <= looks.closes[stopped, None], known[stopped], np.inf)
            for begin, end in closed:
                pauses.append((begin, end))
                blocked |= (c_day > begin[c_owner]) & (c_day < end[c_owner])
    active = has_candidates.copy()
    while active.any():
        live = np.flatnonzero(active)
        limit = sample_size + np.count_nonzero(known[live] <= last[live, None], axis=1)
        full = count[live] >= limit
        later = np.where(known[live] > last[live, None], known[live], np.inf).min(axis=1, initial=np.inf)
        resume = np.where(full, later, last[live])
        if full.any():
            begin, end = np.full(replicates, np.inf), np.full(replicates, -np.inf)
            begin[live[full]], end[live[full]] = last[live[full]], resume[full]
            pauses.append((begin, end))
            blocked |= (c_day > begin[c_owner]) & (c_day < end[c_owner])
        after = np.full(replicates, np.inf)
        after[live] = resume
        allowed = (c_decision > after[c_owner]) & (c_decision >= looks.not_before[c_owner])
        allowed &= c_decision < looks.closes[c_owner]
        open_position = np.where((~blocked | pinned) & allowed, positions, candidate.shape[0])
        nearest = np.full(replicates, candidate.shape[0])
        nearest[has_candidates] = np.minimum.reduceat(open_position, first[has_candidates])
        chosen = live[
            (nearest[live] < candidate.shape[0]) & (c_owner[np.minimum(nearest[live], candidate.shape[0] - 1)] == live)
        ]
        active[:] = False
        if chosen.size == 0:
            break
        k = count[chosen]
        overflow = k >= drawn[chosen]
        needs_more[chosen[overflow]] = True
        chosen, k = chosen[~overflow], k[~overflow]
        p = nearest[chosen]
        arrival = candidate[p]
        rank[arrival] = k
        last[chosen] = c_decision[p]
        count[chosen] += 1
        lost = ~evaluable[chosen, np.minimum(k, capacity - 1)]
        when = c_decision[p] + (arrivals.dose_days[arrival] + known_after[chosen, np.minimum(k, capacity - 1)])
        replaced = when < np.minimum(close_day, looks.closes[chosen])  # nobody is replaced after a futility stop
        known[chosen[lost], k[lost]] = np.where(replaced[lost], when[lost], np.inf)
        dose[chosen, k] = c_decision[p] + arrivals.dose_days[arrival]
        stopped, closed = looks.after_enrollment(chosen, count, dose, last)
        known[stopped] = np.where(known[stopped] <= looks.closes[stopped, None], known[stopped], np.inf)
        for begin, end in closed:
            pauses.append((begin, end))
            blocked |= (c_day > begin[c_owner]) & (c_day < end[c_owner])
        active[chosen] = True
    limit = sample_size + np.count_nonzero(known < np.inf, axis=1)
    forever = np.full(replicates, np.inf), np.full(replicates, -np.inf)
    full_for_good = count >= limit
    forever[0][full_for_good] = last[full_for_good]
    forever[1][full_for_good] = np.inf
    screened = ~_inside(arrivals.day, owner, [*pauses, forever])
    if start is not None:
        screened |= start.pinned
    enrollment = Enrollment(
        screened=screened,
        enrolled=rank >= 0,
        rank=rank,
        count=count,
        target=limit.astype(np.int64),
        full_day=last,
    )
    return enrollment, needs_more


def simulate_replacing(
    model: TrialModel, arrivals: Arrivals, latent: LatentOutcomes, replicates: int, more: MorePatients
) -> HistoryBatch:
    """Enrollment with replacement, and the interim looks, of ``replicates`` replicates.

    ``latent`` holds the same number of patients for each replicate, replicate after replicate;
    a replicate that needs more gets ``sample_size`` more from ``more`` at a time.
    """
    per_replicate = latent.size // replicates if replicates else 0
    journeys = plan_journeys(model.patients, latent)
    rows = np.arange(replicates * per_replicate).reshape(replicates, per_replicate)
    drawn = np.full(replicates, per_replicate, dtype=np.int64)
    while True:
        looks = scenario_looks(model, journeys, rows)
        enrollment, short = enroll_replacing(
            arrivals,
            replicates,
            model.scenario.trial.sample_size,
            model.close_day,
            journeys.evaluable[rows],
            journeys.evaluability_day[rows],
            drawn,
            looks,
        )
        if not short.any():
            records = looks.look_records()
            return history_batch(arrivals, enrollment, journeys, rows, records, replicates, model.scenario.efficacy.orr)
        journeys, rows, drawn = draw_more(model, journeys, rows, drawn, np.flatnonzero(short), more)


def scenario_looks(model: TrialModel, journeys: PatientJourneys, rows: NDArray[np.intp]) -> LockstepLooks:
    """The scenario's interim looks, to be settled in the lockstep: patient k of replicate r is ``rows[r, k]``."""

    def stops(responders: NDArray[np.int64], n: int) -> NDArray[np.bool_]:
        return design_stops(model, responders, n)

    return LockstepLooks(
        sizes=model.rule.look_sizes,
        pause=model.scenario.monitoring.pause_enrollment,
        horizon_day=model.horizon_day,
        judged=judged_days(journeys, model.look_trigger)[rows],
        confirmed=journeys.confirmation_day[rows],
        stops=stops,
    )


def _never(responders: NDArray[np.int64], n: int) -> NDArray[np.bool_]:
    """No look, no stop (the lockstep without interim looks)."""
    return np.zeros(responders.shape, dtype=bool)


def draw_more(
    model: TrialModel,
    journeys: PatientJourneys,
    rows: NDArray[np.intp],
    drawn: NDArray[np.int64],
    short: NDArray[np.intp],
    more: MorePatients,
) -> tuple[PatientJourneys, NDArray[np.intp], NDArray[np.int64]]:
    """``sample_size`` more patients for each replicate in ``short``, their journeys appended."""
    block = model.scenario.trial.sample_size
    extra = [plan_journeys(model.patients, more(int(r))) for r in short]
    first = journeys.size
    journeys = PatientJourneys.concatenate([journeys, *extra])
    width = int(drawn.max()) + block
    grown = np.zeros((rows.shape[0], width), dtype=np.intp)
    grown[:, : rows.shape[1]] = rows
    for i, r in enumerate(short):
        grown[r, drawn[r] : drawn[r] + block] = first + i * block + np.arange(block)
    drawn = drawn.copy()
    drawn[short] += block
    return journeys, grown, drawn
