"""The fitted distributions as vectors of log-parameters: families, bounds, starting points, rounding.

Everything here is read from each family's declaration (``parameter_specs`` in
:mod:`sim.distributions`). A declared parameter is, for a fit:

* a positive scalar with search bounds (a median, a shape): one free log-parameter;
* a strictly increasing list (the piecewise exponential's ``cuts_months``): given by the user,
  not fitted;
* a list of positive numbers of which only the ratios matter (``relative_hazards``, one entry per
  interval between the given cut points): the first entry is held at 1 and each later one is a free
  log-parameter, searched in :data:`RELATIVE_HAZARD_BOUNDS`.

A family is fittable when every parameter is one of these. Log-parameters follow the
declaration's order (log median, then log shape or the log relative hazards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..distributions import FAMILIES, SHAPE_BOUNDS, ParameterKind, ParameterSpec, SurvivalDistribution
from ..units import DAYS_PER_MONTH
from .targets import CalibrationTargets

__all__ = [
    "FITTABLE_FAMILIES",
    "FreeParameter",
    "bounds",
    "number_word",
    "NEAR_BOUND_FACTOR",
    "PARAMETER_DECIMALS",
    "RELATIVE_HAZARD_BOUNDS",
    "SHAPE_BOUNDS",
    "FittedFamily",
    "pfs_start",
    "pps_start",
]

RELATIVE_HAZARD_BOUNDS: tuple[float, float] = (0.01, 100.0)
"""Search range of a piecewise exponential's hazard in a later interval relative to the first one's."""

NEAR_BOUND_FACTOR = 1.25
"""A fitted parameter within this factor of a bound of its search range (25% on the log scale) is near it."""

PARAMETER_DECIMALS = 4
"""Fitted medians, shapes and relative hazards are written with this many decimals, and evaluated as written."""

_EDGE_FACTOR = 1.001
"""A fitted parameter within this factor of a bound ended on it: the fit wanted to go further."""


def _role(spec: ParameterSpec) -> str | None:
    """How a fit treats a declared parameter: 'free', 'given', 'ratios', or None if it cannot."""
    if spec.fittable:
        return "free"
    if spec.kind is ParameterKind.INCREASING_LIST:
        return "given"
    if spec.kind is ParameterKind.POSITIVE_LIST:
        return "ratios"
    return None


def _is_fittable(cls: type[SurvivalDistribution]) -> bool:
    """Whether a fit can handle every declared parameter of ``cls``."""
    roles = [_role(spec) for spec in cls.parameter_specs]
    return bool(roles) and None not in roles and roles.count("given") <= 1 and roles.count("ratios") <= 1


FITTABLE_FAMILIES: tuple[str, ...] = tuple(name for name, cls in FAMILIES.items() if _is_fittable(cls))
"""Families a calibration can fit: the median alone, the median and a shape, or the median and relative hazards."""

_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def number_word(n: int) -> str:
    """``n`` in words up to nine, in digits beyond."""
    return _NUMBER_WORDS[n] if 0 <= n < len(_NUMBER_WORDS) else str(n)


@dataclass(frozen=True)
class FreeParameter:
    """One log-parameter of a fit: its label in messages and its search range (natural units)."""

    label: str
    low: float
    high: float

    def near_bound(self, value: float) -> float | None:
        """The bound ``value`` lies within NEAR_BOUND_FACTOR of, or None."""
        if value <= self.low * NEAR_BOUND_FACTOR:
            return self.low
        if value >= self.high / NEAR_BOUND_FACTOR:
            return self.high
        return None

    def on_edge(self, value: float) -> bool:
        """Whether ``value`` ended on a bound."""
        return not self.low * _EDGE_FACTOR < value < self.high / _EDGE_FACTOR


@dataclass(frozen=True)
class FittedFamily:
    """A family as a fit sees it: its free log-parameters, with the given cut points if it has them."""

    family: str
    cuts_months: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FITTABLE_FAMILIES:
            raise ValueError(f"{self.family!r} is not a fittable family; fittable: {', '.join(FITTABLE_FAMILIES)}")
        if self.needs_cuts != bool(self.cuts_months):
            raise ValueError(f"{self.family!r} {'needs' if self.needs_cuts else 'takes no'} cut points")

    @property
    def specs(self) -> tuple[ParameterSpec, ...]:
        """The family's declared parameters."""
        return FAMILIES[self.family].parameter_specs

    @staticmethod
    def takes_cuts(family: str) -> bool:
        """Whether ``family`` has a given list (cut points) that the user must supply."""
        return any(_role(spec) == "given" for spec in FAMILIES[family].parameter_specs)

    @property
    def needs_cuts(self) -> bool:
        """Whether this family has cut points the user must supply."""
        return self.takes_cuts(self.family)

    @property
    def free(self) -> tuple[FreeParameter, ...]:
        """The free log-parameters in order, each with its label and search range."""
        out: list[FreeParameter] = []
        for spec in self.specs:
            role = _role(spec)
            if role == "free":
                assert spec.search_bounds is not None
                out.append(FreeParameter(spec.name, *spec.search_bounds))
            elif role == "ratios":
                later = range(1, len(self.cuts_months) + 1)
                out += [FreeParameter(f"{spec.name}[{i}]", *RELATIVE_HAZARD_BOUNDS) for i in later]
        return tuple(out)

    @property
    def count(self) -> int:
        """How many log-parameters the family has."""
        return len(self.free)

    def describe(self) -> str:
        """The free parameters in words: 'median and shape', 'median and 2 relative hazards'."""
        rest = [spec for spec in self.specs[1:] if _role(spec) != "given"]
        words = ["median"]
        for spec in rest:
            if _role(spec) == "ratios":
                k = len(self.cuts_months)
                words.append(f"{k} relative hazard{'s' if k > 1 else ''}")
            else:
                words.append(spec.name)
        return " and ".join(words)

    def distribution(self, x: np.ndarray) -> SurvivalDistribution:
        """The family member with log-parameters ``x``."""
        return self._member([float(v) for v in np.exp(x)])

    def _member(self, values: list[float]) -> SurvivalDistribution:
        """The family member whose free parameters have these natural-unit ``values``, in order."""
        params: dict[str, object] = {}
        i = 0
        for spec in self.specs:
            role = _role(spec)
            if role == "free":
                params[spec.name] = values[i]
                i += 1
            elif role == "given":
                params[spec.name] = self.cuts_months
            else:
                k = len(self.cuts_months)
                params[spec.name] = (1.0, *values[i : i + k])
                i += k
        return FAMILIES[self.family](**params)

    def values(self, dist: SurvivalDistribution) -> list[float]:
        """The natural-unit values of the free parameters of ``dist``, in order."""
        out: list[float] = []
        for spec in self.specs:
            role = _role(spec)
            if role == "free":
                out.append(float(getattr(dist, spec.name)))
            elif role == "ratios":
                ratios = getattr(dist, spec.name)
                out += [float(r) / float(ratios[0]) for r in ratios[1:]]
        return out

    def rounded(self, dist: SurvivalDistribution) -> SurvivalDistribution:
        """``dist`` with its free parameters at the decimals the TOML block is written with."""
        return self._member([round(v, PARAMETER_DECIMALS) for v in self.values(dist)])

    def start(self, median: float) -> list[float]:
        """Log-parameters with the given median (declared first) and every other parameter at 1."""
        return [math.log(median)] + [0.0] * (self.count - 1)

    def edges(self, dist: SurvivalDistribution) -> list[tuple[FreeParameter, float]]:
        """The free parameters other than the median that ended on a bound, with their values."""
        pairs = list(zip(self.free, self.values(dist)))[1:]
        return [(p, v) for p, v in pairs if p.on_edge(v)]


def bounds(families: list[FittedFamily]) -> tuple[list[float], list[float]]:
    """Lower and upper bounds of the concatenated log-parameters of ``families``."""
    low = [math.log(p.low) for f in families for p in f.free]
    high = [math.log(p.high) for f in families for p in f.free]
    return low, high


def _exponential_median(months: float, rate: float) -> float:
    """Median of the exponential curve through (months, rate)."""
    return months * math.log(2.0) / -math.log(rate)


def pfs_start(t: CalibrationTargets, family: FittedFamily) -> list[float]:
    """Starting point: the PFS median target, else an exponential through the first rate; the rest at 1."""
    if t.median_pfs_months is not None:
        median = t.median_pfs_months
    elif t.pfs_at:
        median = _exponential_median(t.pfs_at[0].months, t.pfs_at[0].rate)
    else:
        assert t.dcr is not None
        median = _exponential_median(t.scan_interval_days / DAYS_PER_MONTH, t.dcr)
    return family.start(median)


def pps_start(t: CalibrationTargets, pfs_median: float, family: FittedFamily) -> list[float]:
    """Starting point: OS median (or an exponential OS through the first landmark) less the PFS median."""
    if t.median_os_months is not None:
        os_median = t.median_os_months
    else:
        os_median = _exponential_median(t.os_at[0].months, t.os_at[0].rate)
    median = max(os_median - pfs_median, 0.1 * os_median)
    return family.start(median)
