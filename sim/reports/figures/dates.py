"""Calendar arithmetic for figures: dates as days since study start, and quantiles of dates.

Tables store dates as ``datetime64``; figures compute in whole days since ``trial.study_start`` (the
simulation's day 0) and convert back only to draw and to print. A date that never happened (a trial
that never completes enrollment) is NaN and counts as "later than every date", which is what a
quantile of "when did it happen" must do.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ...stats.mcse import Estimate, quantile_mcse

__all__ = ["day_grid", "days_since", "grid_dates", "quantile_of_events"]


def days_since(dates: pd.Series | ArrayLike, origin: dt.date) -> NDArray[np.float64]:
    """Dates as whole days since ``origin`` (NaN for a missing date)."""
    values = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")
    out = (values - np.datetime64(origin, "D")).astype("timedelta64[D]").astype(float)
    out[np.isnat(values)] = math.nan
    return out


def day_grid(origin: dt.date, first: dt.date, last: dt.date) -> NDArray[np.int64]:
    """Every day from ``first`` to ``last`` (inclusive), as days since ``origin``."""
    return np.arange((first - origin).days, (last - origin).days + 1, dtype=np.int64)


def grid_dates(origin: dt.date, days: ArrayLike) -> pd.DatetimeIndex:
    """Days since ``origin`` as calendar dates (for tables and axes)."""
    offsets = pd.to_timedelta(np.asarray(days, dtype=float), unit="D")
    return pd.DatetimeIndex(pd.Timestamp(origin) + offsets)


def quantile_of_events(days: ArrayLike, q: float) -> Estimate:
    """The ``q`` quantile of event days over all replicates, with its bootstrap MCSE.

    NaN means the event never happened and sorts after every day, so the quantile is NaN (not
    reached) when fewer than a share ``q`` of replicates have the event. The estimate and MCSE
    follow :func:`sim.stats.mcse.quantile_estimate` (linear interpolation; bootstrap MCSE).
    """
    x = np.asarray(days, dtype=float)
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    ordered = np.sort(np.where(np.isnan(x), np.inf, x))
    position = (n - 1) * q
    lo, hi = math.floor(position), math.ceil(position)
    if not math.isfinite(ordered[hi]):
        return Estimate(math.nan, math.nan, n)
    value = float(ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo))  # np.quantile's linear rule
    return Estimate(value, quantile_mcse(ordered, q), n)
