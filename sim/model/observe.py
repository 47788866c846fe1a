"""What the trial database holds at a data cutoff: the cutoff rules and the observed patient data.

A replicate's history runs to the study end; a cutoff hides everything after its date. Best
overall response (by the rules of :mod:`sim.model.recist`), PFS and OS are derived only from what is
visible then, exactly as the trial's statisticians would derive them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..arrays import or_zero
from ..scenario.model import Cutoff
from ..units import DAYS_PER_MONTH, day_number
from .history import TrialHistory
from .journey import END_REASONS, PatientJourneys
from .recist import Response, best_overall_response, responding_scan
from .trial_model import TrialModel

__all__ = [
    "ObservedData",
    "Visible",
    "best_response",
    "cutoff_day",
    "death_seen",
    "fda_censoring",
    "known_status",
    "observe",
    "outcomes",
    "responses",
    "visible",
]

_AE_STOP = END_REASONS.index("adverse_event")


def _observed_death_days(history: TrialHistory) -> NDArray[np.float64]:
    """Death days (from study start) that follow-up captures, sorted."""
    j = history.journeys
    seen = j.death_day <= j.follow_up_end_day
    return np.sort(history.first_dose_day[seen] + j.death_day[seen])


def cutoff_day(rule: Cutoff, history: TrialHistory, model: TrialModel) -> float:
    """The cutoff's day from study start, never after the study end; NaN if nobody was enrolled."""
    if rule.rule == "date":
        assert rule.date is not None
        day = day_number(rule.date, model.scenario.trial.study_start)
    elif history.n_enrolled == 0:
        return math.nan
    elif rule.rule == "after_last_first_dose":
        assert rule.months is not None
        day = float(history.first_dose_day.max()) + rule.months * DAYS_PER_MONTH
    else:
        assert rule.events is not None
        deaths = _observed_death_days(history)
        day = float(deaths[rule.events - 1]) if deaths.size >= rule.events else math.inf
    return min(day, model.horizon_day)


@dataclass(frozen=True)
class ObservedData:
    """Per-patient data visible at one cutoff, for the patients treated by then (months for times)."""

    cutoff_day: float | NDArray[np.float64]
    patient: NDArray[np.intp]
    best_overall_response: NDArray[np.int8]
    any_response: NDArray[np.bool_]
    evaluable: NDArray[np.bool_]
    pfs_months: NDArray[np.float64]
    pfs_event: NDArray[np.bool_]
    os_months: NDArray[np.float64]
    os_event: NDArray[np.bool_]
    cycles_received: NDArray[np.int64]
    ae_count: NDArray[np.int64]
    ae_discontinued: NDArray[np.bool_]
    on_treatment: NDArray[np.bool_]
    known_scans: NDArray[np.bool_]

    @property
    def n_treated(self) -> int:
        """Patients dosed by the cutoff."""
        return int(self.patient.shape[0])


@dataclass(frozen=True)
class Visible:
    """What a cutoff can show: the patients dosed by then, their journeys and which scans are known.

    ``day`` is the cutoff (one, or one per treated patient); ``column`` the same shaped to compare
    with a row of scans or cycles.
    """

    patient: NDArray[np.intp]
    journeys: PatientJourneys
    dose: NDArray[np.float64]
    day: float | NDArray[np.float64]
    column: float | NDArray[np.float64]
    known: NDArray[np.bool_]


def visible(
    journeys: PatientJourneys, first_dose_day: NDArray[np.float64], day: float | NDArray[np.float64]
) -> Visible:
    """The patients dosed by cutoff ``day`` (one, or one per patient; NaN: none) and their scans known by then."""
    per_patient = np.ndim(day) > 0
    treated = np.flatnonzero(first_dose_day <= day)  # NaN compares False: nobody
    j = journeys if treated.shape[0] == journeys.size else journeys.take(treated)  # often everybody
    dose = first_dose_day[treated]
    if per_patient:
        day = np.asarray(day)[treated]
    column = np.asarray(day)[:, None] if per_patient else day
    # Compare on the calendar (dose + time <= day) so an event-driven cutoff set at an event's
    # own day sees that event, with no floating-point doubt.
    known = (j.scan_status != Response.NO_SCAN) & (dose[:, None] + j.scan_day <= column)
    return Visible(treated, j, dose, day, column, known)


def known_status(seen: Visible) -> NDArray[np.int8]:
    """Each scan's reading where it is known at the cutoff, NO_SCAN (0) elsewhere."""
    return or_zero(seen.journeys.scan_status, seen.known)


def best_response(seen: Visible, status: NDArray[np.int8], sd_min_days: float) -> NDArray[np.int8]:
    """Best overall response at the cutoff from the known readings ``status`` (:func:`known_status`)."""
    j = seen.journeys
    return best_overall_response(j.scan_day, status, seen.dose + j.confirmation_day <= seen.day, sd_min_days)


def death_seen(seen: Visible) -> NDArray[np.bool_]:
    """Whether each death is recorded by the cutoff: on or before it, and within follow-up."""
    j = seen.journeys
    return np.asarray((seen.dose + j.death_day <= seen.day) & (j.death_day <= j.follow_up_end_day))


def responses(seen: Visible, sd_min_days: float) -> dict[str, NDArray[Any]]:
    """Best overall response, any response (confirmed or not) and evaluability at the cutoff."""
    status = known_status(seen)
    return {
        "best_overall_response": best_response(seen, status, sd_min_days),
        "any_response": np.asarray(responding_scan(status).any(axis=1)),
        "evaluable": np.asarray(seen.known.any(axis=1)),
    }


def outcomes(seen: Visible, pfs_censoring: str) -> dict[str, NDArray[Any]]:
    """PFS and OS (months), cycles, AEs and treatment status at the cutoff (see :func:`observe`)."""
    j, dose, day, known = seen.journeys, seen.dose, seen.day, seen.known
    contact_end = np.minimum(day - dose, j.follow_up_end_day)
    dead = death_seen(seen)
    pd_seen = dose + j.progression_day <= day
    last_scan = or_zero(j.scan_day, known).max(axis=1, initial=0.0)
    pfs_event = pd_seen | dead
    pfs_day = np.where(pd_seen, j.progression_day, np.where(dead, j.death_day, last_scan))
    if pfs_censoring == "fda":
        pfs_day, pfs_event = fda_censoring(j, dose, day, known, pfs_day, pfs_event)
    os_day = np.where(dead, j.death_day, contact_end)
    started = dose[:, None] + j.cycle_start_day <= seen.column
    ended = dose + j.treatment_end_day <= day
    return {
        "pfs_months": pfs_day / DAYS_PER_MONTH,
        "pfs_event": pfs_event,
        "os_months": os_day / DAYS_PER_MONTH,
        "os_event": dead,
        "cycles_received": started.sum(axis=1),
        "ae_count": (j.ae_in_cycle & started).sum(axis=1),
        "ae_discontinued": ended & (j.treatment_end_reason == _AE_STOP),
        "on_treatment": ~ended,
    }


def observe(
    journeys: PatientJourneys,
    first_dose_day: NDArray[np.float64],
    day: float | NDArray[np.float64],
    sd_min_days: float,
    pfs_censoring: str = "treatment_policy",
) -> ObservedData:
    """The data visible at cutoff ``day`` for every patient dosed by then.

    ``first_dose_day`` and ``day`` count from the same origin (the study start in a trial);
    ``day`` is one cutoff, or one per patient (many replicates stacked, :mod:`sim.analysis.batch`;
    NaN: none); ``sd_min_days`` is the protocol's minimum time from first dose for stable disease;
    ``pfs_censoring`` is ``analysis.pfs_censoring`` (see :func:`fda_censoring`). An analysis that
    needs only part of it calls :func:`visible` and then :func:`responses` or :func:`outcomes`.
    """
    seen = visible(journeys, first_dose_day, day)
    return ObservedData(
        cutoff_day=seen.day,
        patient=seen.patient,
        known_scans=seen.known,
        **responses(seen, sd_min_days),
        **outcomes(seen, pfs_censoring),
    )


def fda_censoring(
    j: PatientJourneys,
    dose: NDArray[np.float64],
    day: float | NDArray[np.float64],
    known: NDArray[np.bool_],
    pfs_day: NDArray[np.float64],
    pfs_event: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """PFS censored as FDA's guidance and most protocols do, on top of the treatment-policy times.

    * New anticancer therapy before any event: censored at the last scan on or before its start.
    * Progression or death after two or more missed scans in a row: censored at the last adequate
      scan before them.
    The earlier of the two applies when both do. Times are days from first dose.
    """
    event_day = np.where(pfs_event, pfs_day, np.inf)
    before_event = known & (j.scan_day < event_day[:, None])
    last_adequate = np.where(before_event, j.scan_day, 0.0).max(axis=1, initial=0.0)
    visible = dose[:, None] + j.scan_day <= (np.asarray(day)[:, None] if np.ndim(day) else day)
    gap = j.scan_missed & visible & (j.scan_day > last_adequate[:, None]) & (j.scan_day < event_day[:, None])
    after_misses = pfs_event & (gap.sum(axis=1) >= 2)
    therapy = (dose + j.new_therapy_day <= day) & (j.new_therapy_day < event_day)
    before_therapy = known & (j.scan_day <= j.new_therapy_day[:, None])
    last_before_therapy = np.where(before_therapy, j.scan_day, 0.0).max(axis=1, initial=0.0)
    censor_day = np.minimum(
        np.where(therapy, last_before_therapy, np.inf), np.where(after_misses, last_adequate, np.inf)
    )
    censored = therapy | after_misses
    return np.where(censored, censor_day, pfs_day), pfs_event & ~censored
