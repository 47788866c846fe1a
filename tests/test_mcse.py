"""Monte Carlo standard errors (:mod:`sim.stats.mcse`) on worked examples computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.stats.mcse import Estimate, mean_estimate, proportion_estimate, quantile_estimate


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


# x_i = i^2 for i = 0..19: the gaps between order statistics all differ, so a rank off by one
# changes the standard error.
SQUARES = np.arange(20.0) ** 2


@pytest.mark.parametrize(
    ("q", "value", "lo", "hi"),
    [
        # n q = 10, sqrt(n q (1 - q)) = sqrt(5) = 2.236: ranks floor(7.76) = 7, ceil(12.24) = 13;
        # the median interpolates x_9 = 81 and x_10 = 100
        (0.5, 90.5, 7, 13),
        # n q = 18, sqrt(1.8) = 1.342: ranks 16 and ceil(19.34) = 20, clipped to 19;
        # np.quantile at position 0.9 * 19 = 17.1: 289 + 0.1 * (324 - 289)
        (0.9, 292.5, 16, 19),
        # n q = 1, sqrt(0.95) = 0.975: ranks floor(0.025) = 0 and ceil(1.975) = 2; position 0.95
        (0.05, 0.95, 0, 2),
        # n q = 0.2, sqrt(0.198) = 0.445: ranks floor(-0.245) = -1, clipped to 0, and ceil(0.645) = 1
        (0.01, 0.19, 0, 1),
        # n q = 5, sqrt(3.75) = 1.936: ranks floor(3.06) = 3 and ceil(6.94) = 7; position 4.75
        (0.25, 16 + 0.75 * 9, 3, 7),
    ],
)
def test_quantile_estimate_uses_the_order_statistics_one_se_either_side(q: float, value: float, lo: int, hi: int) -> None:
    shuffled = np.random.default_rng(0).permutation(SQUARES)
    expected = Estimate(value, (hi**2 - lo**2) / 2, 20)  # half the distance between x_lo and x_hi
    assert _same(quantile_estimate(shuffled, q), expected)
    # NaN replicates are left out before ranking
    assert _same(quantile_estimate(np.concatenate([shuffled, [np.nan, np.nan]]), q), expected)


def test_quantile_estimate_of_nothing_and_of_one_value() -> None:
    assert _same(quantile_estimate([], 0.5), Estimate(math.nan, math.nan, 0))
    assert _same(quantile_estimate([np.nan], 0.5), Estimate(math.nan, math.nan, 0))
    assert _same(quantile_estimate([3.0], 0.5), Estimate(3.0, 0.0, 1))
