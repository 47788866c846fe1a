"""Medians of an observed Kaplan-Meier curve that move continuously with the model's parameters.

Progression is dated at scans, so the KM median of scan-dated PFS jumps from one scan day to the
next as a parameter changes; an optimiser needs something continuous. Two versions, both read
from the KM curve of a large synthetic cohort:

* :func:`interpolated_median` -- the large-trial median: where the curve, joined linearly between
  its event times, crosses 0.5. It differs from R's KM median of the same cohort by less than the
  gap between neighbouring event times (under a day inside a cluster of scan dates). Between
  clusters only deaths without progression lower the curve, so there the crossing moves fast
  with the parameters: a median target that falls between two scan clusters is met less finely.
* :func:`expected_km_median` -- the mean KM median of a trial of ``n`` patients drawn from that
  curve. With no censoring before the median (true of a published median with mature follow-up)
  the KM median of ``n`` patients is an order statistic, the ((n+1)/2)-th for odd n and the mean
  of the (n/2)-th and (n/2+1)-th for even n (R's midpoint rule), and the k-th order statistic has
  expectation integral(Q(u) beta_pdf(u; k, n-k+1) du): Harrell-Davis weights on the cohort's
  quantile function. This is what a published median estimates, grid rounding included.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..stats.survival import KaplanMeier

__all__ = ["interpolated_median", "interpolated_survival", "expected_km_median", "TAIL_WEIGHT_LIMIT"]

TAIL_WEIGHT_LIMIT = 1e-9
"""Largest weight the expected median may put beyond the cohort curve's last event time."""


def _joined(fit: KaplanMeier) -> tuple[np.ndarray, np.ndarray]:
    """The curve's corners (0, 1), (t_j, S_j), to be joined by straight lines."""
    return np.concatenate(([0.0], fit.time)), np.concatenate(([1.0], fit.survival))


def interpolated_survival(fit: KaplanMeier, t: float) -> float:
    """The KM curve, joined linearly between its event times, at ``t``."""
    times, survival = _joined(fit)
    return float(np.interp(t, times, survival))


def interpolated_median(fit: KaplanMeier) -> float:
    """Where the KM curve, joined linearly between (0, 1) and its event times, reaches 0.5; NaN if never."""
    times, survival = _joined(fit)
    below = np.flatnonzero(survival <= 0.5)
    if below.size == 0:
        return math.nan
    j = int(below[0])
    s0, s1 = survival[j - 1], survival[j]
    return float(times[j - 1] + (s0 - 0.5) / (s0 - s1) * (times[j] - times[j - 1]))


def _order_statistic_mean(fit: KaplanMeier, k: int, n: int) -> float:
    """E[k-th smallest of n draws] from the distribution whose survival curve is ``fit``."""
    u_edges = 1.0 - np.concatenate(([1.0], fit.survival))
    cdf = stats.beta.cdf(u_edges, k, n - k + 1)
    if 1.0 - cdf[-1] > TAIL_WEIGHT_LIMIT:
        return math.nan
    return float(np.dot(np.diff(cdf), fit.time))


def expected_km_median(fit: KaplanMeier, n: int) -> float:
    """Mean KM median (R's convention) of ``n`` uncensored patients from the curve; NaN if it runs out."""
    if n % 2:
        return _order_statistic_mean(fit, (n + 1) // 2, n)
    return 0.5 * (_order_statistic_mean(fit, n // 2, n) + _order_statistic_mean(fit, n // 2 + 1, n))
