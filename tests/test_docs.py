"""The docs keep up with the code: every field and column is documented, README matches CI."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pytest

from sim.runner import run
from sim.scenario.model import Scenario

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text()


def _documented_names() -> set[str]:
    return set(re.findall(r"`([^`]+)`", REFERENCE))


def _leaf_paths(cls: type, prefix: str = "") -> list[str]:
    """Dotted paths of every scalar scenario field, lists of tables written as ``[i]``."""
    paths = []
    for name, hint in typing.get_type_hints(cls).items():
        path = f"{prefix}{name}"
        args = typing.get_args(hint)
        inner = args[0] if args and dataclasses.is_dataclass(args[0]) else None
        if dataclasses.is_dataclass(hint):
            paths += _leaf_paths(hint, f"{path}.")
        elif inner is not None:
            paths += _leaf_paths(inner, f"{path}[i].")
        else:
            paths.append(path)
    return paths


def test_every_scenario_field_is_documented() -> None:
    documented = _documented_names()
    for path in _leaf_paths(Scenario):
        generic = re.sub(r"analysis\.(primary|final)_cutoff\.", "analysis.*_cutoff.", path)
        assert generic in documented, path


@pytest.fixture(scope="module")
def result(request):
    from sim.scenario import load_scenario

    return run(load_scenario("base"), replicates=3, seed=1, keep_patients=True, progress=False)


def test_every_output_column_is_documented(result) -> None:
    names = _documented_names()
    flat = set()
    for name in names:
        flat.update(n.strip() for n in name.split(","))
    for column in list(result.replicates.columns) + list(result.patients.columns):
        assert column in flat, column


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line for line in readme[:6] if line.startswith("python3 -m venv")]
    assert len(commands) == 2
    assert "trialsim run" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
