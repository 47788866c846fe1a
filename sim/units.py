"""Units of time: the month the benchmarks are published in, and days counted from the study start.

The simulator counts time in days from ``trial.study_start`` (floats, so events can fall inside a
day); published survival figures are in months. One definition of a month keeps the two agreeing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from numpy.typing import NDArray

__all__ = ["DAYS_PER_MONTH", "day_number", "dates_of_days"]

DAYS_PER_MONTH = 365.25 / 12.0
"""The mean Julian month, 30.4375 days."""


def day_number(date: dt.date, origin: dt.date) -> float:
    """Whole days from ``origin`` to ``date`` (negative before it)."""
    return float((date - origin).days)


def dates_of_days(origin: dt.date, days: NDArray[np.float64] | float) -> NDArray[np.datetime64]:
    """Calendar dates (day resolution) of days counted from ``origin``; NaT where not finite."""
    days = np.asarray(days, dtype=float)
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = np.isfinite(days)
    out[ok] = np.datetime64(origin, "D") + np.floor(days[ok]).astype("timedelta64[D]")
    return out
