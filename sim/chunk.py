"""One dispatched task: simulate and analyse a span of replicates into its tables.

A chunk engine does the whole span itself; a replicate engine's histories are observed and
analysed here, one replicate at a time.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from .analyse import analyse_replicate, response_test
from .checkpoints import ChunkTables, read_parquet
from .history import TrialHistory
from .records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, Column, arrow_table, conform
from .run_plan import ChunkEngine, RunPlan, replicate_seeds
from .tables import look_table, patient_table

__all__ = ["as_stored", "run_chunk"]


def run_chunk(plan: RunPlan, start: int, stop: int) -> ChunkTables:
    """Simulate and analyse replicates ``start..stop-1`` with the plan's engine."""
    if isinstance(plan.engine, ChunkEngine):
        return plan.engine.run_chunk(plan, start, stop)
    model = plan.model
    test = response_test(model.scenario.analysis)
    rows: list[dict[str, Any]] = []
    monitored: list[tuple[int, TrialHistory]] = []
    patients: list[pd.DataFrame] = []
    for i, ss in zip(range(start, stop), replicate_seeds(plan.seed, start, stop)):
        history = plan.engine(model, ss)
        row, primary, final = analyse_replicate(history, model, test)
        rows.append({"replicate": i, **row})
        if history.looks:
            monitored.append((i, history))
        if plan.keep_patients:
            patients.append(patient_table(history, model, primary, i, "primary"))
            patients.append(patient_table(history, model, final, i, "final"))
    return ChunkTables(
        replicates=conform(as_stored(pd.DataFrame(rows), REPLICATE_COLUMNS), REPLICATE_COLUMNS),
        looks=conform(as_stored(look_table(monitored, model), LOOK_COLUMNS), LOOK_COLUMNS),
        patients=conform(as_stored(pd.concat(patients, ignore_index=True), PATIENT_COLUMNS), PATIENT_COLUMNS)
        if plan.keep_patients
        else None,
    )


def as_stored(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """The frame exactly as parquet gives it back, so fresh and resumed chunks have equal dtypes."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return read_parquet(buffer)
