"""Each family's closed forms agree with scipy.stats, and sampling reproduces them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from sim.distributions import DistributionError, Exponential, LogLogistic, LogNormal, PiecewiseExponential, Weibull

WITH_SCIPY = [Exponential(4.0), Weibull(4.0, 1.3), Weibull(2.6, 0.8), LogLogistic(4.0, 2.5), LogNormal(12.0, 0.9)]
ALL = WITH_SCIPY + [PiecewiseExponential(4.0, (2.0, 6.0), (1.0, 0.7, 0.4))]
GRID = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 7.5, 15.0, 40.0])
PROBS = np.array([0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99])


@pytest.mark.parametrize("dist", WITH_SCIPY, ids=repr)
def test_closed_forms_match_scipy(dist) -> None:
    ref = dist.scipy
    np.testing.assert_allclose(dist.sf(GRID), ref.sf(GRID), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(dist.cdf(GRID), ref.cdf(GRID), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dist.quantile(PROBS), ref.ppf(PROBS), rtol=1e-12)
    assert dist.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert dist.median == pytest.approx(ref.median(), rel=1e-12)


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_median_is_the_parameter_and_quantile_inverts_cdf(dist) -> None:
    assert dist.median == pytest.approx(dist.median_months, rel=1e-12)
    np.testing.assert_allclose(dist.cdf(dist.quantile(PROBS)), PROBS, rtol=1e-12)


def test_piecewise_mean_and_hazards() -> None:
    d = PiecewiseExponential(4.0, (2.0, 6.0), (1.0, 0.7, 0.4))
    integral, _ = integrate.quad(lambda t: float(d.sf(t)), 0, np.inf, limit=500)
    assert d.mean() == pytest.approx(integral, rel=1e-9)
    hz = d.hazards_per_month
    assert hz[1] / hz[0] == pytest.approx(0.7) and hz[2] / hz[0] == pytest.approx(0.4)
    # H at the median is log 2 by construction.
    assert float(d.cumulative_hazard(4.0)) == pytest.approx(math.log(2.0), rel=1e-12)


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_sampled_median_and_landmark_within_4_mcse(dist) -> None:
    n = 40_000
    x = dist.sample(np.random.default_rng(2024), n)
    # P(X <= true median) is a binomial proportion with SE sqrt(0.25 / n).
    assert abs(np.mean(x <= dist.median) - 0.5) <= 4 * math.sqrt(0.25 / n)
    p = float(dist.cdf(2.0))
    assert abs(np.mean(x <= 2.0) - p) <= 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Weibull(0.0, 1.0), "median_months must be a positive number, got 0.0"),
        (lambda: Weibull(3.0, -1.0), "shape must be a positive number, got -1.0"),
        (lambda: PiecewiseExponential(3.0, (2.0, 1.0), (1.0, 1.0, 1.0)), "cuts_months must be positive and strictly increasing, got [2.0, 1.0]"),
        (lambda: PiecewiseExponential(3.0, (2.0,), (1.0,)), "relative_hazards needs len(cuts_months) + 1 = 2 entries, got 1"),
        (lambda: PiecewiseExponential(3.0, (2.0,), (1.0, -0.5)), "relative_hazards entries must be a positive number, got -0.5"),
        (lambda: Exponential(math.inf), "median_months must be a positive number, got inf"),
        (lambda: LogNormal(3.0, math.nan), "shape must be a positive number, got nan"),
        # With several faults the first in declaration order is named; the length before the entries.
        (lambda: LogLogistic(-1.0, 0.0), "median_months must be a positive number, got -1.0"),
        (lambda: PiecewiseExponential(0.0, (2.0, 1.0), (1.0,)), "median_months must be a positive number, got 0.0"),
        (lambda: PiecewiseExponential(3.0, (2.0, 1.0), (-1.0,)), "cuts_months must be positive and strictly increasing, got [2.0, 1.0]"),
        (lambda: PiecewiseExponential(3.0, (2.0,), (-1.0,)), "relative_hazards needs len(cuts_months) + 1 = 2 entries, got 1"),
    ],
)
def test_bad_parameters_are_named(make, message) -> None:
    with pytest.raises(DistributionError) as info:
        make()
    assert str(info.value) == message


def test_repr_shows_parameters() -> None:
    assert repr(Weibull(4.0, 1.2)) == "Weibull(median_months=4.0, shape=1.2)"


def test_parameters_and_repr_show_only_the_declared_parameters() -> None:
    weibull = Weibull(3.0, 0.8)
    assert weibull.parameters() == {"family": "weibull", "median_months": 3.0, "shape": 0.8}
    assert repr(weibull) == "Weibull(median_months=3.0, shape=0.8)"
    assert Exponential(2.5).parameters() == {"family": "exponential", "median_months": 2.5}
