"""One dispatched task: a span of replicates simulated by the plan's engine, analysed and tabulated.

A history engine's batch is analysed here (:mod:`sim.analysis.batch`) and its tables built and
held to their stored dtypes once, whichever engine simulated it; a chunk engine hands back its own
tables, which it holds to the same dtypes with :func:`sim.analysis.records.stored`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..analysis.batch import analyse_batch
from ..analysis.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, ChunkTables, Column, conform, stored
from ..analysis.tables import look_columns, patient_frame
from ..model.history import HistoryBatch
from ..model.trial_model import TrialModel
from ..stats.proportions import ResponseRateTest
from .contract import ChunkEngine, RunPlan

__all__ = ["run_chunk", "tabulate"]


def run_chunk(plan: RunPlan, start: int, stop: int) -> ChunkTables:
    """Simulate and analyse replicates ``start..stop-1`` with the plan's engine."""
    if isinstance(plan.engine, ChunkEngine):
        return plan.engine.run_chunk(plan, start, stop)
    batch = plan.engine.histories(plan.model, plan.seed, start, stop)
    return tabulate(batch, plan.model, start, plan.keep_patients, plan.response_test)


def tabulate(
    batch: HistoryBatch, model: TrialModel, start: int, keep_patients: bool, test: ResponseRateTest
) -> ChunkTables:
    """The replicate, look and (when kept) patient tables of a batch whose first replicate is ``start``."""
    columns, primary_day, final_day = analyse_batch(batch, model, test)
    replicates = {"replicate": np.arange(start, start + batch.n_replicates, dtype=np.int64), **columns}
    patients = patient_frame(batch, model, start, primary_day, final_day) if keep_patients else None
    return ChunkTables(
        replicates=_as_parquet_gives(replicates, REPLICATE_COLUMNS),
        looks=_as_parquet_gives(look_columns(batch, model, start), LOOK_COLUMNS),
        patients=None if patients is None else stored(patients, PATIENT_COLUMNS),
    )


def _as_parquet_gives(data: Mapping[str, NDArray[Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """A table of numbers, flags and dates, built with the dtypes a parquet round trip gives, conformed.

    The replicate and look tables hold no strings or lists, so casting dates to milliseconds is all
    the round trip would do; skipping it saves a tenth of a chunk's time, and
    ``tests/test_engine_contract.py`` holds the two equal.
    """
    dated = {c.name for c in columns if c.dtype == "datetime64[ms]"}
    place = {c.name: i for i, c in enumerate(columns)}
    ordered = sorted(data, key=lambda name: place.get(name, len(place)))  # the schema's order: conform keeps it
    cast = {name: data[name].astype("datetime64[ms]") if name in dated else data[name] for name in ordered}
    return conform(pd.DataFrame(cast, copy=False), columns)
