"""Tidy per-replicate tables: patients at each cutoff and interim looks (schemas in :mod:`sim.analysis.records`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..model.history import HistoryBatch, TrialHistory
from ..model.journey import END_REASONS
from ..model.observe import ObservedData, observe
from ..model.recist import RESPONSE_NAMES
from ..model.trial_model import TrialModel
from ..units import DAYS_PER_MONTH

__all__ = ["look_columns", "patient_frame", "patient_table"]


def patient_table(
    history: TrialHistory, model: TrialModel, obs: ObservedData, replicate: int, cutoff: str
) -> pd.DataFrame:
    """The patients treated by the cutoff, as the trial database shows them at that date."""
    idx = obs.patient
    j = history.journeys.take(idx)
    first_dose = history.first_dose_day[idx]
    scan_dates = model.dates(first_dose[:, None] + j.scan_day)
    scans = [
        (scan_dates[r, known].tolist(), [RESPONSE_NAMES[s] for s in j.scan_status[r, known]])
        for r, known in enumerate(obs.known_scans)
    ]
    reason = np.array(END_REASONS, dtype=object)[j.treatment_end_reason]
    reason = np.where(obs.on_treatment, "ongoing", reason)
    return pd.DataFrame(
        {
            "replicate": replicate,
            "cutoff": cutoff,
            "cutoff_date": model.dates(np.full(idx.shape, obs.cutoff_day)),
            "patient": idx + 1,
            "site": history.site[idx] + 1,
            "screening_date": model.dates(history.consent_day[idx]),
            "enrollment_date": model.dates(history.enrollment_day[idx]),
            "first_dose_date": model.dates(first_dose),
            "scan_dates": [s[0] for s in scans],
            "scan_results": [s[1] for s in scans],
            "evaluable": obs.evaluable,
            "best_overall_response": np.array(RESPONSE_NAMES, dtype=object)[obs.best_overall_response],
            "pfs_months": obs.pfs_months,
            "pfs_event": obs.pfs_event,
            "os_months": obs.os_months,
            "os_event": obs.os_event,
            "cycles_received": obs.cycles_received,
            "treatment_end_reason": reason,
            # Ended by the cutoff on the calendar, as obs.on_treatment says; comparing the study day
            # with cutoff - first dose instead could disagree with it by one rounding.
            "treatment_end_date": model.dates(np.where(obs.on_treatment, np.nan, first_dose + j.treatment_end_day)),
            "grade3_ae_count": obs.ae_count,
            "ae_discontinued": obs.ae_discontinued,
        }
    )


def look_columns(batch: HistoryBatch, model: TrialModel, start: int) -> dict[str, NDArray[Any]]:
    """One row per interim look of each replicate (``start`` numbers the first), in calendar order."""
    replicate = batch.look_replicate
    first = np.searchsorted(replicate, replicate, side="left")
    return {
        "replicate": replicate + start,
        "look": np.arange(replicate.shape[0], dtype=np.int64) - first + 1,
        "look_date": model.dates(batch.look_day),
        "patients": batch.look_patients,
        "responders": batch.look_responders,
        "stopped": batch.look_stop,
        "wait_days": batch.look_wait,
        "look_months": (batch.look_day - model.open_day) / DAYS_PER_MONTH,
    }


def patient_frame(
    batch: HistoryBatch, model: TrialModel, start: int, primary_day: NDArray[np.float64], final_day: NDArray[np.float64]
) -> pd.DataFrame:
    """The patient table of every replicate at its primary and final cutoffs (one replicate at a time)."""
    plan, sd_days = model.scenario.analysis, model.scenario.schedule.sd_min_days
    frames = []
    for r in range(batch.n_replicates):
        history = batch.history(r, model.scenario.trial.sample_size)
        for label, day in (("primary", primary_day[r]), ("final", final_day[r])):
            obs = observe(history.journeys, history.first_dose_day, float(day), sd_days, plan.pfs_censoring)
            frames.append(patient_table(history, model, obs, start + r, label))
    return pd.concat(frames, ignore_index=True)
