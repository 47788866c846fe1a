"""Decision designs for a single-arm response-rate trial: exact single-stage, Simon two-stage, Bayesian.

* Single stage: reject H0: ORR <= p0 when responders >= r, the smallest r whose exact tail under
  p0 is <= alpha (:func:`sim.stats.proportions.critical_responders`).
* Simon (Controlled Clinical Trials 1989;10:1-10): stop after n1 patients when stage-1 responders
  <= r1; otherwise treat n in total and reject H0 when total responders > r (Simon's convention,
  so r is one less than the single-stage "at least" count). "Optimal" minimises the expected size
  under p0, "minimax" the maximum size n (then the expected size), both by exhaustive exact search.
* Bayesian monitoring (Lee and Liu, Clinical Trials 2008;5:93-106): Beta(a, b) prior on the ORR,
  posterior P(ORR > p0) and the predictive probability that the trial ends with that posterior
  above a threshold theta_T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy
from numpy.typing import NDArray

from .proportions import critical_responders

__all__ = [
    "SingleStageDesign",
    "SimonDesign",
    "SimonSearch",
    "single_stage",
    "smallest_single_stage",
    "min_detectable_orr",
    "simon_characteristics",
    "simon_designs",
    "simon_designs_by_n",
    "posterior_prob_above",
    "predictive_probability",
]

_EN_TIE = 1e-12
"""Relative difference below which two expected sample sizes count as equal in the Simon search."""


def _check_open_unit(name: str, value: float) -> float:
    """A probability strictly between 0 and 1."""
    value = float(value)
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


def _check_size(name: str, value: int, minimum: int = 1) -> int:
    """An integer count of at least ``minimum``."""
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class SingleStageDesign:
    """Treat n patients; reject H0: ORR <= p0 when responders >= r. ``attained_alpha`` = P(X >= r | p0)."""

    n: int
    p0: float
    alpha: float
    r: int
    attained_alpha: float

    def power(self, p1: float) -> float:
        """Exact probability of rejecting H0 when the true ORR is ``p1``."""
        return float(scipy.stats.binom.sf(self.r - 1, self.n, p1))


def single_stage(n: int, p0: float, alpha: float) -> SingleStageDesign:
    """The exact one-sided single-stage test of ``n`` patients at level ``alpha``."""
    n = _check_size("n", n)
    p0 = _check_open_unit("p0", p0)
    alpha = _check_open_unit("alpha", alpha)
    r = critical_responders(n, p0, alpha)
    return SingleStageDesign(n=n, p0=p0, alpha=alpha, r=r, attained_alpha=float(scipy.stats.binom.sf(r - 1, n, p0)))


def smallest_single_stage(p0: float, p1: float, alpha: float, power: float, nmax: int) -> SingleStageDesign | None:
    """First n <= nmax whose exact single-stage test has power >= ``power`` at ``p1``; None if none.

    Exact power is saw-toothed in n, so a larger n can fall short again; this is the first that
    reaches the target, as sample-size tables report it.
    """
    for n in range(1, _check_size("nmax", nmax) + 1):
        design = single_stage(n, p0, alpha)
        if design.r <= n and design.power(p1) >= power:
            return design
    return None


def min_detectable_orr(n: int, p0: float, alpha: float, power: float = 0.8) -> float:
    """Smallest true ORR the exact single-stage test of ``n`` patients detects with ``power``.

    The critical count r is fixed by (n, p0, alpha); P(X >= r | p) is increasing in p, so the
    answer is the root of P(X >= r | p) = power, found with brentq and then moved ulp by ulp to
    the smallest float whose computed power is at least the target.
    """
    design = single_stage(n, p0, alpha)
    power = _check_open_unit("power", power)
    if design.r > design.n:
        raise ValueError(f"no number of responders out of n={design.n} is significant at alpha={alpha}")

    def shortfall(p: float) -> float:
        return float(scipy.stats.binom.sf(design.r - 1, design.n, p)) - power

    p = float(scipy.optimize.brentq(shortfall, 0.0, 1.0, xtol=1e-15, rtol=4 * np.finfo(float).eps))
    while shortfall(math.nextafter(p, 0.0)) >= 0.0:
        p = math.nextafter(p, 0.0)
    while shortfall(p) < 0.0:
        p = math.nextafter(p, 1.0)
    return p


@dataclass(frozen=True)
class SimonDesign:
    """A Simon two-stage design with its exact operating characteristics.

    Stop after ``n1`` patients when responders <= ``r1``; reject H0 when total responders out of
    ``n`` are > ``r``. PET is the probability of stopping after stage 1, EN the expected size.
    """

    kind: str
    p0: float
    p1: float
    r1: int
    n1: int
    r: int
    n: int
    pet_p0: float
    pet_p1: float
    en_p0: float
    en_p1: float
    attained_alpha: float
    attained_power: float


@dataclass(frozen=True)
class SimonSearch:
    """Result of :func:`simon_designs`: the optimal and minimax designs (None when none fits)."""

    p0: float
    p1: float
    alpha: float
    power: float
    nmax: int
    optimal: SimonDesign | None
    minimax: SimonDesign | None


def simon_characteristics(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float, float]:
    """(PET, EN, P(reject H0)) of the Simon design r1/n1, r/n when the true ORR is ``p``.

    P(reject) = sum over x1 > r1 of P(X1 = x1) P(X2 > r - x1), X1 ~ Bin(n1, p), X2 ~ Bin(n - n1, p).
    """
    if not 0 <= r1 < n1 < n or r < r1:
        raise ValueError(f"need 0 <= r1 < n1 < n and r >= r1, got r1={r1}, n1={n1}, r={r}, n={n}")
    x1 = np.arange(r1 + 1, n1 + 1)
    pet = float(scipy.stats.binom.cdf(r1, n1, p))
    reject = float(np.sum(scipy.stats.binom.pmf(x1, n1, p) * scipy.stats.binom.sf(r - x1, n - n1, p)))
    return pet, n1 + (1.0 - pet) * (n - n1), reject


def _tail_table(nmax: int, p: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """pmf[m, x] = P(Bin(m, p) = x) and gt[m, j + 1] = P(Bin(m, p) > j), j = -1..nmax, m = 0..nmax."""
    m = np.arange(nmax + 1)[:, None]
    pmf = np.asarray(scipy.stats.binom.pmf(np.arange(nmax + 1)[None, :], m, p), dtype=float)
    gt = np.asarray(scipy.stats.binom.sf(np.arange(-1, nmax + 1)[None, :], m, p), dtype=float)
    return pmf, gt


def _reject_by_r1_r(pmf: NDArray[np.float64], gt: NDArray[np.float64], n1: int, n2: int) -> NDArray[np.float64]:
    """P(reject)[r1, r] for r1 = 0..n1-1 and r = 0..n1+n2, from precomputed binomial tables."""
    n = n1 + n2
    x1 = np.arange(n1 + 1)[:, None]
    need = np.clip(np.arange(n + 1)[None, :] - x1, -1, n2)  # stage-2 count to exceed
    weighted = pmf[n1, : n1 + 1][:, None] * gt[n2, need + 1]
    from_x1 = np.cumsum(weighted[::-1], axis=0)[::-1]  # from_x1[x] = sum over x1 >= x
    return from_x1[1:]  # row r1 sums x1 >= r1 + 1


def _candidates(p0: float, p1: float, alpha: float, power: float, nmax: int) -> NDArray[np.float64]:
    """Every (n, n1, r1, r, EN0) meeting alpha and power, with r the smallest r > r1 meeting alpha."""
    pmf0, gt0 = _tail_table(nmax, p0)
    pmf1, gt1 = _tail_table(nmax, p1)
    cdf0 = np.cumsum(pmf0, axis=1)
    found = []
    for n1 in range(1, nmax):
        r1 = np.arange(n1)
        for n2 in range(1, nmax - n1 + 1):
            n = n1 + n2
            size = _reject_by_r1_r(pmf0, gt0, n1, n2)
            ok = (size <= alpha) & (np.arange(n + 1)[None, :] > r1[:, None])
            ok[:, n] = False  # r = n never rejects
            has = ok.any(axis=1)
            if not has.any():
                continue
            r = np.argmax(ok, axis=1)
            rows = np.flatnonzero(has)
            power_at = _reject_by_r1_r(pmf1, gt1, n1, n2)[rows, r[rows]]
            keep = rows[power_at >= power]
            if keep.size:
                en0 = n1 + (1.0 - cdf0[n1, keep]) * n2
                found.append(np.column_stack([np.full(keep.size, n), np.full(keep.size, n1), keep, r[keep], en0]))
    return np.concatenate(found) if found else np.empty((0, 5))


def _describe(kind: str, row: NDArray[np.float64], p0: float, p1: float) -> SimonDesign:
    """Recompute a chosen design's characteristics directly (not from the search tables)."""
    n, n1, r1, r = (int(v) for v in row[:4])
    pet0, en0, size = simon_characteristics(r1, n1, r, n, p0)
    pet1, en1, power = simon_characteristics(r1, n1, r, n, p1)
    return SimonDesign(kind, p0, p1, r1, n1, r, n, pet0, pet1, en0, en1, size, power)


def _pick(rows: NDArray[np.float64], first: int, second: int) -> NDArray[np.float64]:
    """The row minimising column ``first``, then ``second`` (EN ties within 1e-12), then n1, r1."""
    best = rows[:, first].min()
    tol = _EN_TIE * max(1.0, abs(best)) if first == 4 else 0.0
    rows = rows[rows[:, first] <= best + tol]
    best = rows[:, second].min()
    tol = _EN_TIE * max(1.0, abs(best)) if second == 4 else 0.0
    rows = rows[rows[:, second] <= best + tol]
    return rows[np.lexsort((rows[:, 2], rows[:, 1]))][0]


def simon_designs(p0: float, p1: float, alpha: float = 0.05, power: float = 0.8, nmax: int = 100) -> SimonSearch:
    """Simon's optimal and minimax two-stage designs by exhaustive exact search over n <= ``nmax``.

    Parameters
    ----------
    p0, p1
        Uninteresting and target response rates, ``0 < p0 < p1 < 1``.
    alpha
        Largest allowed type I error P(reject | p0).
    power
        Smallest allowed P(reject | p1), i.e. 1 - beta.
    nmax
        Largest total sample size searched.

    Returns
    -------
    SimonSearch. Ties in EN(p0) go to the smaller n, then the smaller n1 and r1; for each (n1, r1, n)
    the smallest admissible r is used, which gives the most power.
    """
    p0, p1 = _check_open_unit("p0", p0), _check_open_unit("p1", p1)
    if not p1 > p0:
        raise ValueError(f"p1 must exceed p0, got p0={p0}, p1={p1}")
    alpha, power = _check_open_unit("alpha", alpha), _check_open_unit("power", power)
    nmax = _check_size("nmax", nmax, minimum=2)
    rows = _candidates(p0, p1, alpha, power, nmax)
    if rows.shape[0] == 0:
        return SimonSearch(p0, p1, alpha, power, nmax, None, None)
    optimal = _describe("optimal", _pick(rows, 4, 0), p0, p1)
    minimax = _describe("minimax", _pick(rows, 0, 4), p0, p1)
    return SimonSearch(p0, p1, alpha, power, nmax, optimal, minimax)


def simon_designs_by_n(p0: float, p1: float, alpha: float, power: float, nmax: int) -> dict[int, SimonDesign]:
    """For each total size n <= ``nmax`` that admits one, the Simon design of that n with the least EN(p0).

    Simon's optimal design is the one of these with the least EN(p0) overall, his minimax design
    the one with the least n (:func:`simon_designs`); a design search compares them at every n.
    Ties break as in :func:`simon_designs`.
    """
    p0, p1 = _check_open_unit("p0", p0), _check_open_unit("p1", p1)
    if not p1 > p0:
        raise ValueError(f"p1 must exceed p0, got p0={p0}, p1={p1}")
    rows = _candidates(p0, p1, _check_open_unit("alpha", alpha), _check_open_unit("power", power), nmax)
    return {int(n): _describe("optimal", _pick(rows[rows[:, 0] == n], 4, 0), p0, p1) for n in np.unique(rows[:, 0])}


def _check_prior(a: float, b: float) -> tuple[float, float]:
    """Finite positive Beta prior parameters."""
    a, b = float(a), float(b)
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"prior parameters a and b must be positive, got a={a!r}, b={b!r}")
    return a, b


def posterior_prob_above(p0: float, k: int, n: int, a: float, b: float) -> float:
    """P(ORR > p0 | k responders of n) under a Beta(a, b) prior: the Beta(a + k, b + n - k) tail."""
    a, b = _check_prior(a, b)
    p0 = _check_open_unit("p0", p0)
    _check_size("n", n, minimum=0)
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    return float(scipy.stats.beta.sf(p0, a + k, b + n - k))


def predictive_probability(k: int, n: int, n_max: int, p0: float, theta_t: float, a: float, b: float) -> float:
    """Predictive probability that the trial ends a success, given k responders among n of n_max.

    Parameters
    ----------
    k, n
        Responders and patients observed at the interim look.
    n_max
        Planned final number of patients.
    p0
        Response rate to beat.
    theta_t
        Success at the end means P(ORR > p0 | data on n_max) > theta_t.
    a, b
        Beta prior parameters.

    Returns
    -------
    Sum over future responders y ~ Beta-Binomial(n_max - n, a + k, b + n - k) of the success
    indicator (Lee and Liu 2008).
    """
    a, b = _check_prior(a, b)
    n_max = _check_size("n_max", n_max)
    if not 0 <= k <= n <= n_max:
        raise ValueError(f"need 0 <= k <= n <= n_max, got k={k}, n={n}, n_max={n_max}")
    p0, theta_t = _check_open_unit("p0", p0), _check_open_unit("theta_t", theta_t)
    future = np.arange(n_max - n + 1)
    weight = scipy.stats.betabinom.pmf(future, n_max - n, a + k, b + n - k)
    final = scipy.stats.beta.sf(p0, a + k + future, b + (n_max - n) - future + n - k)
    return float(np.sum(weight[final > theta_t]))
