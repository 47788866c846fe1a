"""The docs keep up with the code: every field and column is documented, README matches CI."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import pandas as pd
import pytest

from sim.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, RecordError, conform, reference_table
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
def result():
    from sim.scenario import load_scenario

    simon = load_scenario(
        "base",
        [
            "monitoring.rule='simon'",
            "monitoring.stage1_patients=10",
            "monitoring.stage1_max_responders=1",
            "monitoring.final_max_responders=5",
        ],
    )
    return run(simon, replicates=3, seed=1, keep_patients=True, progress=False)


@pytest.mark.parametrize(
    "columns", [REPLICATE_COLUMNS, LOOK_COLUMNS, PATIENT_COLUMNS], ids=["replicates", "looks", "patients"]
)
def test_each_output_table_is_documented_from_its_schema(columns) -> None:
    assert reference_table(columns) in REFERENCE, "paste sim.records.reference_table(...) into docs/reference.md"


def test_output_tables_follow_their_schema(result) -> None:
    for table, columns in ((result.replicates, REPLICATE_COLUMNS), (result.looks, LOOK_COLUMNS), (result.patients, PATIENT_COLUMNS)):
        assert len(table) > 0
        assert list(table.columns) == [c.name for c in columns]
        pd.testing.assert_frame_equal(conform(table, columns), table)


def test_conform_names_what_differs() -> None:
    frame = pd.DataFrame({"replicate": [1], "look": [1.5]})
    with pytest.raises(RecordError, match=r"missing \['look_date', 'patients', 'responders', 'stopped', 'wait_days'\], unexpected \[\]"):
        conform(frame, LOOK_COLUMNS)
    full = pd.DataFrame({c.name: [0] for c in LOOK_COLUMNS})
    with pytest.raises(RecordError, match=r"look_date \(int64, schema datetime64\[ms\]\), .*stopped \(int64, schema bool\)"):
        conform(full, LOOK_COLUMNS)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    commands = [line for line in readme[:6] if line.startswith("python3 -m venv")]
    assert len(commands) == 2
    assert "trialsim run" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_one_spelling_of_enrollment() -> None:
    british = re.compile(r"\b[Ee]nrolment|\b[Ee]nrols?\b")
    paths = [ROOT / "README.md", *ROOT.glob("docs/*.md"), *ROOT.glob("sim/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("scenarios/*.toml")]
    found = [f"{p.relative_to(ROOT)}:{i}" for p in paths for i, line in enumerate(p.read_text().splitlines(), 1) if british.search(line)]
    assert found == [], "write enroll / enrollment (American spelling) everywhere"
