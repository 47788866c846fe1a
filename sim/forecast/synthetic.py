"""What a simulated trial's database would hold at an as-of date, as an observed-patients file.

Used to check the forecast on trials the model itself simulated (its calibration), and to make
the illustrative file shipped under ``scenarios/``. An event at time t is dated ``floor(t)`` and is
in the database at the end of the as-of date when t is before that day's end.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..model.conditioning import status_at
from ..model.history import TrialHistory
from ..model.journey import END_REASONS, PatientJourneys
from ..model.recist import RESPONSE_NAMES, Response
from ..model.trial_model import TrialModel
from ..model.trial_state import KnownOutcomes
from .observed import COLUMNS

__all__ = ["observed_frame"]


def _date(origin: dt.date, day: float) -> str:
    """The ISO date of a day count, "" when the event has not happened (infinite day)."""
    return (origin + dt.timedelta(days=int(np.floor(day)))).isoformat() if np.isfinite(day) else ""


def observed_frame(history: TrialHistory, model: TrialModel, as_of: dt.date) -> pd.DataFrame:
    """One row per patient enrolled by the end of ``as_of``, with what is known of them then (all text)."""
    origin = model.scenario.trial.study_start
    day = (as_of - origin).days + 1.0
    enrolled = np.flatnonzero(history.enrollment_day < day)
    dosed = enrolled[history.first_dose_day[enrolled] < day]
    journeys = history.journeys.take(dosed)
    dose = history.first_dose_day[dosed]
    known = status_at(journeys, dose, day, model.scenario.schedule.sd_min_days)
    names = [s.name for s in model.scenario.recruitment.sites]
    rows = {
        int(p): {
            **dict.fromkeys(COLUMNS, ""),
            "patient_id": f"P{p + 1:03d}",
            "site": names[history.site[p]],
            "enrollment_date": _date(origin, history.enrollment_day[p]),
        }
        for p in enrolled
    }
    for i, p in enumerate(dosed):
        rows[int(p)].update(_outcomes(journeys, known, i, dose[i], day, origin))
    return pd.DataFrame(list(rows.values()), columns=list(COLUMNS))


def _outcomes(
    j: PatientJourneys, known: KnownOutcomes, i: int, dose: float, day: float, origin: dt.date
) -> dict[str, str]:
    """The outcome cells of dosed patient ``i``: its status and the dates of the events before ``day``."""

    def before(t: float) -> float:
        return dose + t if dose + t < day else np.inf

    scans = j.scan_day[i][(j.scan_status[i] != Response.NO_SCAN) & (dose + j.scan_day[i] < day)]
    best = int(known.best_scan[i])
    reason = int(known.end_reason[i])
    return {
        "first_dose_date": _date(origin, dose),
        "best_response": RESPONSE_NAMES[best],
        "confirmed": ("true" if known.confirmed[i] else "false") if best in (Response.CR, Response.PR) else "",
        "last_scan_date": _date(origin, dose + scans.max()) if scans.size else "",
        "progression_date": _date(origin, before(j.progression_day[i])),
        "death_date": _date(origin, before(j.death_day[i])) if known.dead[i] else "",
        "treatment_end_date": _date(origin, before(j.treatment_end_day[i])),
        "treatment_end_reason": END_REASONS[reason] if reason >= 0 else "",
    }
