"""What the database shows at each patient's own cutoff, for many replicates at once.

:func:`observe_rows` is :func:`sim.model.observe.observe` with one cutoff per patient (each
replicate's own), its rows tagged by replicate; ``tests/test_batch_analysis.py`` holds it equal to
one :func:`~sim.model.observe.observe` per replicate. :func:`cutoff_days` is
:func:`sim.model.observe.cutoff_day` for every replicate at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from ..model.history import HistoryBatch
from ..model.journey import PatientJourneys
from ..model.observe import outcomes, responses, visible
from ..model.trial_model import TrialModel
from ..scenario.model import Cutoff
from ..stats.survival_batch import padded_rows
from ..units import DAYS_PER_MONTH, day_number

__all__ = ["ObservedRows", "cutoff_days", "observe_rows", "per_replicate"]


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
    """Each replicate's cutoff day (:func:`sim.model.observe.cutoff_day`): by the study end; NaN if none enrolled."""
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

    The fields of :class:`sim.model.observe.ObservedData` an analysis needs, one row per treated patient
    of many replicates (``replicate`` says whose, ``patient`` the row in the batch). The primary
    analysis reads only the responses, the final only the outcomes, so each keeps only its own
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


_FIELDS = {f.name for f in fields(ObservedRows)}


def observe_rows(
    journeys: PatientJourneys,
    first_dose_day: NDArray[np.float64],
    cutoff: NDArray[np.float64],
    sd_min_days: float,
    pfs_censoring: str,
    replicate: NDArray[np.intp],
    parts: tuple[str, ...] = ("responses", "outcomes"),
) -> ObservedRows:
    """:func:`sim.model.observe.observe` with a cutoff per patient (NaN: never treated), tagged by replicate.

    ``parts`` chooses what to keep: ``responses`` (best overall response, any response,
    evaluable) and ``outcomes`` (PFS, OS, cycles, AEs); the rest are None.
    """
    seen = visible(journeys, first_dose_day, cutoff)
    derived = {
        **(responses(seen, sd_min_days) if "responses" in parts else {}),
        **(outcomes(seen, pfs_censoring) if "outcomes" in parts else {}),
    }
    kept = {name: values for name, values in derived.items() if name in _FIELDS}  # not on_treatment
    return ObservedRows(replicate=replicate[seen.patient], patient=seen.patient, **kept)
