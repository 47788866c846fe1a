"""Simulated operating characteristics against exact results, within 4 Monte Carlo SEs.

With dropout and AEs switched off, enrollment certain and responses present at the first scan,
the number of confirmed responders is Binomial(35, ORR), so the simulated power and type I error
must equal the exact binomial values and the ORR estimate must be unbiased.
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from sim.runs.runner import run
from tests.helpers import IDEAL

R = 2000


def _exact_power(n: int, p0: float, alpha: float, p: float) -> float:
    critical = next(k for k in range(n + 1) if stats.binom.sf(k - 1, n, p0) <= alpha)
    return float(stats.binom.sf(critical - 1, n, p))


@pytest.mark.slow
@pytest.mark.parametrize("orr", [0.10, 0.25])
def test_power_equals_exact_binomial_power(scenario_with, orr: float) -> None:
    scenario = scenario_with(*IDEAL, f"efficacy.orr={orr}")
    result = run(scenario, replicates=R, seed=2026, n_jobs=1, progress=False)
    table = result.replicates
    assert (table["n_analysed"] == 35).all()
    exact = _exact_power(35, 0.10, 0.05, orr)
    power = result.summary.power
    assert power.mcse == pytest.approx(math.sqrt(power.value * (1 - power.value) / R))
    assert abs(power.value - exact) <= 4 * math.sqrt(exact * (1 - exact) / R)
    # The responder count itself is Binomial(35, orr): its mean and variance.
    mean = table["responders"].mean()
    assert abs(mean - 35 * orr) <= 4 * math.sqrt(35 * orr * (1 - orr) / R)
    assert abs(result.summary.orr_bias.value) <= 4 * result.summary.orr_bias.mcse


@pytest.mark.slow
def test_large_trial_without_dropout_reproduces_orr(scenario_with) -> None:
    """efficacy.orr is the share of patients with a confirmed response when nobody drops out."""
    scenario = scenario_with(
        "safety.withdrawal_per_month=0",
        "safety.loss_to_follow_up_per_month=0",
        "trial.sample_size=400",
        "recruitment.sites.0.screened_per_month=60",
        "analysis.primary_cutoff.months=12",
    )
    result = run(scenario, replicates=150, seed=5, progress=False)
    responders = result.replicates["responders"].sum()
    analysed = result.replicates["n_analysed"].sum()
    p = scenario.efficacy.orr
    assert abs(responders / analysed - p) <= 4 * math.sqrt(p * (1 - p) / analysed)
