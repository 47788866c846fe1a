"""The engine contract, checked on every registered engine: shape, names, chunking, schemas, refusals, resume.

Each engine's own logic has its own tests (``test_engine.py``, ``test_vector_engine.py``,
``test_reference_engine.py``); what every engine promises a run is checked here once, so a new
engine added to :data:`sim.engines.ENGINES` is held to it without a new test.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import sim.runs.dispatch as dispatch
from sim.analysis.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, stored
from sim.engines import ENGINES, ChunkEngine, EngineError, HistoryEngine, resolve_engine, run_chunk
from sim.engines.contract import RunPlan
from sim.model.trial_model import TrialModel
from sim.runs.runner import RunResult, run
from sim.scenario import load_scenario
from tests.data.make_golden import MONITORED

SIMON = [*MONITORED["simon"], "monitoring.pause_enrollment=false"]
"""A monitored design every engine simulates: looks, so the look table has rows."""


def _model(*extra: str) -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", [*SIMON, *extra]))


def _run(engine: str, replicates: int, chunk: int, jobs: int = 1, folder: Path | None = None) -> RunResult:
    return run(
        _model(), replicates=replicates, seed=11, n_jobs=jobs, chunk_size=chunk, engine=engine, keep_patients=True,
        checkpoint_dir=folder, progress=False,
    )


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_engine_keeps_one_of_the_two_shapes_under_its_registered_name(name: str) -> None:
    engine = resolve_engine(name)
    assert isinstance(engine, HistoryEngine) != isinstance(engine, ChunkEngine)
    assert engine.name == name and resolve_engine(name) is engine
    assert isinstance(engine.forecasts, bool) and engine.unsupported(_model()) is None


@pytest.mark.parametrize("name", list(ENGINES))
def test_results_do_not_depend_on_chunking_or_workers(name: str) -> None:
    whole = _run(name, 12, 12)
    split = _run(name, 12, 5, jobs=2)
    assert len(whole.looks) > 0
    for a, b in ((whole.replicates, split.replicates), (whole.looks, split.looks), (whole.patients, split.patients)):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert whole.summary.to_dict() == split.summary.to_dict()


@pytest.mark.parametrize("name", list(ENGINES))
def test_tables_keep_their_schemas_and_equal_their_parquet_round_trip(name: str) -> None:
    model = _model()
    tables = run_chunk(RunPlan(model=model, seed=3, engine=resolve_engine(name), keep_patients=True), 0, 10)
    assert tables.patients is not None and len(tables.looks) > 0
    for frame, columns in (
        (tables.replicates, REPLICATE_COLUMNS),
        (tables.looks, LOOK_COLUMNS),
        (tables.patients, PATIENT_COLUMNS),
    ):
        assert list(frame.columns) == [c.name for c in columns]
        pd.testing.assert_frame_equal(frame, stored(frame, columns), check_exact=True)
    primary = tables.patients[tables.patients["cutoff"] == "primary"].groupby("replicate").size()
    treated = tables.replicates.set_index("replicate")["n_treated"]
    assert primary.reindex(treated.index, fill_value=0).tolist() == treated.tolist()


@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_refuses_a_forecast_state_unless_it_forecasts_before_anything_is_written(
    name: str, tmp_path: Path
) -> None:
    engine = resolve_engine(name)
    forecast = dataclasses.replace(_model(), start=object())  # type: ignore[arg-type]
    reason = engine.unsupported(forecast)
    assert (reason is None) == engine.forecasts
    if engine.forecasts:
        return
    assert "forecast" in reason
    folder = tmp_path / "chunks"
    with pytest.raises(EngineError, match="forecast"):
        run(forecast, replicates=4, engine=name, checkpoint_dir=folder, progress=False)
    assert not folder.exists()


@pytest.mark.parametrize("name", list(ENGINES))
def test_an_engine_that_refuses_an_orr_prior_names_the_field(name: str) -> None:
    reason = resolve_engine(name).unsupported(_model("efficacy.orr_prior={beta=[3, 12]}"))
    assert reason is None or "efficacy.orr_prior" in reason


@pytest.mark.parametrize("name", list(ENGINES))
def test_a_longer_run_resumes_from_the_shorter_runs_checkpoints(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "chunks"
    _run(name, 8, 4, folder=folder)
    spans: list[tuple[int, int]] = []
    counted = dispatch.run_chunk

    def counting(plan: RunPlan, start: int, stop: int):  # type: ignore[no-untyped-def]
        spans.append((start, stop))
        return counted(plan, start, stop)

    monkeypatch.setattr(dispatch, "run_chunk", counting)
    resumed = _run(name, 12, 4, folder=folder)
    assert spans == [(8, 12)]
    fresh = _run(name, 12, 4)
    pd.testing.assert_frame_equal(resumed.replicates, fresh.replicates, check_exact=True)
    pd.testing.assert_frame_equal(resumed.patients, fresh.patients, check_exact=True)
