"""The reference engine as a chunk engine: simulate, cut and analyse replicates with this package alone."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from ..checkpoints import ChunkTables, read_parquet
from ..records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, Column, arrow_table, conform
from ..run_plan import EngineError, RunPlan, replicate_seeds
from ..stats import ResponseRateTest
from ..trial_model import TrialModel
from .analysis import look_rows, patient_rows, replicate_row
from .trial import run_trial

__all__ = ["ReferenceEngine", "REFERENCE_ENGINE"]


@dataclass(frozen=True)
class ReferenceEngine:
    """Every patient a SimPy process, written from docs/model.md; replicate ``i`` uses seed child ``i``."""

    name: str = "reference"

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """The conformed replicate, look and (when kept) patient tables of replicates ``start..stop-1``."""
        model = plan.model
        refuse(model)
        plan_ = model.scenario.analysis
        test = ResponseRateTest(plan_.p0, plan_.ci_method, plan_.ci_level)
        rows: list[dict[str, Any]] = []
        looks: list[dict[str, Any]] = []
        patients: list[pd.DataFrame] = []
        for i, seed in zip(range(start, stop), replicate_seeds(plan.seed, start, stop)):
            log = run_trial(model, seed)
            row, primary, final = replicate_row(log, model, test)
            rows.append({"replicate": i, **row})
            looks += look_rows(i, log, model)
            if plan.keep_patients:
                patients.append(patient_rows(log.patients, model, primary, i, "primary"))
                patients.append(patient_rows(log.patients, model, final, i, "final"))
        return ChunkTables(
            replicates=_stored(pd.DataFrame(rows), REPLICATE_COLUMNS),
            looks=_stored(pd.DataFrame(looks, columns=[c.name for c in LOOK_COLUMNS]), LOOK_COLUMNS),
            patients=_stored(pd.concat(patients, ignore_index=True), PATIENT_COLUMNS) if plan.keep_patients else None,
        )


def refuse(model: TrialModel) -> None:
    """Raise EngineError for a model this engine does not simulate (a forecast's starting state, an ORR prior)."""
    if model.start is not None:
        raise EngineError("the reference engine simulates trials from the study start, not forecasts")
    if model.orr_prior is not None:
        raise EngineError(
            "the reference engine simulates the point efficacy.orr; for efficacy.orr_prior use --engine des"
        )


def _stored(frame: pd.DataFrame, columns: tuple[Column, ...]) -> pd.DataFrame:
    """The frame as parquet gives it back (so fresh and resumed chunks have equal dtypes), held to its schema."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return conform(read_parquet(buffer), columns)


REFERENCE_ENGINE = ReferenceEngine()
"""The reference engine (``engine="reference"``, ``--engine reference``)."""
