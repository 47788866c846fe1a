"""One dispatched task: simulate and analyse a span of replicates into its tables.

A chunk engine does the whole span itself; a replicate engine's histories are stacked and
analysed here together (:mod:`sim.batch_analysis`, equal to the per-replicate analysis).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from numpy.typing import NDArray

from .analyse import response_test
from .batch_analysis import HistoryBatch, analyse_batch
from .checkpoints import ChunkTables, read_parquet
from .engine import simulate_trial, simulate_trials
from .history import TrialHistory
from .observe import observe
from .records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, Column, arrow_table, conform
from .run_plan import ChunkEngine, ReplicateEngine, RunPlan, replicate_seeds
from .tables import look_table, patient_table
from .trial_model import TrialModel

__all__ = ["as_stored", "run_chunk"]


def run_chunk(plan: RunPlan, start: int, stop: int) -> ChunkTables:
    """Simulate and analyse replicates ``start..stop-1`` with the plan's engine."""
    if isinstance(plan.engine, ChunkEngine):
        return plan.engine.run_chunk(plan, start, stop)
    model = plan.model
    histories = _histories(plan.engine, model, replicate_seeds(plan.seed, start, stop))
    batch = HistoryBatch.from_histories(histories)
    columns, primary_day, final_day = analyse_batch(batch, model, response_test(model.scenario.analysis))
    replicates = pd.DataFrame({"replicate": np.arange(start, stop, dtype=np.int64), **columns})
    monitored = [(i, h) for i, h in zip(range(start, stop), histories) if h.looks]
    patients = None
    if plan.keep_patients:
        patients = _patients(histories, model, start, primary_day, final_day)
    return ChunkTables(
        replicates=conform(as_stored(replicates, REPLICATE_COLUMNS), REPLICATE_COLUMNS),
        looks=conform(as_stored(look_table(monitored, model), LOOK_COLUMNS), LOOK_COLUMNS),
        patients=None if patients is None else conform(as_stored(patients, PATIENT_COLUMNS), PATIENT_COLUMNS),
    )


def _histories(
    engine: ReplicateEngine, model: TrialModel, seeds: Sequence[np.random.SeedSequence]
) -> list[TrialHistory]:
    """The span's histories; the SimPy engine plans the span's first patients together (same draws)."""
    if engine is simulate_trial:
        return simulate_trials(model, seeds)
    return [engine(model, seed) for seed in seeds]


def _patients(
    histories: Sequence[TrialHistory],
    model: TrialModel,
    start: int,
    primary_day: NDArray[np.float64],
    final_day: NDArray[np.float64],
) -> pd.DataFrame:
    """The patient table of each replicate at its primary and final cutoffs."""
    plan = model.scenario.analysis
    sd_days = model.scenario.schedule.sd_min_days
    frames = []
    for r, history in enumerate(histories):
        for label, day in (("primary", primary_day[r]), ("final", final_day[r])):
            obs = observe(history.journeys, history.first_dose_day, float(day), sd_days, plan.pfs_censoring)
            frames.append(patient_table(history, model, obs, start + r, label))
    return pd.concat(frames, ignore_index=True)


def as_stored(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """The frame exactly as parquet gives it back, so fresh and resumed chunks have equal dtypes."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return read_parquet(buffer)
