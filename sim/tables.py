"""Tidy per-replicate tables: patients at each cutoff and interim looks (schemas in :mod:`sim.records`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .analyse import look_waits
from .history import TrialHistory
from .journey import END_REASONS
from .observe import ObservedData
from .recist import RESPONSE_NAMES
from .trial_model import TrialModel

__all__ = ["look_table", "patient_table"]


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


def look_table(histories: Sequence[tuple[int, TrialHistory]], model: TrialModel) -> pd.DataFrame:
    """One row per interim look of each (replicate, history), in calendar order; no rows without looks."""
    rows = [
        (i, k, look.day, look.patients, look.responders, look.stop, wait)
        for i, history in histories
        for k, (look, wait) in enumerate(zip(history.looks, look_waits(history)), 1)
    ]
    replicate, look, day, patients, responders, stopped, wait = (list(c) for c in zip(*rows)) if rows else ([],) * 7
    return pd.DataFrame(
        {
            "replicate": np.asarray(replicate, dtype=np.int64),
            "look": np.asarray(look, dtype=np.int64),
            "look_date": model.dates(np.asarray(day, dtype=float)),
            "patients": np.asarray(patients, dtype=np.int64),
            "responders": np.asarray(responders, dtype=np.int64),
            "stopped": np.asarray(stopped, dtype=bool),
            "wait_days": np.asarray(wait, dtype=float),
        }
    )
