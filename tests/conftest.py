"""Shared fixtures: scenarios built from the shipped base file with overrides."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sim.scenario import Scenario, load_scenario


@pytest.fixture(scope="session")
def base() -> Scenario:
    return load_scenario("base")


@pytest.fixture(scope="session")
def scenario_with() -> Callable[..., Scenario]:
    """Base scenario with ``--set`` style overrides."""

    def make(*overrides: str, name: str = "base") -> Scenario:
        return load_scenario(name, overrides)

    return make


# A trial stripped to its primary endpoint: no dropout, no AEs, fast full enrolment, responses
# present at the first scan, and a primary cutoff late enough to confirm every response.
IDEAL = (
    "safety.withdrawal_per_month=0",
    "safety.loss_to_follow_up_per_month=0",
    "safety.ae_probability_by_cycle=[0.0]",
    "recruitment.rate_cv=0",
    "recruitment.periods=[]",
    "recruitment.sites.0.ramp_up_months=0",
    "recruitment.sites.0.screened_per_month=20",
    "efficacy.time_to_response={family='exponential', median_months=0.01}",
    "efficacy.death_without_progression_share=0",
    "analysis.primary_cutoff.months=9",
)
