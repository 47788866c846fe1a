"""Monte Carlo standard errors for the estimates a run prints.

Replicates are independent, so a mean's MCSE is ``sd / sqrt(R)`` and a proportion's
``sqrt(p (1 - p) / R)``. A quantile's MCSE uses order statistics, which needs no density estimate:
the ranks ``R q +/- sqrt(R q (1 - q))`` bracket one standard error of the sample quantile, so half
the distance between those order statistics estimates it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Estimate", "mean_estimate", "proportion_estimate", "quantile_estimate"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error and the number of replicates behind it."""

    value: float
    mcse: float
    n: int


def _finite(values: ArrayLike) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def mean_estimate(values: ArrayLike) -> Estimate:
    """Mean over replicates (NaNs, e.g. an unreached median, are left out and n says so)."""
    x = _finite(values)
    if x.size == 0:
        return Estimate(math.nan, math.nan, 0)
    sd = float(x.std(ddof=1)) if x.size > 1 else math.nan
    return Estimate(float(x.mean()), sd / math.sqrt(x.size), int(x.size))


def proportion_estimate(flags: ArrayLike) -> Estimate:
    """Share of replicates where ``flags`` holds, with the binomial MCSE."""
    x = np.asarray(flags, dtype=bool)
    if x.size == 0:
        return Estimate(math.nan, math.nan, 0)
    p = float(x.mean())
    return Estimate(p, math.sqrt(p * (1.0 - p) / x.size), int(x.size))


def quantile_estimate(values: ArrayLike, q: float) -> Estimate:
    """The ``q`` quantile over replicates with its order-statistic MCSE."""
    x = np.sort(_finite(values))
    n = x.size
    if n == 0:
        return Estimate(math.nan, math.nan, 0)
    value = float(np.quantile(x, q))
    half = math.sqrt(n * q * (1.0 - q))
    lo = min(max(int(math.floor(n * q - half)), 0), n - 1)
    hi = min(max(int(math.ceil(n * q + half)), 0), n - 1)
    return Estimate(value, float(x[hi] - x[lo]) / 2.0, int(n))
