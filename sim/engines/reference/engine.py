"""The reference engine as a chunk engine: simulate, cut and analyse replicates with this package alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...analysis.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, ChunkTables, stored
from ...model.trial_model import TrialModel
from ...stats import ResponseRateTest
from ..contract import RunPlan, refuse, replicate_seeds
from .analysis import look_rows, patient_rows, replicate_row
from .trial import run_trial

__all__ = ["ReferenceEngine", "REFERENCE_ENGINE"]


@dataclass(frozen=True)
class ReferenceEngine:
    """Every patient a SimPy process, written from docs/model.md; replicate ``i`` uses seed child ``i``."""

    name: str = "reference"
    forecasts: bool = False

    def unsupported(self, model: TrialModel) -> str | None:
        """Why this engine cannot simulate ``model``: it starts at the study start, at the point ORR."""
        if model.start is not None:
            return "the reference engine simulates trials from the study start, not forecasts; use the des engine"
        if model.orr_prior is not None:
            return "the reference engine simulates the point efficacy.orr; for efficacy.orr_prior use --engine des"
        return None

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """The conformed replicate, look and (when kept) patient tables of replicates ``start..stop-1``."""
        model = plan.model
        refuse(self, model)
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
            replicates=stored(pd.DataFrame(rows), REPLICATE_COLUMNS),
            looks=stored(pd.DataFrame(looks, columns=[c.name for c in LOOK_COLUMNS]), LOOK_COLUMNS),
            patients=stored(pd.concat(patients, ignore_index=True), PATIENT_COLUMNS) if plan.keep_patients else None,
        )


REFERENCE_ENGINE = ReferenceEngine()
"""The reference engine (``engine="reference"``, ``--engine reference``)."""
