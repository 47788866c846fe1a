"""The fitted distributions as vectors of log-parameters: families, bounds, starting points, rounding.

Everything here is read from each family's declaration (``parameter_specs`` in
:mod:`sim.distributions`): a family is fittable when all its parameters are positive scalars with
search bounds, and its log-parameters follow the declaration's order (log median, then log shape).
"""

from __future__ import annotations

import math

import numpy as np

from ..distributions import FAMILIES, SHAPE_BOUNDS, ParameterSpec, SurvivalDistribution
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


def _is_fittable(cls: type[SurvivalDistribution]) -> bool:
    """Whether every declared parameter of ``cls`` is a positive scalar with search bounds."""
    return bool(cls.parameter_specs) and all(spec.fittable for spec in cls.parameter_specs)


FITTABLE_FAMILIES: tuple[str, ...] = tuple(name for name, cls in FAMILIES.items() if _is_fittable(cls))
"""Families a calibration can fit: the median alone, or the median and a shape."""

PARAMETER_DECIMALS = 4
"""Fitted medians and shapes are written with this many decimals, and evaluated as written."""


def _fitted(family: str) -> tuple[ParameterSpec, ...]:
    """The declared parameters of ``family``, in log-parameter order; a ValueError if it is not fittable."""
    cls = FAMILIES.get(family)
    if cls is None or not _is_fittable(cls):
        raise ValueError(f"{family!r} is not a fittable family; fittable: {', '.join(FITTABLE_FAMILIES)}")
    return cls.parameter_specs


def _search_bounds(spec: ParameterSpec) -> tuple[float, float]:
    """The declared search bounds of a fittable parameter."""
    assert spec.search_bounds is not None
    return spec.search_bounds


def parameter_count(family: str) -> int:
    """How many log-parameters ``family`` has: 1 for the exponential (median), 2 for the shaped families."""
    return len(_fitted(family))


def distribution(family: str, x: np.ndarray) -> SurvivalDistribution:
    """The family member with log median ``x[0]`` (and log shape ``x[1]``), in declaration order."""
    params = {spec.name: float(np.exp(x[i])) for i, spec in enumerate(_fitted(family))}
    return FAMILIES[family](**params)


def rounded(dist: SurvivalDistribution) -> SurvivalDistribution:
    """The distribution with its median and shape at the decimals the TOML block is written with."""
    params = {spec.name: round(getattr(dist, spec.name), PARAMETER_DECIMALS) for spec in _fitted(dist.family)}
    return type(dist)(**params)


def at_shape_edge(dist: SurvivalDistribution) -> bool:
    """Whether a fitted shape ended on (within 0.1% of) a bound of its declared range, SHAPE_BOUNDS."""
    for spec in type(dist).parameter_specs:
        if spec.name == "shape" and spec.search_bounds is not None:
            low, high = spec.search_bounds
            return not low * 1.001 < getattr(dist, spec.name) < high * 0.999
    return False


def bounds(families: list[str]) -> tuple[list[float], list[float]]:
    """Lower and upper bounds of the concatenated log-parameters of ``families``."""
    low, high = [], []
    for family in families:
        for spec in _fitted(family):
            lo, hi = _search_bounds(spec)
            low.append(math.log(lo))
            high.append(math.log(hi))
    return low, high


def _start(median: float, family: str) -> list[float]:
    """Log-parameters with the given median (declared first) and every other parameter at 1."""
    return [math.log(median)] + [0.0] * (parameter_count(family) - 1)


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
    return _start(median, family)


def pps_start(t: CalibrationTargets, pfs_median: float, family: str) -> list[float]:
    """Starting point: OS median (or an exponential OS through the first landmark) less the PFS median."""
    if t.median_os_months is not None:
        os_median = t.median_os_months
    else:
        os_median = _exponential_median(t.os_at[0].months, t.os_at[0].rate)
    median = max(os_median - pfs_median, 0.1 * os_median)
    return _start(median, family)
