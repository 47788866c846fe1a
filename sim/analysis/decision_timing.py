"""Months from recruitment opening to each decision of a monitored design: every interim look and the final analysis.

A design with looks is judged by its PET and E[N] and by how long each decision takes: the look's
day is set by the protocol's stage-1 trigger (``monitoring.look_trigger``), and a trigger that
waits longer gives a truer stage-1 count at the cost of months. Each look's mean is over the
trials that reached it, the final analysis's over the trials no look stopped; each with the MCSE
of a mean (sd / sqrt(n)).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..scenario.model import Scenario
from ..stats.mcse import Estimate, estimate_json, mean_estimate

__all__ = ["DecisionTiming"]


@dataclass(frozen=True)
class DecisionTiming:
    """Mean months from opening to each look (by its patients, in design order) and to the final analysis."""

    looks: tuple[tuple[int, Estimate], ...]
    final: Estimate

    @classmethod
    def from_tables(cls, replicates: pd.DataFrame, looks: pd.DataFrame | None, scenario: Scenario) -> DecisionTiming:
        """The timing of a run's replicate table and look table (None: looks unknown, the final analysis only)."""
        stopped = replicates["stopped_early"].to_numpy(dtype=bool)
        final = mean_estimate(replicates["decision_months"].to_numpy(dtype=float)[~stopped])
        if looks is None:
            return cls((), final)
        months = looks["look_months"].to_numpy(dtype=float)  # unrounded, as decision_months is
        sizes = looks["patients"].to_numpy()
        return cls(tuple((n, mean_estimate(months[sizes == n])) for n in scenario.rule.look_sizes), final)

    def rows(self) -> list[tuple[str, Estimate, str]]:
        """The summary table's rows: one per look, then the final analysis."""
        rows = [
            (f"Months from opening to the look at {n} patients (mean of {e.n})", e, "months") for n, e in self.looks
        ]
        return [*rows, ("Months from opening to the final analysis | no stop (mean)", self.final, "months")]

    def columns(self) -> dict[str, Estimate]:
        """A grid row's figures: ``look1_months``, ``look2_months``, ... and ``final_months``."""
        named = {f"look{k}_months": e for k, (_, e) in enumerate(self.looks, start=1)}
        return {**named, "final_months": self.final}

    def to_dict(self) -> dict[str, Any]:
        """``summary.json``'s ``decision_timing``: each look by its patients, and the final analysis."""
        return {
            "looks": [{"patients": n, "months": estimate_json(e)} for n, e in self.looks],
            "final_months": estimate_json(self.final),
        }
