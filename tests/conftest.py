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

