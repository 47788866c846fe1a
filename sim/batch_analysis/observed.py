"""What the database shows at each patient's own cutoff, for many replicates at once.

:func:`observe_rows` applies the rules of :func:`sim.observe.observe` with one cutoff per patient
(each replicate's own), comparing on the calendar as there, so the results are identical;
``tests/test_batch_analysis.py`` holds the two equal. :func:`cutoff_days` is
:func:`sim.observe.cutoff_day` for every replicate at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..journey import END_REASONS, PatientJourneys
from ..recist import Response, best_overall_response, responding_scan
from ..scenario.model import Cutoff
from ..stats.survival_batch import padded_rows
from ..trial_model import TrialModel
from ..units import DAYS_PER_MONTH, day_number
from .histories import HistoryBatch

__all__ = ["ObservedRows", "cutoff_days", "observe_rows", "per_replicate"]

_AE_STOP = END_REASONS.index("adverse_event")


def per_replicate(
    reduce: Callable[..., NDArray[np.generic]], values: NDArray[np.generic], counts: NDArray[np.int64], empty: float
) -> NDArray[np.float64]:
    """``reduce`` (a ufunc's ``reduceat``) of each replicate's values; ``empty`` for none."""
    out = np.full(counts.shape, empty, dtype=float)
    has = counts > 0
    if has.any():
        starts = (np.cumsum(counts) - counts)[has]
        out[has] = reduce(values, starts)
    return out


def cutoff_days(rule: Cutoff, batch: HistoryBatch, model: TrialModel) -> NDArray[np.float64]:
    """Each replicate's cutoff day (:func:`sim.observe.cutoff_day`): at most the study end; NaN if nobody enrolled."""
    n = batch.patients
    if rule.rule == "date":
        assert rule.date is not None
        return np.full(n.shape, min(day_number(rule.date, model.scenario.trial.study_start), model.horizon_day))
    if rule.rule == "after_last_first_dose":
        assert rule.months is not None
        last_dose = per_replicate(np.maximum.reduceat, batch.first_dose_day, n, math.nan)
        day = last_dose + rule.months * DAYS_PER_MONTH
    else:
        assert rule.events is not None
        j = batch.journeys
        seen = j.death_day <= j.follow_up_end_day
        death = np.where(seen, batch.first_dose_day + j.death_day, np.inf)
        deaths = np.sort(padded_rows(death, n, np.inf), axis=1)
        day = deaths[:, rule.events - 1] if deaths.shape[1] >= rule.events else np.full(n.shape, np.inf)
        day = np.where(n > 0, day, np.nan)
    return np.where(np.isnan(day), np.nan, np.minimum(day, model.horizon_day))


@dataclass(frozen=True)
class ObservedRows:
    """What the database shows at each patient's own cutoff, for the patients treated by then.

    The fields of :class:`sim.observe.ObservedData` an analysis needs, one row per treated patient
    of many replicates (``replicate`` says whose, ``patient`` the row in the batch). The primary
    analysis reads only the responses, the final only the outcomes, so each is derived on demand
    (None when not asked for).
    """

    replicate: NDArray[np.intp]
    patient: NDArray[np.intp]
    best_overall_response: NDArray[np.int8] | None = None
    any_response: NDArray[np.bool_] | None = None
    evaluable: NDArray[np.bool_] | None = None
    pfs_months: NDArray[np.float64] | None = None
    pfs_event: NDArray[np.bool_] | None = None
    os_months: NDArray[np.float64] | None = None
    os_event: NDArray[np.bool_] | None = None
    cycles_received: NDArray[np.int64] | None = None
    ae_count: NDArray[np.int64] | None = None
    ae_discontinued: NDArray[np.bool_] | None = None


def observe_rows(
    journeys: PatientJourneys,
    first_dose_day: NDArray[np.float64],
    cutoff: NDArray[np.float64],
    sd_min_days: float,
    pfs_censoring: str,
    replicate: NDArray[np.intp],
    parts: tuple[str, ...] = ("responses", "outcomes"),
) -> ObservedRows:
    """:func:`sim.observe.observe` with a cutoff per patient (NaN: never treated), rule for rule.

    ``parts`` chooses what to derive: ``responses`` (best overall response, any response,
    evaluable) and ``outcomes`` (PFS, OS, cycles, AEs). Comparisons stay on the calendar
    (``dose + time <= cutoff``) as there, so the results are identical;
    ``tests/test_batch_analysis.py`` holds the two equal.
    """
    treated = np.flatnonzero(first_dose_day <= cutoff)
    j = journeys if treated.shape[0] == journeys.size else journeys.take(treated)  # usually everybody
    dose = first_dose_day[treated]
    day = cutoff[treated]
    known = (j.scan_status != Response.NO_SCAN) & (dose[:, None] + j.scan_day <= day[:, None])
    found: dict[str, Any] = {}
    if "responses" in parts:
        found.update(_responses_seen(j, dose, day, known, sd_min_days))
    if "outcomes" in parts:
        found.update(_outcomes_seen(j, dose, day, known, pfs_censoring))
    return ObservedRows(replicate=replicate[treated], patient=treated, **found)


def _responses_seen(
    j: PatientJourneys, dose: NDArray[np.float64], day: NDArray[np.float64], known: NDArray[np.bool_], sd_days: float
) -> dict[str, Any]:
    """Best overall response, any responding scan and evaluability from the scans known by each cutoff."""
    status = np.where(known, j.scan_status, Response.NO_SCAN).astype(np.int8)
    return {
        "best_overall_response": best_overall_response(j.scan_day, status, dose + j.confirmation_day <= day, sd_days),
        "any_response": np.asarray(responding_scan(status).any(axis=1)),
        "evaluable": known.any(axis=1),
    }


def _outcomes_seen(
    j: PatientJourneys,
    dose: NDArray[np.float64],
    day: NDArray[np.float64],
    known: NDArray[np.bool_],
    pfs_censoring: str,
) -> dict[str, Any]:
    """PFS, OS, cycles and AEs as seen by each cutoff (months for times)."""
    window = day - dose
    contact_end = np.minimum(window, j.follow_up_end_day)
    death_seen = (dose + j.death_day <= day) & (j.death_day <= j.follow_up_end_day)
    pd_seen = dose + j.progression_day <= day
    last_scan = np.where(known, j.scan_day, 0.0).max(axis=1, initial=0.0)
    pfs_event = pd_seen | death_seen
    pfs_day = np.where(pd_seen, j.progression_day, np.where(death_seen, j.death_day, last_scan))
    if pfs_censoring == "fda":
        pfs_day, pfs_event = _fda_censoring(j, dose, day, known, pfs_day, pfs_event)
    os_day = np.where(death_seen, j.death_day, contact_end)
    started = dose[:, None] + j.cycle_start_day <= day[:, None]
    ended = dose + j.treatment_end_day <= day
    return {
        "pfs_months": pfs_day / DAYS_PER_MONTH,
        "pfs_event": pfs_event,
        "os_months": os_day / DAYS_PER_MONTH,
        "os_event": death_seen,
        "cycles_received": started.sum(axis=1),
        "ae_count": (j.ae_in_cycle & started).sum(axis=1),
        "ae_discontinued": ended & (j.treatment_end_reason == _AE_STOP),
    }


def _fda_censoring(
    j: PatientJourneys,
    dose: NDArray[np.float64],
    day: NDArray[np.float64],
    known: NDArray[np.bool_],
    pfs_day: NDArray[np.float64],
    pfs_event: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """:func:`sim.observe.fda_censoring` with a cutoff per patient."""
    event_day = np.where(pfs_event, pfs_day, np.inf)
    before_event = known & (j.scan_day < event_day[:, None])
    last_adequate = np.where(before_event, j.scan_day, 0.0).max(axis=1, initial=0.0)
    visible = dose[:, None] + j.scan_day <= day[:, None]
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
