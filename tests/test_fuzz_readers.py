"""Fuzzing the readers of files a user hands in: the forecast's CSV files and the report's run folders.

Every input either reads or is refused with the reader's own error in one line naming the file; no
other exception escapes. Derandomised (the same inputs every run), as in ``tests/test_fuzz.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from sim.forecast import ObservedError, read_observed
from sim.forecast.observed import COLUMNS
from sim.forecast.screening import read_screening
from sim.runs.folder import RunFolderError, read_run, write_run
from sim.runs.runner import run
from sim.scenario import load_scenario
from tests.test_fuzz import _fuzz

AS_OF = dt.date(2026, 11, 13)
CELLS = st.one_of(
    st.sampled_from(["", "2026-01-10", "2026-11-13", "2026-11-14", "1999-02-30", "Lead centre", "PR", "SD", "true",
                     "no", "death", "adverse_event", "3", "-1", "2\u00b2", "\u0663", "NaN", " ", "\ufeff", '"', ","]),
    st.text(max_size=6),
)


def _csv(rows: list[list[str]], header: list[str]) -> str:
    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text

    return "\n".join(",".join(map(cell, row)) for row in [header, *rows]) + "\n"


@_fuzz(300)
@given(
    header=st.lists(st.sampled_from([*COLUMNS, "extra", ""]), min_size=0, max_size=8, unique=True),
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=9), max_size=4),
)
def test_an_observed_file_reads_or_is_refused_in_one_line(tmp_path_factory, header, rows) -> None:
    path = tmp_path_factory.mktemp("observed") / "observed.csv"
    path.write_text(_csv(rows, header), encoding="utf-8")
    scenario = load_scenario("base")
    try:
        observed = read_observed(path, scenario, AS_OF)
    except ObservedError as exc:
        event("refused")
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    event("read")
    assert observed.n_enrolled <= len(rows)  # a blank line is no patient


@_fuzz(150)
@given(rows=st.lists(st.lists(CELLS, min_size=3, max_size=3), max_size=3))
def test_a_screening_file_reads_or_is_refused_in_one_line(tmp_path_factory, rows) -> None:
    path = tmp_path_factory.mktemp("screened") / "screened.csv"
    path.write_text(_csv(rows, ["site", "screened", "screen_failed"]), encoding="utf-8")
    scenario = load_scenario("base")
    observed = read_observed(Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv", scenario,
                             dt.date(2026, 11, 20))
    try:
        read_screening(path, scenario, observed)
    except ObservedError as exc:
        event("refused")
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    event("read")


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    write_run(folder, run(load_scenario("base"), replicates=8, seed=1, progress=False), command="trialsim test")
    return folder


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


@_fuzz(200)
@given(data=st.data())
def test_a_damaged_run_folder_is_refused_in_one_line(saved_run, tmp_path_factory, data) -> None:
    """A report drawn --from a folder whose summary.json or tables were edited, truncated or replaced."""
    folder = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(saved_run, folder)
    target = data.draw(st.sampled_from(sorted(p.name for p in folder.iterdir() if p.is_file())), label="file")
    how = data.draw(st.sampled_from(["json value", "drop key", "truncate", "garbage", "delete"]), label="how")
    path = folder / target
    if how == "json value" and target.endswith(".json"):
        document = json.loads(path.read_text())
        key = data.draw(st.sampled_from(sorted(document)), label="key")
        document[key] = data.draw(JSON_VALUES, label="value")
        path.write_text(json.dumps(document))
    elif how == "drop key" and target.endswith(".json"):
        document = json.loads(path.read_text())
        document.pop(data.draw(st.sampled_from(sorted(document)), label="key"))
        path.write_text(json.dumps(document))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[: data.draw(st.integers(0, 200), label="bytes")])
    elif how == "garbage":
        path.write_bytes(data.draw(st.binary(max_size=64), label="bytes"))
    elif how == "delete":
        path.unlink()
    try:
        read_run(folder)
    except RunFolderError as exc:
        event("refused")
        assert "\n" not in str(exc)
        return
    event("read")
