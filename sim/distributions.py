"""Parametric time-to-event families, each defined by its cumulative hazard.

Times are in months, the unit in which survival benchmarks are published. Every family knows its
closed forms (``sf``, ``quantile``, ``median``, ``mean``) and samples by inversion, so one uniform
draw maps to one time; that is what lets the patient model couple PFS with response through ranks.

Where scipy.stats has the family, ``scipy`` returns the frozen equivalent: the tests check every
closed form here against it. The hot path (``quantile``) is written out in numpy because a frozen
scipy ``ppf`` costs ~85 us per call against ~5 us here, and it runs several times per replicate.

Each family declares its parameters once, in ``parameter_specs``: name, kind of value, meaning and,
for the parameters a calibration may fit, the range it searches. The constructors, the scenario
checks (:mod:`sim.scenario.checks`) and the calibration (:mod:`sim.calibration.parameters`) all read
that declaration, so a family is described in one place.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Any, ClassVar

import numpy as np
import scipy as sp  # not ``scipy``: each distribution has a property of that name
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = [
    "SurvivalDistribution",
    "Exponential",
    "Weibull",
    "LogLogistic",
    "LogNormal",
    "PiecewiseExponential",
    "FAMILIES",
    "DistributionError",
    "ParameterKind",
    "ParameterSpec",
    "SHAPE_BOUNDS",
]

LN2 = math.log(2.0)


class DistributionError(ValueError):
    """A distribution was given a parameter outside its allowed range."""


def _require_positive(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise DistributionError(f"{name} must be a positive number, got {value!r}")
    return float(value)


class ParameterKind(Enum):
    """What values a family parameter takes; each value says it in words."""

    POSITIVE = "a positive number"
    POSITIVE_LIST = "a list of positive numbers"
    INCREASING_LIST = "a strictly increasing list of positive numbers"


@dataclass(frozen=True)
class ParameterSpec:
    """One declared parameter of a family: its name, kind and meaning, and where a fit may search it.

    ``min_length`` is the fewest entries a scenario file must give for a list parameter (the
    constructor itself accepts shorter lists, e.g. a single-interval piecewise exponential).
    ``search_bounds`` (natural units) marks a scalar as fittable by calibration.
    """

    name: str
    kind: ParameterKind
    doc: str
    min_length: int = 0
    search_bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        is_list = self.kind is not ParameterKind.POSITIVE
        if self.min_length and not is_list:
            raise ValueError(f"{self.name}: min_length applies to list parameters only")
        if self.search_bounds is not None:
            low, high = self.search_bounds
            if is_list or not 0 < low < high:
                bad = self.search_bounds
                raise ValueError(f"{self.name}: search_bounds must be 0 < low < high on a scalar, got {bad}")

    @property
    def fittable(self) -> bool:
        """Whether a calibration can fit it: a positive scalar with search bounds."""
        return self.kind is ParameterKind.POSITIVE and self.search_bounds is not None

    def check(self, value: Any) -> Any:
        """``value`` as floats (a tuple for lists), or :class:`DistributionError` naming this parameter."""
        if self.kind is ParameterKind.POSITIVE:
            return _require_positive(self.name, value)
        values = tuple(float(v) for v in value)
        if self.kind is ParameterKind.INCREASING_LIST:
            if any(v <= 0 for v in values) or any(b <= a for a, b in zip(values, values[1:])):
                raise DistributionError(f"{self.name} must be positive and strictly increasing, got {list(values)}")
        else:
            for v in values:
                _require_positive(f"{self.name} entries", v)
        return values


SHAPE_BOUNDS: tuple[float, float] = (0.25, 8.0)
"""Shapes a fit may use; a fit that ends on a bound asks for an implausibly flat or steep curve."""

_MEDIAN_MONTHS = ParameterSpec(
    "median_months",
    ParameterKind.POSITIVE,
    "The time by which half have had the event, in months.",
    search_bounds=(0.03, 600.0),
)
_SHAPE = ParameterSpec(
    "shape",
    ParameterKind.POSITIVE,
    "How the hazard changes with time, dimensionless; the family's docstring says how.",
    search_bounds=SHAPE_BOUNDS,
)
_CUTS_MONTHS = ParameterSpec(
    "cuts_months",
    ParameterKind.INCREASING_LIST,
    "Times, in months, at which the hazard may change.",
    min_length=1,
)
_RELATIVE_HAZARDS = ParameterSpec(
    "relative_hazards",
    ParameterKind.POSITIVE_LIST,
    "The hazard in each interval, one more than cuts_months; only their ratios matter.",
    min_length=2,
)


class SurvivalDistribution(ABC):
    """A distribution of a positive event time, in months."""

    family: str = ""
    parameter_specs: ClassVar[tuple[ParameterSpec, ...]] = ()
    """The family's parameters in constructor order, as a scenario file spells them."""

    @abstractmethod
    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        """H(t) = -log S(t)."""

    @abstractmethod
    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        """Inverse of the CDF: the time by which a share ``p`` has had the event."""

    @abstractmethod
    def mean(self) -> float:
        """Expected event time in months."""

    def inverse_cumulative_hazard(self, h: ArrayLike) -> NDArray[np.float64]:
        """The time at which H(t) = h; exact where a family overrides it, else by the quantile (tail capped)."""
        return self.quantile(np.minimum(-np.expm1(-np.asarray(h, dtype=float)), 1.0 - 2.0**-53))

    def sf(self, t: ArrayLike) -> NDArray[np.float64]:
        """Survival function S(t) = exp(-H(t))."""
        return np.exp(-self.cumulative_hazard(t))

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]:
        """P(T <= t)."""
        return -np.expm1(-self.cumulative_hazard(t))

    @property
    def median(self) -> float:
        """The time by which half have had the event."""
        return float(self.quantile(0.5))

    def sample(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> NDArray[np.float64]:
        """Draw event times by inversion of one uniform each."""
        return self.quantile(rng.random(size))

    @property
    def scipy(self) -> Any:
        """The frozen scipy.stats equivalent, or None where scipy has no such family."""
        return None

    def parameters(self) -> dict[str, Any]:
        """The natural-unit parameters as a scenario file spells them."""
        return {"family": self.family}


@dataclass(frozen=True, repr=False)
class _Base(SurvivalDistribution):
    median_months: float
    parameter_specs: ClassVar[tuple[ParameterSpec, ...]] = (_MEDIAN_MONTHS,)

    def __post_init__(self) -> None:
        # Each declared parameter in order; lists are kept as tuples of floats, scalars as given.
        for spec in self.parameter_specs:
            value = spec.check(getattr(self, spec.name))
            if spec.kind is not ParameterKind.POSITIVE:
                object.__setattr__(self, spec.name, value)

    def parameters(self) -> dict[str, Any]:
        params: dict[str, Any] = {"family": self.family}
        for name in (f.name for f in fields(self)):
            params[name] = getattr(self, name)
        return params

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items() if k != "family")
        return f"{type(self).__name__}({args})"


@dataclass(frozen=True, repr=False)
class _Shaped(_Base):
    """A family with a median and one positive shape parameter."""

    shape: float = 1.0
    parameter_specs: ClassVar[tuple[ParameterSpec, ...]] = (_MEDIAN_MONTHS, _SHAPE)


@dataclass(frozen=True, repr=False)
class Exponential(_Base):
    """Constant hazard ln(2)/median."""

    family = "exponential"

    @property
    def rate(self) -> float:
        return LN2 / self.median_months

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        return self.rate * np.asarray(t, dtype=float)

    def inverse_cumulative_hazard(self, h: ArrayLike) -> NDArray[np.float64]:
        return np.asarray(h, dtype=float) / self.rate

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        return -np.log1p(-np.asarray(p, dtype=float)) / self.rate

    def mean(self) -> float:
        return 1.0 / self.rate

    @property
    def scipy(self) -> Any:
        return sp.stats.expon(scale=1.0 / self.rate)


@dataclass(frozen=True, repr=False)
class Weibull(_Shaped):
    """H(t) = (t/scale)^shape; shape > 1 means a hazard that rises with time."""

    family = "weibull"

    @property
    def scale(self) -> float:
        return self.median_months / LN2 ** (1.0 / self.shape)

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        return (np.asarray(t, dtype=float) / self.scale) ** self.shape

    def inverse_cumulative_hazard(self, h: ArrayLike) -> NDArray[np.float64]:
        return self.scale * np.asarray(h, dtype=float) ** (1.0 / self.shape)

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        return self.scale * (-np.log1p(-np.asarray(p, dtype=float))) ** (1.0 / self.shape)

    def mean(self) -> float:
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    @property
    def scipy(self) -> Any:
        return sp.stats.weibull_min(self.shape, scale=self.scale)


@dataclass(frozen=True, repr=False)
class LogLogistic(_Shaped):
    """S(t) = 1 / (1 + (t/median)^shape); the hazard rises then falls when shape > 1."""

    family = "loglogistic"

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        return np.log1p((np.asarray(t, dtype=float) / self.median_months) ** self.shape)

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        p = np.asarray(p, dtype=float)
        return self.median_months * (p / (1.0 - p)) ** (1.0 / self.shape)

    def mean(self) -> float:
        if self.shape <= 1.0:
            return math.inf
        b = math.pi / self.shape
        return self.median_months * b / math.sin(b)

    @property
    def scipy(self) -> Any:
        return sp.stats.fisk(self.shape, scale=self.median_months)


@dataclass(frozen=True, repr=False)
class LogNormal(_Shaped):
    """log T ~ Normal(log median, shape^2)."""

    family = "lognormal"

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        t = np.asarray(t, dtype=float)
        with np.errstate(divide="ignore"):
            z = (np.log(t) - math.log(self.median_months)) / self.shape
        return -special.log_ndtr(-z)

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        return self.median_months * np.exp(self.shape * special.ndtri(np.asarray(p, dtype=float)))

    def mean(self) -> float:
        return self.median_months * math.exp(self.shape**2 / 2.0)

    @property
    def scipy(self) -> Any:
        return sp.stats.lognorm(self.shape, scale=self.median_months)


@dataclass(frozen=True, repr=False)
class PiecewiseExponential(_Base):
    """Constant hazard within intervals cut at ``cuts_months``, scaled so the median is exact.

    ``relative_hazards`` has one entry per interval (len(cuts) + 1); only their ratios matter.
    """

    cuts_months: tuple[float, ...] = ()
    relative_hazards: tuple[float, ...] = (1.0,)
    family = "piecewise_exponential"
    parameter_specs: ClassVar[tuple[ParameterSpec, ...]] = (_MEDIAN_MONTHS, _CUTS_MONTHS, _RELATIVE_HAZARDS)
    _hazards: NDArray[np.float64] = field(init=False, compare=False)
    _starts: NDArray[np.float64] = field(init=False, compare=False)
    _h_at_start: NDArray[np.float64] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # The declared checks in their own order: the count of relative hazards depends on the cuts,
        # and is named before a bad entry.
        _MEDIAN_MONTHS.check(self.median_months)
        cuts = tuple(float(c) for c in self.cuts_months)
        rel = tuple(float(h) for h in self.relative_hazards)
        object.__setattr__(self, "cuts_months", cuts)
        object.__setattr__(self, "relative_hazards", rel)
        _CUTS_MONTHS.check(cuts)
        if len(rel) != len(cuts) + 1:
            raise DistributionError(
                f"relative_hazards needs len(cuts_months) + 1 = {len(cuts) + 1} entries, got {len(rel)}"
            )
        _RELATIVE_HAZARDS.check(rel)
        starts = np.array((0.0,) + cuts)
        widths = np.diff(np.append(starts, np.inf))
        rel_arr = np.array(rel)
        h_rel_start = np.concatenate(([0.0], np.cumsum(rel_arr[:-1] * widths[:-1])))
        # H is linear in a common scale factor, so the median fixes it exactly.
        idx = np.searchsorted(starts, self.median_months, side="right") - 1
        h_rel_median = h_rel_start[idx] + rel_arr[idx] * (self.median_months - starts[idx])
        scale = LN2 / h_rel_median
        object.__setattr__(self, "_hazards", rel_arr * scale)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_h_at_start", h_rel_start * scale)

    def parameters(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "median_months": self.median_months,
            "cuts_months": list(self.cuts_months),
            "relative_hazards": list(self.relative_hazards),
        }

    @property
    def hazards_per_month(self) -> NDArray[np.float64]:
        """The hazard in each interval, per month."""
        return self._hazards.copy()

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(self._starts, t, side="right") - 1
        idx = np.clip(idx, 0, None)
        return self._h_at_start[idx] + self._hazards[idx] * (t - self._starts[idx])

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        h = -np.log1p(-np.asarray(p, dtype=float))
        idx = np.searchsorted(self._h_at_start, h, side="right") - 1
        idx = np.clip(idx, 0, None)
        return self._starts[idx] + (h - self._h_at_start[idx]) / self._hazards[idx]

    def mean(self) -> float:
        ends = np.append(self._starts[1:], np.inf)
        s_start = np.exp(-self._h_at_start)
        s_end = np.exp(-(self._h_at_start + self._hazards * (ends - self._starts)))
        return float(np.sum((s_start - s_end) / self._hazards))


FAMILIES: dict[str, type[SurvivalDistribution]] = {
    cls.family: cls for cls in (Exponential, Weibull, LogLogistic, LogNormal, PiecewiseExponential)
}
