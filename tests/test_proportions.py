"""Response-rate inference against base R (tests/data/proportion_reference.json) and closed forms.

The reference file was produced by tests/data/proportion_reference.R (R 4.2.2): binom.test for the
Clopper-Pearson interval and the one-sided p-value, prop.test for the Wilson intervals (with and
without continuity correction), qbeta for Jeffreys, and pbinom for the critical responder counts.
"""

from __future__ import annotations

import dataclasses
import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.stats import proportions
from sim.stats.proportions import (
    CI_METHODS,
    ProportionResult,
    analyse_proportion,
    critical_responders,
    one_sided_p_value,
    proportion_ci,
)

REFERENCE = json.loads((Path(__file__).parent / "data" / "proportion_reference.json").read_text())
R_KEYS = {
    "exact": "exact",
    "wilson": "wilson",
    "wilsoncc": "wilsoncc",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
}


def _interval_cases() -> list[tuple[int, int, float, str, list[float]]]:
    cases = []
    for row in REFERENCE["intervals"]:
        for method, key in R_KEYS.items():
            cases.append((int(row["k"][0]), int(row["n"][0]), row["conf_level"][0], method, row[key]))
    return cases


@pytest.mark.parametrize(("k", "n", "conf_level", "method", "expected"), _interval_cases())
def test_interval_matches_r(k: int, n: int, conf_level: float, method: str, expected: list[float]) -> None:
    low, high = proportion_ci(k, n, method=method, conf_level=conf_level)
    assert low == pytest.approx(expected[0], abs=1e-12)
    assert high == pytest.approx(expected[1], abs=1e-12)


def test_every_method_has_an_r_reference() -> None:
    assert set(R_KEYS) == set(CI_METHODS)


@pytest.mark.parametrize("n", [1, 7, 35, 120])
def test_clopper_pearson_equals_beta_quantiles(n: int) -> None:
    for k in range(n + 1):
        low, high = proportion_ci(k, n, "exact", 0.9)
        expected_low = 0.0 if k == 0 else stats.beta.ppf(0.05, k, n - k + 1)
        expected_high = 1.0 if k == n else stats.beta.isf(0.05, k + 1, n - k)
        assert low == pytest.approx(expected_low, abs=1e-12)
        assert high == pytest.approx(expected_high, abs=1e-12)


def test_jeffreys_boundary_convention() -> None:
    assert proportion_ci(0, 20, "jeffreys") == (0.0, pytest.approx(stats.beta.isf(0.025, 0.5, 20.5), abs=1e-15))
    low, high = proportion_ci(20, 20, "jeffreys")
    assert high == 1.0
    assert low == pytest.approx(stats.beta.ppf(0.025, 20.5, 0.5), abs=1e-15)


def test_agresti_coull_is_clipped_to_unit_interval() -> None:
    low, high = proportion_ci(0, 5, "agresti-coull")
    assert low == 0.0
    assert 0.0 < high < 1.0
    low, high = proportion_ci(5, 5, "agresti-coull")
    assert high == 1.0


def test_unknown_method_names_the_allowed_ones() -> None:
    with pytest.raises(ValueError, match="exact, wilson, wilsoncc, jeffreys, agresti-coull"):
        proportion_ci(3, 10, method="wald")


@pytest.mark.parametrize(
    ("k", "n", "conf"), [(11, 10, 0.95), (-1, 10, 0.95), (2, 10, 1.0), (2, 10, 0.0), (2.5, 10, 0.95)]
)
def test_invalid_arguments_raise(k: float, n: int, conf: float) -> None:
    with pytest.raises(ValueError):
        proportion_ci(k, n, conf_level=conf)  # type: ignore[arg-type]


def _p_value_cases() -> list[tuple[int, float, list[float]]]:
    return [(int(row["n"][0]), row["p0"][0], row["p_greater"]) for row in REFERENCE["tests"]]


@pytest.mark.parametrize(("n", "p0", "expected"), _p_value_cases())
def test_one_sided_p_value_matches_r(n: int, p0: float, expected: list[float]) -> None:
    for k, p_value in enumerate(expected):
        assert one_sided_p_value(k, n, p0) == pytest.approx(p_value, rel=1e-12, abs=1e-300)


def test_p_value_is_scipy_binomtest() -> None:
    for k in range(36):
        assert one_sided_p_value(k, 35, 0.1) == stats.binomtest(k, 35, 0.1, alternative="greater").pvalue


def test_analyse_proportion_for_the_first_trial() -> None:
    result = analyse_proportion(8, 35, p0=0.10, conf_level=0.95, method="exact")
    assert result.estimate == 8 / 35
    assert result.p_value == pytest.approx(stats.binom.sf(7, 35, 0.10), rel=1e-12)
    assert (result.ci_low, result.ci_high) == proportion_ci(8, 35, "exact", 0.95)
    assert result.rejects(0.05)
    assert not analyse_proportion(7, 35, p0=0.10).rejects(0.05)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.k = 9  # type: ignore[misc]


def test_nobody_analysed_gives_nan_not_an_error() -> None:
    result = analyse_proportion(0, 0, p0=0.10)
    assert isinstance(result, ProportionResult)
    assert all(math.isnan(v) for v in (result.estimate, result.ci_low, result.ci_high, result.p_value))
    assert not result.rejects(0.05)
    assert all(math.isnan(v) for v in proportion_ci(0, 0, "wilson"))


def _critical_cases() -> list[tuple[int, float, float, int]]:
    cases = []
    for row in REFERENCE["tests"]:
        for alpha, r in zip(row["alpha"], row["critical"], strict=True):
            cases.append((int(row["n"][0]), row["p0"][0], alpha, int(r)))
    return cases


def _exact_tail(r: int, n: int, p0: float) -> Fraction:
    """P(Bin(n, p0) >= r) in exact rational arithmetic, p0 read as the decimal it was written as."""
    p = Fraction(str(p0))
    return sum((math.comb(n, x) * p**x * (1 - p) ** (n - x) for x in range(r, n + 1)), Fraction(0))


@pytest.mark.parametrize(("n", "p0", "alpha", "r_from_r"), _critical_cases())
def test_critical_responders_match_r(n: int, p0: float, alpha: float, r_from_r: int) -> None:
    r = critical_responders(n, p0, alpha)
    if r == r_from_r:
        return
    # Only exact ties differ: with n = 1 and p0 = alpha, P(X >= 1) = alpha exactly, so H0 is
    # rejected at k = 1; R's pbinom returns 1 - (1 - p0) = alpha + 1 ulp and does not reject.
    assert (n, r, r_from_r) == (1, 1, 2)
    assert _exact_tail(1, n, p0) == Fraction(str(alpha))


def test_critical_responders_for_the_first_trial() -> None:
    r = critical_responders(35, 0.10, 0.05)
    assert r == 8
    assert stats.binom.sf(r - 1, 35, 0.10) <= 0.05 < stats.binom.sf(r - 2, 35, 0.10)


def _alphas_with_ties(n: int, p0: float) -> list[float]:
    """Round alphas plus every attained tail P(X >= r) and its neighbouring floats."""
    alphas = [0.001, 0.01, 0.025, 0.05, 0.1, 0.2]
    for tail in stats.binom.sf(np.arange(0, n), n, p0):
        if 0.0 < tail < 1.0:
            alphas += [float(tail), math.nextafter(float(tail), 0.0), math.nextafter(float(tail), 1.0)]
    return [a for a in alphas if 0.0 < a < 1.0]


@pytest.mark.parametrize("p0", [0.05, 0.1, 0.15, 0.2, 0.3, 0.5])
def test_critical_responders_agree_with_binomtest_including_ties(p0: float) -> None:
    for n in range(1, 61):
        p_values = np.array([stats.binomtest(k, n, p0, alternative="greater").pvalue for k in range(n + 1)])
        for alpha in _alphas_with_ties(n, p0):
            r = critical_responders(n, p0, alpha)
            np.testing.assert_array_equal(np.arange(n + 1) >= r, p_values <= alpha, err_msg=f"n={n} alpha={alpha!r}")


def test_critical_responders_when_nothing_is_significant() -> None:
    assert critical_responders(2, 0.5, 0.05) == 3  # P(X >= 2) = 0.25 > 0.05
    with pytest.raises(ValueError, match="alpha"):
        critical_responders(10, 0.1, 1.0)


def test_module_exports() -> None:
    assert set(proportions.__all__) <= set(dir(proportions))
