"""Medians of an observed Kaplan-Meier curve that move continuously with the model's parameters.

Progression is dated at scans, so the KM median of scan-dated PFS jumps from one scan day to the
next as a parameter changes; an optimiser needs something continuous. Two versions, both read
from the KM curve of a large synthetic cohort, each with its Monte Carlo standard error:

* :func:`interpolated_median` -- the large-trial median: where the curve, joined linearly between
  its event times, crosses 0.5. It differs from R's KM median of the same cohort by less than the
  gap between neighbouring event times (under a day inside a cluster of scan dates). Between
  clusters only deaths without progression lower the curve, so there the crossing moves fast
  with the parameters: a median target that falls between two scan clusters is met less finely.
  Its MCSE (:func:`interpolated_median_se`) is half the time between the joined curve's crossings
  of 0.5 + se and 0.5 - se (se: Greenwood's at the median), which is large exactly there.
* :func:`expected_km_median` -- the mean KM median of a trial of ``n`` patients drawn from that
  curve. With no censoring before the median (true of a published median with mature follow-up)
  the KM median of ``n`` patients is an order statistic, the ((n+1)/2)-th for odd n and the mean
  of the (n/2)-th and (n/2+1)-th for even n (R's midpoint rule). The k-th of n draws is <= t when
  at least k draws are, so P(X_(k) <= t) = B_k(F(t)) with B_k the Beta(k, n - k + 1) distribution
  function, exactly, whatever F is (scan-dated curves are mostly atoms). The mean is then
  ``integral_0^H (1 - B_k(F(t))) dt`` over the cohort's follow-up H: the mean of min(median, H),
  which is the mean median whenever trials of n patients reach their median within follow-up, and
  finite and smooth in the parameters otherwise (no penalty plateau for a fit to wander onto).
  Its MCSE (:func:`expected_km_median_se`) is the delta method on the cohort's distribution
  function: the influence of one patient with time y is ``-integral_y^H b_k(F(t)) dt`` (b_k the
  Beta density), and the variance of that over the cohort, divided by its size.

Per-trial medians on a scan grid are bimodal where the curve is near 0.5 across a gap between
scan clusters: a trial whose curve is below 0.5 at the end of one cluster reports a median there,
the others one cluster later. :func:`km_median_cdf` gives the share below a day, so a fit can say
how many trials of the source's size report the lower mode (:func:`km_median_cdf_se` its MCSE), so a
result shows where trials' medians fall and not only their mean.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..stats.survival import KaplanMeier

__all__ = [
    "expected_km_median",
    "expected_km_median_se",
    "interpolated_median",
    "interpolated_median_se",
    "interpolated_survival",
    "joined_crossing",
    "km_median_cdf",
    "km_median_cdf_se",
]


def _joined(fit: KaplanMeier) -> tuple[np.ndarray, np.ndarray]:
    """The curve's corners (0, 1), (t_j, S_j), to be joined by straight lines."""
    return np.concatenate(([0.0], fit.time)), np.concatenate(([1.0], fit.survival))


def interpolated_survival(fit: KaplanMeier, t: float) -> float:
    """The KM curve, joined linearly between its event times, at ``t``."""
    times, survival = _joined(fit)
    return float(np.interp(t, times, survival))


def joined_crossing(fit: KaplanMeier, level: float) -> float:
    """Where the KM curve, joined linearly between (0, 1) and its event times, reaches ``level``; NaN if never."""
    times, survival = _joined(fit)
    below = np.flatnonzero(survival <= level)
    if below.size == 0:
        return math.nan
    j = int(below[0])
    if j == 0:
        return 0.0
    s0, s1 = survival[j - 1], survival[j]
    return float(times[j - 1] + (s0 - level) / (s0 - s1) * (times[j] - times[j - 1]))


def interpolated_median(fit: KaplanMeier) -> float:
    """Where the KM curve, joined linearly between (0, 1) and its event times, reaches 0.5; NaN if never."""
    return joined_crossing(fit, 0.5)


def interpolated_median_se(fit: KaplanMeier) -> float:
    """MCSE of :func:`interpolated_median`: half the time between the crossings of 0.5 +/- Greenwood's se."""
    median = interpolated_median(fit)
    if math.isnan(median):
        return math.nan
    j = min(int(np.searchsorted(fit.time, median, side="left")), fit.time.size - 1)
    se = float(fit.std_err[j])
    return 0.5 * (joined_crossing(fit, 0.5 - se) - joined_crossing(fit, 0.5 + se))


def _median_ranks(n: int) -> tuple[int, ...]:
    """The order statistics whose mean is the KM median of n uncensored patients (R's midpoint rule)."""
    return ((n + 1) // 2,) if n % 2 else (n // 2, n // 2 + 1)


def _stretches(fit: KaplanMeier) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, width, F) of each stretch on which the curve is flat, from 0 to the last follow-up time."""
    starts = np.concatenate(([0.0], fit.time))
    ends = np.append(fit.time, max(fit.last_time, float(fit.time[-1]) if fit.time.size else 0.0))
    distribution = 1.0 - np.concatenate(([1.0], fit.survival))
    return starts, ends - starts, distribution


def expected_km_median(fit: KaplanMeier, n: int) -> float:
    """Mean KM median (R's convention) of ``n`` patients drawn from the curve, capped at its follow-up.

    ``integral (1 - B(F(t))) dt`` with B the order statistics' Beta distribution functions.
    """
    if fit.time.size == 0:
        return math.nan
    _, width, distribution = _stretches(fit)
    below = np.mean([stats.beta.cdf(distribution, k, n - k + 1) for k in _median_ranks(n)], axis=0)
    return float(np.dot(1.0 - below, width))


def expected_km_median_se(fit: KaplanMeier, n: int) -> float:
    """MCSE of :func:`expected_km_median` as an estimate from the curve's ``fit.n`` patients (delta method)."""
    if fit.time.size == 0:
        return math.nan
    _, width, distribution = _stretches(fit)
    density = np.mean([stats.beta.pdf(distribution, k, n - k + 1) for k in _median_ranks(n)], axis=0)
    # influence[j] = -(integral of the density from the j-th event time to the end of follow-up)
    influence = -np.cumsum((density * width)[::-1])[::-1][1:]
    mass = -np.diff(np.concatenate(([1.0], fit.survival)))
    mean = float(np.dot(mass, influence))
    variance = float(np.dot(mass, influence**2)) - mean**2
    return math.sqrt(max(variance, 0.0) / fit.n)


def km_median_cdf(fit: KaplanMeier, n: int, t: float) -> float:
    """P(KM median of ``n`` patients from the curve <= ``t``): exact for odd n, the two ranks' mean for even n."""
    distribution = 1.0 - fit.survival_at(t).estimate
    return float(np.mean([stats.beta.cdf(distribution, k, n - k + 1) for k in _median_ranks(n)]))


def km_median_cdf_se(fit: KaplanMeier, n: int, t: float) -> float:
    """MCSE of :func:`km_median_cdf` (delta method): the Beta density at F(t) times Greenwood's se of F(t)."""
    if fit.time.size == 0 or t > fit.last_time:
        return math.nan
    index = int(np.searchsorted(fit.time, t, side="right")) - 1
    if index < 0:
        return 0.0
    distribution = 1.0 - float(fit.survival[index])
    density = float(np.mean([stats.beta.pdf(distribution, k, n - k + 1) for k in _median_ranks(n)]))
    return density * float(fit.std_err[index])
