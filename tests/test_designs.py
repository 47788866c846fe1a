"""Single-stage, Simon two-stage and Bayesian predictive designs, and the ``design`` subcommand.

Simon designs are checked against rows of Simon (1989) Table 1 (tests/data/simon1989.csv) and
against an independent brute-force search written here with ``math.comb``; the Bayesian quantities
against exact rational enumeration of every future response sequence.
"""

from __future__ import annotations

import csv
import functools
import itertools
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, special, stats

from sim.stats import designs
from sim.stats.designs import (
    min_detectable_orr,
    posterior_prob_above,
    predictive_probability,
    simon_characteristics,
    simon_designs,
    single_stage,
    smallest_single_stage,
)

SIMON_TABLE = Path(__file__).parent / "data" / "simon1989.csv"


# --- single stage -------------------------------------------------------------------------------


def test_single_stage_for_the_first_trial() -> None:
    design = single_stage(35, 0.10, 0.05)
    assert design.r == 8
    assert design.attained_alpha == pytest.approx(stats.binom.sf(7, 35, 0.10), abs=1e-15)
    assert stats.binom.sf(6, 35, 0.10) > 0.05  # 7 responders would not be enough
    assert design.power(0.30) == pytest.approx(stats.binom.sf(7, 35, 0.30), abs=1e-15)
    assert design.attained_alpha == pytest.approx(0.01999023362716357, abs=1e-12)


@pytest.mark.parametrize(("target", "expected"), [(0.8, 0.2786976117107673), (0.9, 0.3133871651117485)])
def test_min_detectable_orr_at_35(target: float, expected: float) -> None:
    p = min_detectable_orr(35, 0.10, 0.05, power=target)
    assert p == pytest.approx(expected, abs=1e-10)
    # P(X >= r | p) is the regularised incomplete beta I_p(r, n - r + 1): an independent closed form.
    assert p == pytest.approx(special.betaincinv(8, 35 - 8 + 1, target), abs=1e-12)
    assert stats.binom.sf(7, 35, p) >= target
    assert stats.binom.sf(7, 35, math.nextafter(p, 0.0)) < target


def test_min_detectable_orr_without_a_significant_count() -> None:
    with pytest.raises(ValueError, match="significant"):
        min_detectable_orr(1, 0.5, 0.05)


@pytest.mark.parametrize(("p1", "n", "r"), [(0.30, 25, 6), (0.25, 40, 8)])
def test_smallest_single_stage(p1: float, n: int, r: int) -> None:
    design = smallest_single_stage(0.10, p1, 0.05, 0.80, nmax=100)
    assert design is not None and (design.n, design.r) == (n, r)
    assert design.power(p1) >= 0.80
    for smaller in range(1, n):
        assert single_stage(smaller, 0.10, 0.05).power(p1) < 0.80
    assert smallest_single_stage(0.10, p1, 0.05, 0.80, nmax=n - 1) is None


# --- Simon two-stage ----------------------------------------------------------------------------


@functools.cache
def _search(p0: float, p1: float, alpha: float, power: float) -> designs.SimonSearch:
    return simon_designs(p0, p1, alpha, power, nmax=100)


def _table_rows() -> list[dict[str, str]]:
    lines = [line for line in SIMON_TABLE.read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def test_simon_table_has_the_citation_and_rows() -> None:
    assert "Controlled Clinical Trials 1989;10:1-10" in SIMON_TABLE.read_text()
    assert len(_table_rows()) == 12


@pytest.mark.parametrize("row", _table_rows(), ids=lambda r: f"{r['p0']}-{r['p1']}-b{r['beta']}-{r['design']}")
def test_simon_1989_table(row: dict[str, str]) -> None:
    p0, p1, alpha, beta = (float(row[key]) for key in ("p0", "p1", "alpha", "beta"))
    search = _search(p0, p1, alpha, 1.0 - beta)
    design = search.optimal if row["design"] == "optimal" else search.minimax
    assert design is not None
    assert (design.r1, design.n1, design.r, design.n) == tuple(int(row[k]) for k in ("r1", "n1", "r", "n"))
    assert round(design.en_p0, 1) == float(row["en_p0"])
    assert round(design.pet_p0, 2) == float(row["pet_p0"])
    assert design.attained_alpha <= alpha
    assert design.attained_power >= 1.0 - beta


def test_simon_characteristics_closed_form() -> None:
    pet, en, size = simon_characteristics(1, 10, 5, 29, 0.10)
    assert pet == pytest.approx(0.9**10 + 10 * 0.1 * 0.9**9, abs=1e-15)
    assert en == pytest.approx(10 + (1 - pet) * 19, abs=1e-12)
    expected = sum(stats.binom.pmf(x1, 10, 0.1) * stats.binom.sf(5 - x1, 19, 0.1) for x1 in range(2, 11))
    assert size == pytest.approx(expected, abs=1e-15)
    with pytest.raises(ValueError):
        simon_characteristics(3, 3, 5, 29, 0.1)


def _pmf(m: int, p: float) -> list[float]:
    return [math.comb(m, x) * p**x * (1 - p) ** (m - x) for x in range(m + 1)]


def _brute_force_simon(
    p0: float, p1: float, alpha: float, power: float, nmax: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Every (n1, r1, n, r) with plain loops; returns optimal and minimax as (r1, n1, r, n)."""
    tables = {p: [_pmf(m, p) for m in range(nmax + 1)] for p in (p0, p1)}

    def reject(r1: int, n1: int, r: int, n: int, p: float) -> float:
        t = tables[p]
        total = 0.0
        for x1 in range(r1 + 1, n1 + 1):
            total += t[n1][x1] * sum(t[n - n1][x2] for x2 in range(max(0, r - x1 + 1), n - n1 + 1))
        return total

    feasible = []
    for n in range(2, nmax + 1):
        for n1 in range(1, n):
            for r1 in range(n1):
                for r in range(r1 + 1, n):
                    if reject(r1, n1, r, n, p0) <= alpha:
                        if reject(r1, n1, r, n, p1) >= power:
                            pet = sum(tables[p0][n1][: r1 + 1])
                            feasible.append((n1 + (1 - pet) * (n - n1), n, n1, r1, r))
                        break  # larger r only lowers the power
    best_en = min(f[0] for f in feasible)
    optimal = min((f for f in feasible if f[0] <= best_en + 1e-9), key=lambda f: (f[1], f[2], f[3]))
    best_n = min(f[1] for f in feasible)
    minimax = min((f for f in feasible if f[1] == best_n), key=lambda f: (f[0], f[2], f[3]))
    return (optimal[3], optimal[2], optimal[4], optimal[1]), (minimax[3], minimax[2], minimax[4], minimax[1])


@pytest.mark.parametrize(
    ("p0", "p1", "alpha", "power", "nmax"), [(0.05, 0.25, 0.05, 0.8, 25), (0.10, 0.40, 0.10, 0.8, 22)]
)
def test_simon_search_equals_brute_force(p0: float, p1: float, alpha: float, power: float, nmax: int) -> None:
    optimal, minimax = _brute_force_simon(p0, p1, alpha, power, nmax)
    search = simon_designs(p0, p1, alpha, power, nmax)
    assert search.optimal is not None and search.minimax is not None
    assert (search.optimal.r1, search.optimal.n1, search.optimal.r, search.optimal.n) == optimal
    assert (search.minimax.r1, search.minimax.n1, search.minimax.r, search.minimax.n) == minimax


def test_simon_designs_for_the_first_trial() -> None:
    search = simon_designs(0.10, 0.25, 0.05, 0.80, nmax=100)
    assert search.optimal is not None and search.minimax is not None
    o, m = search.optimal, search.minimax
    assert (o.r1, o.n1, o.r, o.n) == (2, 18, 7, 43)
    assert (m.r1, m.n1, m.r, m.n) == (2, 22, 7, 40)
    for design in (o, m):
        pet0, en0, size = simon_characteristics(design.r1, design.n1, design.r, design.n, 0.10)
        pet1, en1, power = simon_characteristics(design.r1, design.n1, design.r, design.n, 0.25)
        assert (design.pet_p0, design.en_p0, design.attained_alpha) == (pet0, en0, size)
        assert (design.pet_p1, design.en_p1, design.attained_power) == (pet1, en1, power)


def test_simon_without_a_design_and_bad_input() -> None:
    search = simon_designs(0.10, 0.30, 0.05, 0.80, nmax=20)
    assert search.optimal is None and search.minimax is None
    with pytest.raises(ValueError, match="p1 must exceed p0"):
        simon_designs(0.3, 0.2)
    with pytest.raises(ValueError, match="alpha"):
        simon_designs(0.1, 0.3, alpha=0.0)


# --- Bayesian monitoring ------------------------------------------------------------------------


def _exact_posterior_above(p0: Fraction, a: int, b: int) -> Fraction:
    """P(Beta(a, b) > p0) for integers a, b: P(fewer than a successes in a + b - 1 trials at p0)."""
    m = a + b - 1
    return sum((math.comb(m, j) * p0**j * (1 - p0) ** (m - j) for j in range(a)), Fraction(0))


def _rising(x: Fraction, k: int) -> Fraction:
    out = Fraction(1)
    for i in range(k):
        out *= x + i
    return out


def _exact_predictive(k: int, n: int, n_max: int, p0: Fraction, theta: Fraction, a: int, b: int) -> Fraction:
    """Enumerate every sequence of the n_max - n future outcomes; each has Beta-Bernoulli probability."""
    m = n_max - n
    a_post, b_post = Fraction(a + k), Fraction(b + n - k)
    total = Fraction(0)
    for outcome in itertools.product((0, 1), repeat=m):
        y = sum(outcome)
        probability = _rising(a_post, y) * _rising(b_post, m - y) / _rising(a_post + b_post, m)
        final = _exact_posterior_above(p0, a + k + y, b + n_max - k - y)
        assert abs(final - theta) > Fraction(1, 10**9)  # no knife-edge decisions in these cases
        if final > theta:
            total += probability
    return total


@pytest.mark.parametrize(("k", "n", "a", "b"), [(0, 0, 1, 1), (2, 6, 1, 1), (5, 12, 2, 3), (1, 9, 1, 4)])
def test_posterior_probability_exact(k: int, n: int, a: int, b: int) -> None:
    expected = _exact_posterior_above(Fraction(1, 10), a + k, b + n - k)
    assert posterior_prob_above(0.10, k, n, a, b) == pytest.approx(float(expected), abs=1e-12)


def test_posterior_probability_non_integer_prior_by_quadrature() -> None:
    a, b, k, n = 0.2, 0.8, 4, 15
    density = stats.beta(a + k, b + n - k).pdf
    expected, _ = integrate.quad(density, 0.2, 1.0, epsabs=1e-14, epsrel=1e-13)
    assert posterior_prob_above(0.2, k, n, a, b) == pytest.approx(expected, abs=1e-11)


@pytest.mark.parametrize(
    ("k", "n", "n_max", "theta", "a", "b"),
    [
        (1, 4, 12, 0.9, 1, 1),
        (2, 5, 12, 0.95, 1, 1),
        (3, 8, 12, 0.9, 2, 3),
        (0, 3, 10, 0.8, 1, 1),
        (4, 12, 12, 0.9, 1, 1),
    ],
)
def test_predictive_probability_against_enumeration(k: int, n: int, n_max: int, theta: float, a: int, b: int) -> None:
    expected = _exact_predictive(k, n, n_max, Fraction(1, 10), Fraction(str(theta)), a, b)
    assert predictive_probability(k, n, n_max, 0.10, theta, a, b) == pytest.approx(float(expected), abs=1e-12)


def test_predictive_probability_non_integer_prior() -> None:
    # Beta(0.2, 0.8) prior: enumerate sequences exactly, posterior tails by quadrature.
    a, b, k, n, n_max, theta = Fraction(1, 5), Fraction(4, 5), 2, 6, 11, 0.9
    m = n_max - n
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=m):
        y = sum(outcome)
        prob = _rising(a + k, y) * _rising(b + n - k, m - y) / _rising(a + b + n, m)
        tail, _ = integrate.quad(stats.beta(float(a) + k + y, float(b) + n_max - k - y).pdf, 0.1, 1.0, epsabs=1e-14)
        total += float(prob) if tail > theta else 0.0
    assert predictive_probability(k, n, n_max, 0.10, theta, 0.2, 0.8) == pytest.approx(total, abs=1e-12)


def test_predictive_probability_counts_only_final_posteriors_strictly_above_theta() -> None:
    """Lee and Liu's success is P(ORR > p0 | data) > theta_T: a final posterior equal to theta_T fails."""
    k, n, n_max, p0, a, b = 2, 10, 20, 0.1, 0.5, 0.5
    future = np.arange(n_max - n + 1)
    final = stats.beta.sf(p0, a + k + future, b + (n_max - n) - future + n - k)
    theta = float(final[1])  # the final posterior with one more responder; it increases with responders
    assert np.all(np.diff(final) > 0)
    # success needs at least two more responders: P(Y >= 2), Y ~ Beta-Binomial(10, a + k, b + n - k)
    expected = float(stats.betabinom.sf(1, n_max - n, a + k, b + n - k))
    assert predictive_probability(k, n, n_max, p0, theta, a, b) == pytest.approx(expected, abs=1e-12)


def test_predictive_probability_bounds_and_errors() -> None:
    assert predictive_probability(0, 10, 10, 0.1, 0.9, 1, 1) == 0.0
    assert predictive_probability(10, 10, 12, 0.1, 0.9, 1, 1) == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError):
        predictive_probability(3, 2, 10, 0.1, 0.9, 1, 1)
    with pytest.raises(ValueError, match="prior"):
        predictive_probability(1, 2, 10, 0.1, 0.9, 0, 1)


def test_module_exports() -> None:
    assert set(designs.__all__) <= set(dir(designs))
