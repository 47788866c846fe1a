"""Simulated enrollment against its closed forms.

With one site screening at a constant rate lambda, no screen failures and no screening delay,
the day the N-th patient enrolls is Gamma(N, lambda) after opening, so P(complete by close) is
P(Poisson(lambda t) >= N). With a Gamma(k, 1/k) rate multiplier (CV = 1/sqrt(k)) the count in t
days is negative binomial and the expected duration is N / lambda * k / (k - 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.runs.runner import run
from sim.units import DAYS_PER_MONTH

R = 2000
PLAIN = (
    "recruitment.periods=[]",
    "recruitment.sites.0.ramp_up_months=0",
    "recruitment.screen_failure_probability=0",
    "recruitment.screening_days=[0, 0]",
)


def _durations_days(scenario, seed: int) -> tuple[np.ndarray, np.ndarray]:
    table = run(scenario, replicates=R, seed=seed, progress=False).replicates
    return table["enrollment_months"].to_numpy() * DAYS_PER_MONTH, ~table["closed_short"].to_numpy()


@pytest.mark.slow
def test_duration_is_gamma(scenario_with) -> None:
    per_month = 4.0
    scenario = scenario_with(*PLAIN, "recruitment.rate_cv=0", f"recruitment.sites.0.screened_per_month={per_month}")
    days, complete = _durations_days(scenario, seed=17)
    assert complete.all()
    lam = per_month / DAYS_PER_MONTH
    mean, sd = 35 / lam, math.sqrt(35) / lam
    assert abs(days.mean() - mean) <= 4 * sd / math.sqrt(R)
    for q in (0.1, 0.5, 0.9):
        p = float(stats.gamma.cdf(np.quantile(days, q), 35, scale=1 / lam))
        assert abs(p - q) <= 4 * math.sqrt(q * (1 - q) / R)


@pytest.mark.slow
@pytest.mark.parametrize("cv", [0.0, 0.5])
def test_probability_of_completing_by_close(scenario_with, cv: float) -> None:
    per_month = 1.43
    scenario = scenario_with(*PLAIN, f"recruitment.rate_cv={cv}", f"recruitment.sites.0.screened_per_month={per_month}")
    _, complete = _durations_days(scenario, seed=23)
    t = (scenario.trial.recruitment_close - scenario.trial.recruitment_open).days + 1
    mu = per_month / DAYS_PER_MONTH * t
    if cv == 0:
        exact = float(stats.poisson.sf(34, mu))
    else:
        k = 1 / cv**2
        exact = float(stats.nbinom.sf(34, k, k / (k + mu)))
    assert abs(complete.mean() - exact) <= 4 * math.sqrt(exact * (1 - exact) / R)


@pytest.mark.slow
def test_poisson_gamma_mean_duration(scenario_with) -> None:
    per_month, cv = 12.0, 0.4
    scenario = scenario_with(*PLAIN, f"recruitment.rate_cv={cv}", f"recruitment.sites.0.screened_per_month={per_month}")
    days, complete = _durations_days(scenario, seed=29)
    assert complete.all()
    k = 1 / cv**2
    lam = per_month / DAYS_PER_MONTH
    assert abs(days.mean() - 35 / lam * k / (k - 1)) <= 4 * days.std(ddof=1) / math.sqrt(R)
