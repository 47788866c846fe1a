"""The docs keep up with the code: every field and column is documented, README matches CI."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.analysis.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, RecordError, conform, reference_table
from sim.runs.runner import run
from sim.scenario import reference_table as reference_table_of_scenario
from sim.scenario.model import Analysis, Scenario
from sim.scenario.reference import allowed_text

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text()


def _scenario_rows() -> dict[str, str]:
    """The scenario-field table of the reference: each field name (as written) to its "allowed" cell."""
    section = REFERENCE.split("## Scenario fields", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name] = cells[2].replace("\\|", "|")
    return rows


def _scenario_fields(cls: type, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted path, what the code allows) of every scenario field below the sections, entries as ``[i]``."""
    found = []
    for fld in (f for f in dataclasses.fields(cls) if f.init):  # Scenario.source is not a file field
        path = f"{prefix}{fld.name}"
        check = fld.metadata["check"]
        if prefix:
            found.append((path, allowed_text(fld)))
        if check.table is not None:
            found += _scenario_fields(check.table, f"{path}.")
        elif check.item is not None and check.item.table is not None:
            found += _scenario_fields(check.item.table, f"{path}[i].")
        elif check.item is not None:
            found.append((f"{path}[i]", check.item.allowed))
    return found


def _row_for(path: str, rows: dict[str, str]) -> str | None:
    """The "allowed" cell of the row naming ``path``, directly or by a ``*`` pattern (``analysis.*_cutoff.rule``)."""
    if path in rows:
        return rows[path]
    for name, allowed in rows.items():
        if "*" in name and re.fullmatch(re.escape(name).replace(r"\*", "[a-z_]+"), path):
            return allowed
    return None


def test_the_scenario_field_table_is_generated_from_the_declared_checks() -> None:
    assert reference_table_of_scenario() in REFERENCE, "paste sim.scenario.reference_table() into docs/reference.md"


def test_every_scenario_field_states_what_its_check_allows_and_its_default() -> None:
    rows = _scenario_rows()
    fields = _scenario_fields(Scenario)
    assert len(fields) > 60
    for path, allowed in fields:
        assert _row_for(path, rows) == allowed, path
    assert Analysis.__dataclass_fields__["p0"].metadata["check"].allowed in rows["analysis.p0"]
    assert rows["analysis.ci_level"] == "a number in [0.5, 1) (default 0.95)"
    assert rows["recruitment.rate_cv"] == "0 or a number in [0.001, 5] (default 0)"
    assert rows["safety.new_therapy_days"].endswith("(default [14, 42])")


def test_the_reference_documents_no_field_the_code_lacks() -> None:
    paths = [path for path, _ in _scenario_fields(Scenario)]
    for name in _scenario_rows():
        assert name in paths or any(_row_for(path, {name: ""}) is not None for path in paths), name


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
    assert reference_table(columns) in REFERENCE, "paste sim.analysis.records.reference_table(...) into docs/reference.md"


def test_output_tables_follow_their_schema(result) -> None:
    for table, columns in ((result.replicates, REPLICATE_COLUMNS), (result.looks, LOOK_COLUMNS), (result.patients, PATIENT_COLUMNS)):
        assert len(table) > 0
        assert list(table.columns) == [c.name for c in columns]
        pd.testing.assert_frame_equal(conform(table, columns), table)


def test_conform_names_what_differs() -> None:
    frame = pd.DataFrame({"replicate": [1], "look": [1.5]})
    with pytest.raises(RecordError, match=r"missing \['look_date', 'patients', 'responders', 'stopped', 'wait_days', 'look_months'\], unexpected \[\]"):
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
