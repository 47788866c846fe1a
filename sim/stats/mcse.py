"""Monte Carlo standard errors for the estimates a run prints.

Replicates are independent, so a mean's MCSE is ``sd / sqrt(R)`` and a proportion's
``sqrt(p (1 - p) / R)``.

A quantile's MCSE is the standard deviation of its **bootstrap** distribution over replicates.
The order-statistic rule used before (half the distance between the order statistics at ranks
``R q +/- sqrt(R q (1 - q))``) assumes a continuous distribution. Many of the figures are
discrete: dates are whole days and a CI width takes one value per (responders, patients) pair.
When both ranks fall on the same value the rule gives 0, although another seed moves the quantile
to the neighbouring value (the base scenario's median CI width: MCSE 0 at 2,000 replicates, while
seeds gave 0.2709 and 0.2751). The bootstrap resamples the replicates themselves, so it sees the
atoms: if the empirical distribution function at a value ``a`` is ``F(a)`` and the next value is
``b``, the sample quantile is ``a`` or ``b`` as the resampled share below ``b`` falls either side
of ``q``, and the bootstrap SD is about ``(b - a) sqrt(p (1 - p))`` with
``p = Phi(sqrt(R) (F(a) - q) / sqrt(q (1 - q)))``: large when ``F(a)`` is near ``q``, near 0
when the quantile is pinned inside an atom. On continuous data it agrees with the density formula
``sqrt(q (1 - q) / R) / f(x_q)``. A resolution rule (report "at most one day" when the two order
statistics coincide) would flag the problem but give no number to add to an interval; the
bootstrap's numbers match the spread over seeds for every figure (``tests/test_mcse_calibration.py``).

The bootstrap needs no resampling of all ``R`` values. The quantile (linear interpolation, numpy's
default) is ``x_(j) + g (x_(j+1) - x_(j))`` with ``j = floor((R - 1) q)`` and ``g`` the fraction.
A resampled value is ``x_(floor(R U))`` with ``U`` uniform, a non-decreasing map, so the ``j``-th
resampled order statistic is ``x_(floor(R U_(j)))`` where ``U_(j)`` is the ``j``-th of ``R``
uniform order statistics: ``U_(j) ~ Beta(j + 1, R - j)``, and the next is
``U_(j+1) = U_(j) + (1 - U_(j)) W`` with ``W ~ Beta(1, R - j - 1)``, the least of the uniforms
above it. Two Beta draws per bootstrap sample give the exact bootstrap distribution, so after the
one sort the cost does not grow with ``R`` (about 1 ms for 50,000 replicates). The draws come
from a generator seeded inside the function from ``R`` and ``q`` alone, so the MCSE is a fixed
function of the data: rerunning or reordering gives the same figure and no global random state is
read or changed. With ``B = BOOTSTRAP_SAMPLES`` draws the MCSE's own Monte Carlo error is about
``1/sqrt(2 B)``, under 1%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy
from numpy.typing import ArrayLike

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "Estimate",
    "estimate_json",
    "json_number",
    "mean_estimate",
    "proportion_estimate",
    "quantile_estimate",
    "quantile_mcse",
]

BOOTSTRAP_SAMPLES = 10_000
"""Bootstrap samples behind a quantile's MCSE: enough that its own Monte Carlo error is under 1%."""

_BOOTSTRAP_ENTROPY = 0x5EED_0C5E
"""Fixed entropy of the quantile bootstrap's generator; with ``R`` and ``q`` it makes the seed."""


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error and the number of replicates behind it.

    ``bound``: for a proportion of exactly 0 or 1, whose binomial MCSE is 0 and says nothing, the
    exact one-sided 95% Clopper-Pearson bound (upper for 0, lower for 1); None otherwise.
    """

    value: float
    mcse: float
    n: int
    bound: float | None = None

    def uncertainty(self, digits: int = 4) -> str:
        """The MCSE in words, or the bound where the MCSE is 0 by construction: ``MCSE 0.0123``, ``<= 0.0010``."""
        if self.bound is None:
            return f"MCSE {self.mcse:.{digits}f}"
        side = "<=" if self.value == 0.0 else ">="
        return f"{side} {self.bound:.{digits}f} (one-sided 95%, {self.value * self.n:.0f} of {self.n})"


def json_number(x: float | None) -> float | None:
    """JSON has no NaN: a missing figure becomes null."""
    return None if x is None or not math.isfinite(x) else float(x)


def estimate_json(e: Estimate) -> dict[str, Any]:
    """An estimate as the JSON documents hold it: ``{estimate, mcse, replicates}``, and ``bound_95`` when it has one."""
    doc = {"estimate": json_number(e.value), "mcse": json_number(e.mcse), "replicates": e.n}
    return doc if e.bound is None else {**doc, "bound_95": json_number(e.bound)}


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
    p, n = float(x.mean()), int(x.size)
    return Estimate(p, math.sqrt(p * (1.0 - p) / n), n, _extreme_bound(p, n))


def _extreme_bound(p: float, n: int) -> float | None:
    """The exact one-sided 95% Clopper-Pearson bound of a share of 0 (upper) or 1 (lower) of ``n``, else None.

    With no event in ``n`` trials the upper bound is ``1 - 0.05 ** (1 / n)``, about ``3 / n`` (the
    rule of three); the Beta quantile gives it exactly.
    """
    if p == 0.0:
        return float(scipy.stats.beta.ppf(0.95, 1, n))
    if p == 1.0:
        return float(scipy.stats.beta.ppf(0.05, n, 1))
    return None


def _bootstrap_quantiles(x: np.ndarray, q: float, samples: int) -> np.ndarray:
    """``samples`` draws of ``np.quantile(resample, q)`` over resamples of the sorted ``x``, by order statistics."""
    n = x.size
    position = (n - 1) * q
    j = min(int(math.floor(position)), n - 1)
    fraction = position - j
    rng = np.random.default_rng([_BOOTSTRAP_ENTROPY, n, int(round(q * 2**32))])
    u = rng.beta(j + 1, n - j, size=samples)
    low = x[np.minimum((n * u).astype(np.int64), n - 1)]
    if fraction == 0.0:
        return low
    u_next = u + (1.0 - u) * rng.beta(1, n - j - 1, size=samples)
    high = x[np.minimum((n * u_next).astype(np.int64), n - 1)]
    with np.errstate(invalid="ignore"):  # inf - inf where neither order statistic is reached: NaN, as it should
        return low + fraction * (high - low)


def quantile_mcse(sorted_values: ArrayLike, q: float) -> float:
    """Bootstrap MCSE of ``np.quantile(sorted_values, q)`` (module docstring); the values must be sorted.

    ``+inf`` may stand for an event that never happened (it sorts last): the MCSE is then NaN if
    some bootstrap samples do not reach the quantile. Identical values give 0.
    """
    x = np.asarray(sorted_values, dtype=float)
    if x.size == 0:
        return math.nan
    if x[0] == x[-1]:
        return 0.0
    draws = _bootstrap_quantiles(x, q, BOOTSTRAP_SAMPLES)
    if not np.all(np.isfinite(draws)):
        return math.nan
    return float(draws.std(ddof=1))


def quantile_estimate(values: ArrayLike, q: float) -> Estimate:
    """The ``q`` quantile over replicates with its bootstrap MCSE, which holds on discrete data too."""
    x = np.sort(_finite(values))
    if x.size == 0:
        return Estimate(math.nan, math.nan, 0)
    return Estimate(float(np.quantile(x, q)), quantile_mcse(x, q), int(x.size))
