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

from ...stats.mcse import Estimate

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
    """The ``q`` quantile of event days over all replicates, with its order-statistic MCSE.

    NaN means the event never happened and sorts after every day, so the quantile is NaN (not
    reached) when fewer than a share ``q`` of replicates have the event. The estimate and MCSE
    follow :func:`sim.stats.mcse.quantile_estimate` (linear interpolation; half the distance of
    the order statistics ``R q ± sqrt(R q (1 - q))``).
    """
    x = np.asarray(days, dtype=float)
    n = x.size
    happened = np.sort(x[np.isfinite(x)])
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    position = (n - 1) * q
    lo, hi = math.floor(position), math.ceil(position)
    if hi >= happened.size:
        return Estimate(math.nan, math.nan, n)
    value = float(happened[lo] + (happened[hi] - happened[lo]) * (position - lo))
    half = math.sqrt(n * q * (1.0 - q))
    low_rank = min(max(int(math.floor(n * q - half)), 0), n - 1)
    high_rank = min(max(int(math.ceil(n * q + half)), 0), n - 1)
    mcse = float(happened[high_rank] - happened[low_rank]) / 2.0 if high_rank < happened.size else math.nan
    return Estimate(value, mcse, n)
