"""The vectorised engine: recruitment, enrollment, interim looks and analysis of many replicates in numpy.

The SimPy engine runs one replicate at a time, event by event. Everything that interacts in a
trial can also be computed for a whole chunk of replicates at once, with the SimPy engine's rules:

* **Arrivals** (:mod:`.arrivals`): each site's screening arrivals by thinning, with the SimPy
  engine's rate pieces, and the screening draws of each arrival.
* **Enrollment to a fixed target and interim looks** (:mod:`.enrollment`), in closed form: the
  first ``sample_size`` eligible decisions while recruitment is open; looks in order, each
  changing only what comes after it (a futility stop closes recruitment, a paused look skips what
  arrives and is decided during the pause).
* **Replacement of non-evaluable patients** (:mod:`.replacement`): the target moves with each loss,
  so replicates take their k-th enrollment together, step by step.
* **Patients**: the latent model (:mod:`sim.patient_model`), the journey (:mod:`sim.journey`) and
  the analysis (:mod:`sim.batch_analysis`, equal to :mod:`sim.analyse`) are the SimPy engine's own.

What it cannot express it refuses with an :class:`EngineError` naming the field
(:mod:`.refusals`). The seed layout, and the one under which it reproduces the SimPy engine's
histories replicate by replicate, are in :mod:`.layout`; ``docs/engines.md`` has both.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from numpy.typing import NDArray

from ..analyse import response_test
from ..batch_analysis import HistoryBatch, analyse_batch
from ..checkpoints import ChunkTables, read_parquet
from ..observe import observe
from ..records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, Column, arrow_table, conform
from ..run_plan import RunPlan
from ..tables import patient_table
from ..trial_model import TrialModel
from .layout import SEED_BLOCK, VECTOR_STREAM, des_seeded_histories, simulate_histories
from .refusals import EngineError, refuse, unsupported

__all__ = [
    "EngineError",
    "SEED_BLOCK",
    "VECTOR_ENGINE",
    "VECTOR_STREAM",
    "VectorEngine",
    "des_seeded_histories",
    "simulate_histories",
    "unsupported",
]


def _as_stored(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """The frame as parquet gives it back and conformed (as :func:`sim.chunk.as_stored` does for the SimPy engine)."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return conform(read_parquet(buffer), columns)


def _as_parquet_gives(data: Mapping[str, NDArray[Any]], columns: Sequence[Column]) -> pd.DataFrame:
    """A table of numbers, flags and dates, built with the dtypes a parquet round trip gives, conformed.

    The replicate and look tables hold no strings or lists, so casting dates to milliseconds is all
    the round trip would do; skipping it saves a tenth of a chunk's time, and
    ``tests/test_vector_engine.py`` holds the two equal.
    """
    dated = {c.name for c in columns if c.dtype == "datetime64[ms]"}
    place = {c.name: i for i, c in enumerate(columns)}
    ordered = sorted(data, key=lambda name: place.get(name, len(place)))  # the schema's order: conform keeps it
    cast = {name: data[name].astype("datetime64[ms]") if name in dated else data[name] for name in ordered}
    return conform(pd.DataFrame(cast, copy=False), columns)


def _look_columns(batch: HistoryBatch, model: TrialModel, start: int) -> dict[str, NDArray[Any]]:
    """One row per interim look, numbered within each replicate in calendar order."""
    replicate = batch.look_replicate
    first = np.searchsorted(replicate, replicate, side="left")
    return {
        "replicate": replicate + start,
        "look": np.arange(replicate.shape[0], dtype=np.int64) - first + 1,
        "look_date": model.dates(batch.look_day),
        "patients": batch.look_patients,
        "responders": batch.look_responders,
        "stopped": batch.look_stop,
        "wait_days": batch.look_wait,
    }


def _patient_frame(
    batch: HistoryBatch, model: TrialModel, start: int, primary_day: NDArray[np.float64], final_day: NDArray[np.float64]
) -> pd.DataFrame:
    """The patient table of every replicate at its primary and final cutoffs (one replicate at a time)."""
    plan, sd_days = model.scenario.analysis, model.scenario.schedule.sd_min_days
    frames = []
    for r in range(batch.n_replicates):
        history = batch.history(r, model.scenario.trial.sample_size)
        for label, day in (("primary", primary_day[r]), ("final", final_day[r])):
            obs = observe(history.journeys, history.first_dose_day, float(day), sd_days, plan.pfs_censoring)
            frames.append(patient_table(history, model, obs, start + r, label))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class VectorEngine:
    """A chunk engine that simulates and analyses a span of replicates in numpy (module docstring)."""

    name: str = "vector"

    def refuse(self, model: TrialModel) -> None:
        """Raise :class:`EngineError`, naming the field, when this engine cannot simulate ``model``."""
        refuse(model)

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """The conformed tables of replicates ``start..stop-1``."""
        model = plan.model
        batch = simulate_histories(model, plan.seed, start, stop)
        columns, primary_day, final_day = analyse_batch(batch, model, response_test(model.scenario.analysis))
        replicates = {"replicate": np.arange(start, stop, dtype=np.int64), **columns}
        patients = _patient_frame(batch, model, start, primary_day, final_day) if plan.keep_patients else None
        return ChunkTables(
            replicates=_as_parquet_gives(replicates, REPLICATE_COLUMNS),
            looks=_as_parquet_gives(_look_columns(batch, model, start), LOOK_COLUMNS),
            patients=None if patients is None else _as_stored(patients, PATIENT_COLUMNS),
        )


VECTOR_ENGINE = VectorEngine()
"""The vector engine, as ``sim.engines`` names it ("vector")."""
