"""Monte Carlo standard errors (:mod:`sim.stats.mcse`) on worked examples and exact bootstrap distributions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.stats.mcse import (
    BOOTSTRAP_SAMPLES,
    Estimate,
    estimate_json,
    mean_estimate,
    proportion_estimate,
    quantile_estimate,
    quantile_mcse,
)


def _same(a: Estimate, b: Estimate) -> bool:
    """Equal estimates, NaN equal to NaN, to 1e-12 relative."""
    return a.n == b.n and all(
        (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y, rel=1e-12, abs=0)
        for x, y in ((a.value, b.value), (a.mcse, b.mcse))
    )


def test_mean_estimate() -> None:
    # mean 2.5; squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, sd = sqrt(5/3), mcse = sd / 2
    assert _same(mean_estimate([1, 2, 3, 4]), Estimate(2.5, math.sqrt(5 / 3) / 2, 4))
    # NaN and infinite replicates (an unreached median) are left out, and n says so
    assert _same(mean_estimate([4, np.nan, 1, np.inf, 3, 2]), Estimate(2.5, math.sqrt(5 / 3) / 2, 4))
    assert _same(mean_estimate([7.0]), Estimate(7.0, math.nan, 1))
    assert _same(mean_estimate([]), Estimate(math.nan, math.nan, 0))
    assert _same(mean_estimate([np.nan]), Estimate(math.nan, math.nan, 0))


def test_proportion_estimate() -> None:
    # 1 of 4: sqrt(0.25 * 0.75 / 4) = sqrt(3) / 8
    assert _same(proportion_estimate([True, False, False, False]), Estimate(0.25, math.sqrt(3) / 8, 4))
    assert _same(proportion_estimate([0, 1, 1, 0, 1]), Estimate(0.6, math.sqrt(0.24 / 5), 5))
    assert _same(proportion_estimate([False] * 5), Estimate(0.0, 0.0, 5))
    assert _same(proportion_estimate([True] * 3), Estimate(1.0, 0.0, 3))
    assert _same(proportion_estimate([]), Estimate(math.nan, math.nan, 0))


def _sd_and_its_mc_error(values: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    """SD of a discrete distribution, and the SE of an SD estimated from BOOTSTRAP_SAMPLES draws of it.

    The sample SD of B draws has SE ``sd sqrt((kurtosis - 1) / (4 B))`` (delta method on the variance).
    """
    mean = float(probabilities @ values)
    var = float(probabilities @ (values - mean) ** 2)
    kurtosis = float(probabilities @ (values - mean) ** 4) / var**2
    sd = math.sqrt(var)
    return sd, sd * math.sqrt((kurtosis - 1) / (4 * BOOTSTRAP_SAMPLES))


@pytest.mark.parametrize(("n", "q"), [(21, 0.5), (21, 0.1), (41, 0.9), (201, 0.25), (5, 0.5)])
def test_quantile_mcse_is_the_exact_bootstrap_sd_of_an_order_statistic(n: int, q: float) -> None:
    """Where ``(n - 1) q`` is whole, the quantile is one order statistic and its bootstrap law is exact.

    The ``j``-th resampled order statistic is ``x_(i)`` with probability ``I_{(i+1)/n}(j+1, n-j) -
    I_{i/n}(j+1, n-j)`` (the regularised incomplete beta function): at most ``j`` resampled values
    lie below ``x_(i)`` and more than ``j`` at or below it.
    """
    x = np.arange(float(n)) ** 2  # unequal gaps, so a rank off by one changes the answer
    j = round((n - 1) * q)
    assert j == (n - 1) * q
    i = np.arange(n)
    p = stats.beta.cdf((i + 1) / n, j + 1, n - j) - stats.beta.cdf(i / n, j + 1, n - j)
    sd, se = _sd_and_its_mc_error(x, p)
    shuffled = np.random.default_rng(0).permutation(x)
    estimate = quantile_estimate(shuffled, q)
    assert estimate.value == x[j] and estimate.n == n
    assert abs(estimate.mcse - sd) <= 4 * se


def test_quantile_mcse_of_an_interpolated_quantile_matches_a_brute_force_bootstrap() -> None:
    """Between order statistics (numpy's linear rule) the shortcut equals resampling every value."""
    x = np.sort(np.random.default_rng(1).gamma(2.0, size=30))
    resampled = x[np.random.default_rng(2).integers(0, x.size, size=(40_000, x.size))]
    for q in (0.1, 0.5, 0.75, 0.9):
        brute = np.quantile(resampled, q, axis=1)
        sd = float(brute.std(ddof=1))
        # the SEs of both SD estimates; the kurtosis is taken from the brute-force draws
        kurtosis = float(np.mean((brute - brute.mean()) ** 4)) / float(brute.var()) ** 2
        se = sd * math.sqrt((kurtosis - 1) / 4 * (1 / BOOTSTRAP_SAMPLES + 1 / brute.size))
        assert abs(quantile_mcse(x, q) - sd) <= 4 * se, q


def test_quantile_mcse_holds_on_two_valued_data() -> None:
    """The case that collapsed: 1,000 replicates, 530 at a = 0.2709 and 470 at b = 0.2751.

    The old rule took the order statistics at ranks 500 -/+ 15.8, both a, and gave 0. The median is
    a when more than 500 of the 1,000 values are a, the midpoint at exactly 500 and b below, so with
    ``N ~ Bin(1000, 0.53)`` its law is exact; it is both the bootstrap law and the sampling law of
    the median of 1,000 draws from a population that is 53% a.
    """
    a, b = 0.2709, 0.2751
    x = np.array([a] * 530 + [b] * 470)
    count = stats.binom(1000, 0.53)
    p = np.array([count.sf(500), count.pmf(500), count.cdf(499)])
    sd, se = _sd_and_its_mc_error(np.array([a, (a + b) / 2, b]), p)
    assert sd > 0.15 * (b - a)
    estimate = quantile_estimate(x[::-1], 0.5)
    assert estimate.value == a
    assert abs(estimate.mcse - sd) <= 4 * se


def test_quantile_mcse_is_zero_only_when_the_quantile_cannot_move() -> None:
    # every value equal: no resample can move the quantile
    assert _same(quantile_estimate([3.0] * 50, 0.9), Estimate(3.0, 0.0, 50))
    assert _same(quantile_estimate([3.0], 0.5), Estimate(3.0, 0.0, 1))
    # one value in 2,000 differs: at the median the chance a resample moves it is below 1e-300
    assert quantile_estimate([1.0] * 1999 + [2.0], 0.5).mcse == 0.0


def test_quantile_estimate_of_nothing_and_with_missing_values() -> None:
    assert _same(quantile_estimate([], 0.5), Estimate(math.nan, math.nan, 0))
    assert _same(quantile_estimate([np.nan], 0.5), Estimate(math.nan, math.nan, 0))
    x = np.arange(20.0) ** 2
    # NaN and infinite replicates are left out before ranking
    assert _same(quantile_estimate(np.concatenate([x, [np.nan, np.inf]]), 0.9), quantile_estimate(x, 0.9))


def test_quantile_mcse_reports_nan_when_resamples_do_not_reach_the_quantile() -> None:
    """``+inf`` stands for an event that never happened; a quantile some resamples never reach has no MCSE."""
    assert math.isnan(quantile_mcse(np.array([1.0, 2.0, 3.0, np.inf, np.inf]), 0.5))
    assert quantile_mcse(np.array([*np.arange(1.0, 101.0), np.inf]), 0.2) > 0


def test_quantile_mcse_is_a_fixed_function_of_the_data_and_leaves_global_state_alone() -> None:
    x = np.random.default_rng(3).integers(0, 40, size=999).astype(float)
    state = np.random.get_state()
    first = quantile_estimate(x, 0.9)
    assert first.mcse > 0
    assert np.random.get_state()[1].tolist() == state[1].tolist()
    try:
        np.random.seed(12345)  # global state has no say, nor has the order of the replicates
        assert quantile_estimate(np.random.default_rng(4).permutation(x), 0.9) == first
    finally:
        np.random.set_state(state)


@pytest.mark.parametrize("n", [3, 300, 3000])
def test_a_share_of_zero_or_one_carries_its_exact_one_sided_bound(n: int) -> None:
    """0 of n: MCSE 0, so the exact one-sided 95% Clopper-Pearson bound stands instead (about 3 / n)."""
    none, every = proportion_estimate(np.zeros(n, bool)), proportion_estimate(np.ones(n, bool))
    assert none.mcse == every.mcse == 0.0
    assert none.bound == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)
    assert every.bound == pytest.approx(0.05 ** (1 / n), rel=1e-12)
    if n >= 300:
        assert abs(none.bound - 3 / n) < 0.01 * 3 / n  # the rule of three
    assert proportion_estimate(np.arange(n) == 0).bound is None
    assert estimate_json(none)["bound_95"] == none.bound and "bound_95" not in estimate_json(mean_estimate([1.0, 2.0]))
    assert none.uncertainty() == f"<= {none.bound:.4f} (one-sided 95%, 0 of {n})"
