"""Enrollment to a fixed target and interim looks, in closed form for many replicates at once.

An arrival is screened if enrollment is open when it arrives; an eligible patient is enrolled
``screening_days`` later if a place is free and recruitment still open. With a fixed target the
enrolled are the first ``sample_size`` eligible decisions before the recruitment close (and before
a futility stop), ranked within each replicate; enrollment is full from the last of them, and only
arrivals before that are screened. A look happens when its ``n`` patients have all been judged; a
futility stop closes recruitment at the look. With ``pause_enrollment``, arrivals and decisions
between the n-th enrollment and the look are not screened and turned away, and enrollment after the
look is ranked again. Looks are processed in order, so each changes only what comes after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...model.history import HistoryBatch
from ...model.journey import PatientJourneys, plan_journeys
from ...model.monitoring import judged_days
from ...model.patient_model import LatentOutcomes
from ...model.trial_model import TrialModel
from .arrivals import Arrivals

__all__ = [
    "PatientsFor",
    "Enrollment",
    "design_stops",
    "LookRecord",
    "enroll",
    "history_batch",
    "simulate_fixed_target",
    "stack_looks",
]


@dataclass(frozen=True)
class Enrollment:
    """Who was screened and enrolled (and in which rank), per arrival; per replicate the count, the target
    (sample size plus replacements) and the day enrollment was last full (inf: never)."""

    screened: NDArray[np.bool_]
    enrolled: NDArray[np.bool_]
    rank: NDArray[np.int64]
    count: NDArray[np.int64]
    target: NDArray[np.int64]
    full_day: NDArray[np.float64]


def _between(
    day: NDArray[np.float64], holds: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]], owner: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Whether each day falls inside one of its replicate's enrollment holds (from the n-th enrollment to the look)."""
    inside = np.zeros(day.shape, dtype=bool)
    for start, end in holds:
        inside |= (day > start[owner]) & (day < end[owner])
    return inside


def enroll(
    arrivals: Arrivals,
    replicates: int,
    target: int,
    close_day: float,
    closed_from: NDArray[np.float64],
    holds: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> Enrollment:
    """Enrollment with a fixed target: the first ``target`` eligible decisions while recruitment is open.

    ``closed_from`` is each replicate's futility stop (inf: none); ``holds`` the spans in which an
    interim look paused enrollment.
    """
    owner = arrivals.replicate
    decision = arrivals.day + arrivals.screening_days
    closes = np.minimum(close_day, closed_from[owner])
    reachable = (arrivals.day < closed_from[owner]) & ~_between(arrivals.day, holds, owner)
    candidate = reachable & ~arrivals.fails & (decision < closes) & ~_between(decision, holds, owner)
    rows = np.flatnonzero(candidate)
    order = rows[np.lexsort((decision[rows], owner[rows]))]
    group_start = np.searchsorted(owner[order], np.arange(replicates))
    rank = np.full(owner.shape, -1, dtype=np.int64)
    rank[order] = np.arange(order.shape[0]) - group_start[owner[order]]
    enrolled = (rank >= 0) & (rank < target)
    count = np.bincount(owner[enrolled], minlength=replicates).astype(np.int64)
    full_day = np.full(replicates, np.inf)
    last = enrolled & (rank == target - 1)
    full_day[owner[last]] = decision[last]
    screened = reachable & (arrivals.day < full_day[owner])
    return Enrollment(
        screened=screened,
        enrolled=enrolled,
        rank=rank,
        count=count,
        target=np.full(replicates, target, dtype=np.int64),
        full_day=full_day,
    )


@dataclass(frozen=True)
class LookRecord:
    """One round of interim looks over the replicates that reached it."""

    replicate: NDArray[np.int64]
    day: NDArray[np.float64]
    patients: int
    responders: NDArray[np.int64]
    stop: NDArray[np.bool_]


def _enrolled_matrix(
    values: NDArray[np.float64], arrivals: Arrivals, enrollment: Enrollment, replicates: int, width: int
) -> NDArray[np.float64]:
    """A per-arrival value of each replicate's enrolled patients, by enrollment rank (NaN where none)."""
    out = np.full((replicates, width), np.nan)
    rows = np.flatnonzero(enrollment.enrolled)
    out[arrivals.replicate[rows], enrollment.rank[rows]] = values[rows]
    return out


def design_stops(model: TrialModel, responders: NDArray[np.int64], patients: int) -> NDArray[np.bool_]:
    """The design's futility verdict for each responder count (the rule's ``stops``), once per count."""
    counts, inverse = np.unique(responders, return_inverse=True)
    verdict = np.array([model.rule.stops(int(k), patients) for k in counts.tolist()], dtype=bool)
    return verdict[inverse.reshape(-1)] if counts.size else np.zeros(0, bool)


PatientsFor = Callable[[NDArray[np.int64]], LatentOutcomes]
"""Given how many patients each replicate can enroll, their latent outcomes, replicate after replicate."""


def journeys_of_enrolled(
    model: TrialModel, patients_for: PatientsFor, enrollment: Enrollment, replicates: int
) -> tuple[PatientJourneys, NDArray[np.intp]]:
    """Journeys of the patients each replicate can enroll, and the journey row of patient k of replicate r.

    Interim looks only take candidates away, so the first enrollment enrolls the most: only its
    patients are drawn and planned.
    """
    count = enrollment.count
    journeys = plan_journeys(model.patients, patients_for(count))
    rows = np.full((replicates, model.scenario.trial.sample_size), -1, dtype=np.intp)
    owner = np.repeat(np.arange(replicates), count)
    rows[owner, np.arange(owner.shape[0]) - (np.cumsum(count) - count)[owner]] = np.arange(owner.shape[0])
    return journeys, rows


def simulate_fixed_target(
    model: TrialModel, arrivals: Arrivals, patients_for: PatientsFor, replicates: int
) -> HistoryBatch:
    """Enrollment and interim looks of ``replicates`` replicates; ``patients_for`` draws their patients."""
    target = model.scenario.trial.sample_size
    pause = model.scenario.monitoring.pause_enrollment
    closed_from = np.full(replicates, np.inf)
    holds: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    records: list[LookRecord] = []
    enrollment = enroll(arrivals, replicates, target, model.close_day, closed_from, holds)
    journeys, journey_row = journeys_of_enrolled(model, patients_for, enrollment, replicates)
    active = np.ones(replicates, dtype=bool)
    previous = np.full(replicates, -np.inf)
    looks = model.rule.look_sizes
    judged_after = judged_days(journeys, model.look_trigger) if looks else np.zeros(0)  # only a look judges
    for n in looks:
        reached = np.flatnonzero(active & (enrollment.count >= n))
        decision = arrivals.day + arrivals.screening_days
        enrolled_day = _enrolled_matrix(decision, arrivals, enrollment, replicates, target)
        dose = _enrolled_matrix(decision + arrivals.dose_days, arrivals, enrollment, replicates, target)
        first = journey_row[reached[:, None], np.arange(n)[None, :]]
        judged = dose[reached, :n] + judged_after[first]
        confirmed = dose[reached, :n] + journeys.confirmation_day[first]
        judged_day = judged.max(axis=1)
        day = np.maximum(np.maximum(judged_day, enrolled_day[reached, n - 1]), previous[reached])
        responders = np.count_nonzero(confirmed <= judged_day[:, None], axis=1).astype(np.int64)
        happens = day < model.horizon_day  # a look due after the study end never happens (a pause never ends)
        looked = reached[happens]
        stop = design_stops(model, responders[happens], n)
        records.append(LookRecord(looked.astype(np.int64), day[happens], n, responders[happens], stop))
        active[:] = False
        active[looked] = ~stop
        previous[looked] = day[happens]
        closed_from[looked[stop]] = day[happens][stop]
        if pause:
            start, end = np.full(replicates, np.inf), np.full(replicates, -np.inf)
            start[reached], end[reached] = enrolled_day[reached, n - 1], np.where(happens, day, np.inf)
            holds.append((start, end))
        enrollment = enroll(arrivals, replicates, target, model.close_day, closed_from, holds)
    return history_batch(arrivals, enrollment, journeys, journey_row, records, replicates, model.scenario.efficacy.orr)


def history_batch(
    arrivals: Arrivals,
    enrollment: Enrollment,
    journeys: PatientJourneys,
    journey_row: NDArray[np.intp],
    records: Sequence[LookRecord],
    replicates: int,
    true_orr: float,
) -> HistoryBatch:
    """The chunk's histories from its final enrollment and looks; ``journey_row[r, k]`` is patient k of replicate r.

    Every replicate gets ``true_orr`` here; with a prior, the layout puts each replicate's own in place.
    """
    owner = arrivals.replicate
    rows = np.flatnonzero(enrollment.enrolled)
    rows = rows[np.lexsort((enrollment.rank[rows], owner[rows]))]
    decision = arrivals.day[rows] + arrivals.screening_days[rows]
    screened = enrollment.screened
    eligible = screened & ~arrivals.fails
    count = enrollment.count
    looks = stack_looks(records)
    return HistoryBatch(
        patients=count,
        journeys=journeys.take(journey_row[owner[rows], enrollment.rank[rows]]),
        site=arrivals.site[rows],
        consent_day=arrivals.day[rows],
        enrollment_day=decision,
        first_dose_day=decision + arrivals.dose_days[rows],
        n_screened=np.bincount(owner[screened], minlength=replicates).astype(np.int64),
        n_screen_failed=np.bincount(owner[screened & arrivals.fails], minlength=replicates).astype(np.int64),
        n_turned_away=np.bincount(owner[eligible & ~enrollment.enrolled], minlength=replicates).astype(np.int64),
        enrollment_target=enrollment.target,
        enrollment_complete_day=np.where(count >= enrollment.target, enrollment.full_day, np.nan),
        true_orr=np.full(replicates, true_orr),
        **looks,
    )


def stack_looks(records: Sequence[LookRecord]) -> dict[str, Any]:
    """The looks of every round as HistoryBatch's ``look_*`` arrays, in replicate then calendar order."""
    if not records:
        return {
            "look_replicate": np.zeros(0, np.int64),
            "look_day": np.zeros(0),
            "look_patients": np.zeros(0, np.int64),
            "look_responders": np.zeros(0, np.int64),
            "look_stop": np.zeros(0, bool),
        }
    replicate = np.concatenate([r.replicate for r in records])
    rounds = np.concatenate([np.full(r.replicate.shape, k) for k, r in enumerate(records)])
    order = np.lexsort((rounds, replicate))
    return {
        "look_replicate": replicate[order],
        "look_day": np.concatenate([r.day for r in records])[order],
        "look_patients": np.concatenate([np.full(r.replicate.shape, r.patients, np.int64) for r in records])[order],
        "look_responders": np.concatenate([r.responders for r in records])[order],
        "look_stop": np.concatenate([r.stop for r in records])[order],
    }
