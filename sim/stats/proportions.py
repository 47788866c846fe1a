"""Exact inference for a response rate: one-sided binomial test, confidence intervals, AE incidence.

Every p-value is the exact binomial tail from scipy (never a normal approximation). The simulator
decides millions of replicates with the same (n, p0, alpha), so :func:`critical_responders` turns
the test into one integer: reject H0 exactly when ``responders >= critical_responders(n, p0, alpha)``,
which is the same decision as ``binomtest(k, n, p0, alternative="greater").pvalue <= alpha``
because both read the same ``scipy.stats.binom.sf`` tail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy
from numpy.typing import NDArray

__all__ = [
    "CI_METHODS",
    "ProportionResult",
    "proportion_ci",
    "one_sided_p_value",
    "ResponseRateTest",
    "analyse_proportion",
    "critical_responders",
]

CI_METHODS: tuple[str, ...] = ("exact", "wilson", "wilsoncc", "jeffreys", "agresti-coull")
"""Interval methods accepted by :func:`proportion_ci`; "exact" is Clopper-Pearson."""

_SCIPY_METHODS: dict[str, Literal["wilson", "wilsoncc"]] = {"wilson": "wilson", "wilsoncc": "wilsoncc"}


def _check_counts(k: int, n: int) -> tuple[int, int]:
    """Validate a responders / patients pair and return it as Python ints."""
    if isinstance(k, bool) or isinstance(n, bool) or int(k) != k or int(n) != n:
        raise ValueError(f"k and n must be integers, got k={k!r}, n={n!r}")
    k, n = int(k), int(n)
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    return k, n


def _check_probability(name: str, value: float, *, closed: bool) -> float:
    """A probability in [0, 1] (closed) or (0, 1) (open)."""
    value = float(value)
    inside = 0.0 <= value <= 1.0 if closed else 0.0 < value < 1.0
    if not inside:
        interval = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def _greater_p_values(k: NDArray[np.int64], n: int | NDArray[np.int64], p0: float) -> NDArray[np.float64]:
    """The exact one-sided p-value P(X >= k) of each of ``k`` responders in ``n`` against ``p0``."""
    return np.asarray(np.minimum(scipy.stats.binom.sf(k - 1, n, p0), 1.0))


def _clopper_pearson(
    k: NDArray[np.int64], n: int | NDArray[np.int64], conf_level: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact (Clopper-Pearson) limits for each of ``k`` responders in ``n``: beta quantiles.

    The same limits ``scipy.stats.binomtest(...).proportion_ci(method="exact")`` solves for
    (equal to 1e-12 on a grid, tested); one formula serves the scalar and the tabulated paths.
    """
    tail = (1.0 - conf_level) / 2.0
    with np.errstate(invalid="ignore"):
        low = np.where(k == 0, 0.0, scipy.stats.beta.ppf(tail, np.maximum(k, 1), n - k + 1))
        high = np.where(k == n, 1.0, scipy.stats.beta.ppf(1.0 - tail, k + 1, np.maximum(n - k, 1)))
    return low, high


def _jeffreys_ci(k: int, n: int, conf_level: float) -> tuple[float, float]:
    """Equal-tailed Beta(k + 1/2, n - k + 1/2) interval; lower 0 at k = 0, upper 1 at k = n."""
    tail = (1.0 - conf_level) / 2.0
    posterior = scipy.stats.beta(k + 0.5, n - k + 0.5)
    low = 0.0 if k == 0 else float(posterior.ppf(tail))
    high = 1.0 if k == n else float(posterior.isf(tail))
    return low, high


def _agresti_coull_ci(k: int, n: int, conf_level: float) -> tuple[float, float]:
    """Wald interval after adding z^2/2 successes and z^2/2 failures, clipped to [0, 1]."""
    z = float(scipy.stats.norm.isf((1.0 - conf_level) / 2.0))
    n_tilde = n + z * z
    p_tilde = (k + z * z / 2.0) / n_tilde
    half = z * math.sqrt(p_tilde * (1.0 - p_tilde) / n_tilde)
    return max(0.0, p_tilde - half), min(1.0, p_tilde + half)


def proportion_ci(k: int, n: int, method: str = "exact", conf_level: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval for a binomial proportion ``k / n``.

    Parameters
    ----------
    k, n
        Responders and patients, ``0 <= k <= n``. ``n = 0`` gives ``(nan, nan)``.
    method
        One of :data:`CI_METHODS`: "exact" (Clopper-Pearson, as beta quantiles), "wilson",
        "wilsoncc" (Wilson with continuity correction; these two are scipy's
        ``binomtest(...).proportion_ci``), "jeffreys", "agresti-coull".
    conf_level
        Two-sided confidence level in (0, 1).

    Returns
    -------
    (low, high)
    """
    if method not in CI_METHODS:
        raise ValueError(f"method must be one of {', '.join(CI_METHODS)}; got {method!r}")
    conf_level = _check_probability("conf_level", conf_level, closed=False)
    k, n = _check_counts(k, n)
    if n == 0:
        return math.nan, math.nan
    if method == "exact":
        low, high = _clopper_pearson(np.array([k]), n, conf_level)
        return float(low[0]), float(high[0])
    if method in _SCIPY_METHODS:
        ci = scipy.stats.binomtest(k, n).proportion_ci(confidence_level=conf_level, method=_SCIPY_METHODS[method])
        return float(ci.low), float(ci.high)
    if method == "jeffreys":
        return _jeffreys_ci(k, n, conf_level)
    return _agresti_coull_ci(k, n, conf_level)


def one_sided_p_value(k: int, n: int, p0: float) -> float:
    """Exact p-value of H0: p <= p0 against p > p0, i.e. P(Bin(n, p0) >= k); NaN when n = 0."""
    p0 = _check_probability("p0", p0, closed=True)
    k, n = _check_counts(k, n)
    if n == 0:
        return math.nan
    return float(scipy.stats.binomtest(k, n, p0, alternative="greater").pvalue)


@dataclass(frozen=True)
class ProportionResult:
    """A response-rate analysis: estimate, two-sided CI and exact one-sided p-value against p0."""

    k: int
    n: int
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    p0: float
    method: str
    conf_level: float

    def rejects(self, alpha: float) -> bool:
        """True when the one-sided p-value is at most ``alpha`` (False when n = 0)."""
        return bool(self.p_value <= alpha)


@dataclass
class ResponseRateTest:
    """Exact one-sided binomial test of ``p0`` and a two-sided CI, tabulated once per ``n``.

    The p-value is ``binom.sf(k - 1, n, p0)``, which is what ``scipy.stats.binomtest`` computes
    for ``alternative="greater"``; the intervals are :func:`proportion_ci`'s, the exact ones from
    the same vectorised formula.
    A run asks for the same (k, n) pairs thousands of times: one vectorised call per n replaces
    hundreds of root searches. Tests pin every entry against ``binomtest`` on a grid of (k, n).
    """

    p0: float
    method: str = "exact"
    conf_level: float = 0.95
    _tables: dict[int, tuple[NDArray[np.float64], ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.method not in CI_METHODS:
            raise ValueError(f"method must be one of {', '.join(CI_METHODS)}; got {self.method!r}")
        self.p0 = _check_probability("p0", self.p0, closed=True)
        self.conf_level = _check_probability("conf_level", self.conf_level, closed=False)

    def table(self, n: int) -> tuple[NDArray[np.float64], ...]:
        """(p-value, CI low, CI high) for k = 0..n responders among ``n`` patients."""
        if n not in self._tables:
            self._tables[n] = self._tabulate(n)
        return self._tables[n]

    def tabulate_through(self, n_max: int) -> ResponseRateTest:
        """This test with its tables for every n = 1..``n_max`` computed now; returns itself.

        A run's driver does this once, so that its workers read every analysis from the tables and
        never import ``scipy.stats`` (much of a worker's start-up). The exact test is evaluated for
        every (k, n) pair in one call of each kernel, the same elementwise values as per n.
        """
        if self.method != "exact":
            for size in range(1, n_max + 1):
                self.table(size)
            return self
        n, k = np.tril_indices(n_max + 1)  # row n holds k = 0..n and starts at n (n + 1) / 2
        p_value = _greater_p_values(k, n, self.p0)
        low, high = _clopper_pearson(k, n, self.conf_level)
        for size in range(1, n_max + 1):
            rows = slice(size * (size + 1) // 2, (size + 1) * (size + 2) // 2)
            self._tables.setdefault(size, (p_value[rows], low[rows], high[rows]))
        return self

    def tabulated(self, n: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Whether each of ``n`` has its table already (see :meth:`tabulate_through`)."""
        return np.isin(n, np.array(list(self._tables), dtype=np.int64))  # list(): one step, whatever other threads add

    def _tabulate(self, n: int) -> tuple[NDArray[np.float64], ...]:
        k = np.arange(n + 1)
        p_value = _greater_p_values(k, n, self.p0)
        if self.method == "exact":
            low, high = _clopper_pearson(k, n, self.conf_level)
        else:
            limits = np.array([proportion_ci(int(j), n, self.method, self.conf_level) for j in k])
            low, high = limits[:, 0], limits[:, 1]
        return p_value, low, high

    def __call__(self, k: int, n: int) -> tuple[float, float, float]:
        """(one-sided p-value, CI low, CI high) of ``k`` responders in ``n``; NaN when ``n = 0``."""
        if n == 0:
            return math.nan, math.nan, math.nan
        p_value, low, high = self.table(n)
        return float(p_value[k]), float(low[k]), float(high[k])


def analyse_proportion(k: int, n: int, p0: float, conf_level: float = 0.95, method: str = "exact") -> ProportionResult:
    """Estimate, CI and exact one-sided p-value of ``k`` of ``n`` against ``p0``, from :class:`ResponseRateTest`.

    ``n = 0`` (nobody analysed) yields NaN estimate, bounds and p-value instead of an error.
    """
    k, n = _check_counts(k, n)
    p_value, low, high = ResponseRateTest(p0, method, conf_level)(k, n)
    return ProportionResult(
        k=k,
        n=n,
        estimate=k / n if n else math.nan,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        p0=float(p0),
        method=method,
        conf_level=float(conf_level),
    )


def critical_responders(n: int, p0: float, alpha: float) -> int:
    """Smallest r with P(Bin(n, p0) >= r) <= alpha; ``n + 1`` when even r = n is not significant.

    ``k >= critical_responders(n, p0, alpha)`` is exactly ``binomtest(k, n, p0, "greater").pvalue
    <= alpha``: scipy's p-value is the same ``binom.sf(k - 1, n, p0)`` evaluated here, and that tail
    is non-increasing in k, so the first r that passes marks every k that passes.
    """
    _, n = _check_counts(0, n)
    p0 = _check_probability("p0", p0, closed=True)
    alpha = _check_probability("alpha", alpha, closed=False)
    tails = scipy.stats.binom.sf(np.arange(-1, n + 1), n, p0)  # tails[r] = P(X >= r), r = 0..n+1
    tails = np.minimum(tails, 1.0)  # binomtest clips its p-value at 1
    passing = np.flatnonzero(tails <= alpha)
    return int(passing[0]) if passing.size else n + 1
