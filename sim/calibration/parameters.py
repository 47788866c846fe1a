"""The fitted distributions as vectors of log-parameters: families, bounds, starting points, rounding."""

from __future__ import annotations

import math

import numpy as np

from ..distributions import FAMILIES, Exponential, SurvivalDistribution
from ..units import DAYS_PER_MONTH
from .targets import CalibrationTargets

__all__ = [
    "FITTABLE_FAMILIES",
    "PARAMETER_DECIMALS",
    "SHAPE_BOUNDS",
    "at_shape_edge",
    "bounds",
    "distribution",
    "parameter_count",
    "pfs_start",
    "pps_start",
    "rounded",
]

FITTABLE_FAMILIES: tuple[str, ...] = ("exponential", "weibull", "loglogistic", "lognormal")
"""Families a calibration can fit: the median alone, or the median and a shape."""

SHAPE_BOUNDS = (0.25, 8.0)
"""Shapes a fit may use; a fit that ends on a bound asks for an implausibly flat or steep curve."""

PARAMETER_DECIMALS = 4
"""Fitted medians and shapes are written with this many decimals, and evaluated as written."""

_LOG_MEDIAN_BOUNDS = (math.log(0.03), math.log(600.0))
_LOG_SHAPE_BOUNDS = (math.log(SHAPE_BOUNDS[0]), math.log(SHAPE_BOUNDS[1]))


def parameter_count(family: str) -> int:
    """1 for the exponential (median), 2 for the shaped families (median, shape)."""
    return 1 if family == "exponential" else 2


def distribution(family: str, x: np.ndarray) -> SurvivalDistribution:
    """The family member with log median ``x[0]`` (and log shape ``x[1]``)."""
    median = float(np.exp(x[0]))
    if family == "exponential":
        return Exponential(median)
    return FAMILIES[family](median_months=median, shape=float(np.exp(x[1])))  # type: ignore[call-arg]


def rounded(dist: SurvivalDistribution) -> SurvivalDistribution:
    """The distribution with its median and shape at the decimals the TOML block is written with."""
    params = {k: round(v, PARAMETER_DECIMALS) for k, v in dist.parameters().items() if k != "family"}
    return type(dist)(**params)


def at_shape_edge(dist: SurvivalDistribution) -> bool:
    """Whether a fitted shape ended on (within 0.1% of) a bound of SHAPE_BOUNDS."""
    shape = dist.parameters().get("shape")
    return shape is not None and not SHAPE_BOUNDS[0] * 1.001 < shape < SHAPE_BOUNDS[1] * 0.999


def bounds(families: list[str]) -> tuple[list[float], list[float]]:
    """Lower and upper bounds of the concatenated log-parameters of ``families``."""
    low, high = [], []
    for family in families:
        low.append(_LOG_MEDIAN_BOUNDS[0])
        high.append(_LOG_MEDIAN_BOUNDS[1])
        if parameter_count(family) == 2:
            low.append(_LOG_SHAPE_BOUNDS[0])
            high.append(_LOG_SHAPE_BOUNDS[1])
    return low, high


def _exponential_median(months: float, rate: float) -> float:
    """Median of the exponential curve through (months, rate)."""
    return months * math.log(2.0) / -math.log(rate)


def pfs_start(t: CalibrationTargets, family: str) -> list[float]:
    """Starting point: the PFS median target, else an exponential through the first rate; shape 1."""
    if t.median_pfs_months is not None:
        median = t.median_pfs_months
    elif t.pfs_at:
        median = _exponential_median(t.pfs_at[0].months, t.pfs_at[0].rate)
    else:
        assert t.dcr is not None
        median = _exponential_median(t.scan_interval_days / DAYS_PER_MONTH, t.dcr)
    return [math.log(median)] + ([0.0] if parameter_count(family) == 2 else [])


def pps_start(t: CalibrationTargets, pfs_median: float, family: str) -> list[float]:
    """Starting point: OS median (or an exponential OS through the first landmark) less the PFS median."""
    if t.median_os_months is not None:
        os_median = t.median_os_months
    else:
        os_median = _exponential_median(t.os_at[0].months, t.os_at[0].rate)
    median = max(os_median - pfs_median, 0.1 * os_median)
    return [math.log(median)] + ([0.0] if parameter_count(family) == 2 else [])
