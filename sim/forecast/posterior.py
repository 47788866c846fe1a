"""What the data so far say about each site's recruitment rate.

Recruitment: a site screens as a Poisson process whose rate is the scenario's planned rate (with
its calendar factors and ramp) times a multiplier ``m`` with a Gamma(1/cv², 1/cv²) prior. Each
screened patient passes screening with probability ``1 - q`` and is enrolled after ``D`` whole
days, uniform on ``recruitment.screening_days``. By Poisson thinning, the enrollments dated by the
as-of date are Poisson with mean ``m E``, where ``E`` (:func:`enrollment_exposure`) is the planned
rate integrated against the chance of having passed screening by the as-of date; so the posterior
of ``m`` is Gamma(w + n, w + E), exactly, for a prior Gamma(w, w) worth ``w`` enrollments
(:func:`prior_weight`: ``forecast.rate_prior_patients``, else 1/cv²). Patients still in screening at the as-of date
form an independent thinned process with the same ``m``, which the engine draws afresh.

ORR: see :mod:`.orr_posterior` (the prior times the likelihood of every patient's status).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from ..model.recruitment import CalendarRates, SiteRates

__all__ = [
    "POOLED_MIN_ENROLLMENTS",
    "SitePosterior",
    "enrollment_exposure",
    "gamma_posterior",
    "pooled_gamma",
    "prior_weight",
]

POOLED_SHAPE_BOUNDS = (1e-3, 1e4)
"""The pooled Gamma's shape is searched within these: beyond 1e4 the sites' rates are all but equal."""

POOLED_MIN_ENROLLMENTS = 5
"""Fewer enrollments in all than this cannot estimate the sites' Gamma law: each site keeps its planned prior."""

VAGUE_SHAPE = 0.5
"""Shape of the vague (Jeffreys) Gamma prior on a Poisson rate: Gamma(0.5, 0), improper but with a proper posterior."""


def enrollment_exposure(
    site: SiteRates,
    calendar: CalendarRates,
    until: float,
    pass_probability: float,
    screening_days: tuple[int, int],
) -> float:
    """Expected enrollments dated before day ``until`` at multiplier 1: the integral of the planned rate.

    The integrand (rate x calendar factor x ramp x P(screened, passed and past screening by
    ``until``)) is linear between breakpoints (whole days, the ramp's ends), so the midpoint rule
    on those segments is exact.
    """
    start = site.activation_day
    if until <= start or site.per_day <= 0:
        return 0.0
    ramp_start = site.activation_day if site.ramp_start_day is None else site.ramp_start_day
    points = np.unique(
        np.clip(
            np.concatenate(
                (
                    np.arange(math.floor(start), math.ceil(until) + 1),
                    [start, until, ramp_start, ramp_start + site.ramp_days],
                )
            ),
            start,
            until,
        )
    )
    mid = (points[1:] + points[:-1]) / 2.0
    low, high = screening_days
    delays = np.arange(low, high + 1)
    past_screening = (mid[:, None] + delays[None, :] < until).mean(axis=1)
    rate = site.per_day * calendar.factors_at(mid) * site.ramps(mid)
    return float(np.sum(rate * pass_probability * past_screening * np.diff(points)))


def prior_weight(rate_cv: float, rate_prior_patients: float | None) -> float:
    """The weight, in enrollments, of a site's planned rate as the prior of its multiplier (infinite: known).

    Gamma(w, w) has mean 1 and coefficient of variation 1 / sqrt(w); after ``n`` enrollments over an
    exposure ``E`` it is Gamma(w + n, w + E), so ``w`` counts as that many enrollments of evidence
    for the planned rate. ``forecast.rate_prior_patients`` gives it explicitly; else ``1 / rate_cv²``.
    """
    if rate_prior_patients is not None:
        return rate_prior_patients
    return 1.0 / rate_cv**2 if rate_cv > 0 else math.inf


def gamma_posterior(weight: float, vague: bool, count: int, exposure: float) -> tuple[float, float]:
    """The Gamma (shape, rate) law of a site's multiplier after ``count`` enrollments over ``exposure``.

    ``weight`` is the planned prior's (:func:`prior_weight`); an infinite one takes the planned rate
    as known (infinite shape). A vague prior with no exposure yet (a site not yet active) keeps the
    planned rate too.
    """
    if vague:
        return (VAGUE_SHAPE + count, exposure) if exposure > 0 else (math.inf, 1.0)
    if math.isinf(weight):
        return (math.inf, 1.0)
    return (weight + count, weight + exposure)


def pooled_gamma(counts: Sequence[int], exposures: Sequence[float]) -> tuple[float, float]:
    """The Gamma(a, b) law of the sites' multipliers that best explains their enrollments (empirical Bayes).

    Given the multiplier, a site's enrollments are Poisson with mean ``m E``; over m ~ Gamma(a, b)
    they are negative binomial, NB(a, b / (b + E)). (a, b) maximise the product of those over the
    sites with exposure (Anisimov and Fedorov 2007 estimate the centres' gamma law so). The shape
    is kept within :data:`POOLED_SHAPE_BOUNDS`. Raises ValueError, saying why, with fewer than two
    sites with exposure or when the optimiser fails (the caller checks the total count first:
    with no enrollment at all, the likelihood has no maximum).
    """
    n = np.asarray(counts, dtype=float)
    e = np.asarray(exposures, dtype=float)
    if np.count_nonzero(e > 0) < 2:
        raise ValueError("pooling the sites' rates needs at least two sites with enrollment time")
    n, e = n[e > 0], e[e > 0]

    def negative_log_likelihood(x: NDArray[np.float64]) -> float:
        a, b = math.exp(x[0]), math.exp(x[1])
        return -float(np.sum(stats.nbinom.logpmf(n, a, b / (b + e))))

    low, high = (math.log(v) for v in POOLED_SHAPE_BOUNDS)
    start = np.array([0.0, math.log(e.sum() / max(n.sum(), 0.5))])
    best = optimize.minimize(
        negative_log_likelihood, start, method="L-BFGS-B", bounds=[(low, high), (-30.0, 30.0)]
    )
    if not best.success or not np.all(np.isfinite(best.x)):
        raise ValueError(f"the optimiser of the sites' negative binomial likelihood failed ({best.message})")
    return math.exp(float(best.x[0])), math.exp(float(best.x[1]))


@dataclass(frozen=True)
class SitePosterior:
    """One site: its enrollments so far and the posterior of its screening rate (patients per month)."""

    name: str
    enrolled: int
    exposure: float
    shape: float
    rate: float
    planned_per_month: float
    prior_weight: float = math.inf
    vague: bool = False
    pooled: tuple[float, float] | None = None
    too_few_to_pool: int | None = None
    """With ``forecast.pool_sites``, the enrollments in all when too few to pool (the planned prior kept)."""

    @property
    def prior(self) -> str:
        """The rate's prior in words: vague, the planned rate known, or the planned rate worth w enrollments."""
        if self.vague:
            return "vague prior"
        if self.pooled is not None:
            return f"pooled across sites: Gamma({self.pooled[0]:.3g}, {self.pooled[1]:.3g})"
        planned = (
            "planned rate taken as known"
            if math.isinf(self.prior_weight)
            else f"planned rate worth {self.prior_weight:.3g} enrollments"
        )
        if self.too_few_to_pool is not None:
            return (
                f"{planned}: not pooled, {self.too_few_to_pool} enrollments in all are too few "
                f"(forecast.pool_sites needs {POOLED_MIN_ENROLLMENTS})"
            )
        return planned

    def rate_per_month(self, q: float | None = None) -> float:
        """Posterior mean (``q`` None) or quantile ``q`` of the full screening rate per month."""
        if math.isinf(self.shape):
            return self.planned_per_month
        if q is None:
            return self.planned_per_month * self.shape / self.rate
        return self.planned_per_month * float(stats.gamma.ppf(q, self.shape, scale=1.0 / self.rate))
