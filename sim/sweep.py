"""Grids of scenario variants: operating characteristics over true ORR, and two-way sensitivity.

Every cell is the base scenario with some fields overridden. All cells are validated and their
trial models built before anything runs, so a cell that cannot work fails before any compute; then
each is simulated with the same seed: common random numbers make neighbouring cells differ by the
change in the scenario, not by noise. A grid result keeps each cell's full operating
characteristics (and, when asked, its replicate table), so a report draws from it without
re-simulating.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .runner import run
from .scenario import ScenarioError, apply_overrides, parse_scenario, read_scenario_file
from .scenario.model import Scenario
from .summary import OperatingCharacteristics
from .trial_model import TrialModel

__all__ = [
    "FIGURES",
    "MAX_CELLS",
    "Cell",
    "CellError",
    "GridCell",
    "GridResult",
    "InputError",
    "OCGridResult",
    "build_cells",
    "oc_grid",
    "run_grid",
]

MAX_CELLS = 200
"""Most cells one grid may have."""

FIGURES = ("power", "early_stop", "enrollment_complete", "n_enrolled", "decision_months")
"""The figures of a cell that a grid's table shows, each with its MCSE."""


class InputError(ValueError):
    """A grid is asked for with unusable values; the message begins with the parameter's name."""


class CellError(ScenarioError):
    """One cell's scenario cannot be used: ``problem`` says why, prefixed with the cell's setting."""

    def __init__(self, setting: Mapping[str, str], problem: ScenarioError) -> None:
        self.setting = dict(setting)
        self.problem = problem
        self.context = f"in the cell {', '.join(f'{k}={v}' for k, v in setting.items())}: "
        super().__init__(f"{self.context}{problem}")

    def __reduce__(self) -> tuple[type[CellError], tuple[dict[str, str], ScenarioError]]:
        return (CellError, (self.setting, self.problem))


@dataclass(frozen=True)
class Cell:
    """A grid cell ready to run: the fields it sets (as given) and the trial model they make."""

    setting: dict[str, str]
    model: TrialModel

    @property
    def scenario(self) -> Scenario:
        """The cell's validated scenario."""
        return self.model.scenario


@dataclass(frozen=True)
class GridCell:
    """A finished cell: its setting, its operating characteristics and (when kept) its replicate table."""

    setting: dict[str, str]
    summary: OperatingCharacteristics
    replicates: pd.DataFrame | None = None

    def row(self) -> dict[str, Any]:
        """The cell's row of the grid table: the setting, the replicate count, each figure and its MCSE."""
        row: dict[str, Any] = dict(self.setting)
        row["replicates"] = self.summary.replicates
        for name in FIGURES:
            estimate = getattr(self.summary, name)
            row[name] = estimate.value
            row[f"{name}_mcse"] = estimate.mcse
        return row


@dataclass(frozen=True)
class GridResult:
    """A finished grid: one :class:`GridCell` per combination of the axis values, in grid order."""

    cells: tuple[GridCell, ...]

    @property
    def replicates(self) -> int:
        """Replicates per cell (every cell runs the same number)."""
        return self.cells[0].summary.replicates if self.cells else 0

    def table(self) -> pd.DataFrame:
        """One tidy row per cell: the axis values (as given), the replicates, then each figure and its MCSE."""
        return pd.DataFrame([cell.row() for cell in self.cells])


@dataclass(frozen=True)
class OCGridResult(GridResult):
    """Operating characteristics over the true ORR; the cell at ``p0`` gives the type I error."""

    p0: float

    def is_null(self, cell: GridCell) -> bool:
        """Whether the cell's true ORR is p0 (its power is the type I error)."""
        return bool(np.isclose(float(cell.setting["efficacy.orr"]), self.p0))

    @property
    def null_cell(self) -> GridCell:
        """The cell at p0."""
        return next(cell for cell in self.cells if self.is_null(cell))

    def table(self) -> pd.DataFrame:
        """The grid table with the true ORR as a number and ``is_null`` marking the row at p0."""
        table = super().table()
        table["efficacy.orr"] = table["efficacy.orr"].astype(float)
        table.insert(1, "is_null", np.isclose(table["efficacy.orr"], self.p0))
        return table


def build_cells(scenario: str | Path, overrides: Sequence[str], axes: Mapping[str, Sequence[str]]) -> list[Cell]:
    """Every combination of axis values as a cell with its trial model; all are built before any run.

    ``overrides`` (``dotted.path=value``) apply to every cell; ``axes`` maps a dotted path to the
    values it takes, read as TOML like an override. A cell whose scenario is invalid, or whose
    efficacy numbers cannot hold together, raises :class:`CellError`.
    """
    raw = apply_overrides(read_scenario_file(scenario), overrides)
    TrialModel.from_scenario(parse_scenario(raw))  # the common scenario's own problems, named as such
    if math.prod(len(v) for v in axes.values()) > MAX_CELLS:
        raise InputError(f"axes gives more than {MAX_CELLS} cells; use fewer values")
    cells = []
    for combo in itertools.product(*axes.values()):
        setting = dict(zip(axes, combo))
        try:
            cell_raw = apply_overrides(raw, [f"{k}={v}" for k, v in setting.items()])
            cells.append(Cell(setting, TrialModel.from_scenario(parse_scenario(cell_raw))))
        except ScenarioError as exc:
            raise CellError(setting, exc) from None
    return cells


def _run_cells(cells: Iterable[Cell], keep_replicates: bool, run_options: Mapping[str, Any]) -> tuple[GridCell, ...]:
    """Each cell simulated with the same options (and so the same seed)."""
    finished = []
    for cell in cells:
        result = run(cell.model, **run_options)
        kept = result.replicates if keep_replicates else None
        finished.append(GridCell(cell.setting, result.summary, kept))
    return tuple(finished)


def run_grid(cells: Iterable[Cell], *, keep_replicates: bool = False, **run_options: Any) -> GridResult:
    """Simulate every cell with the same ``run`` options; keep each replicate table if asked."""
    return GridResult(_run_cells(cells, keep_replicates, run_options))


def oc_grid(
    scenario: str | Path,
    overrides: Sequence[str],
    orr_values: Sequence[float],
    *,
    keep_replicates: bool = False,
    **run_options: Any,
) -> OCGridResult:
    """Operating characteristics over a grid of true ORR, always including p0 (the type I error)."""
    p0 = parse_scenario(apply_overrides(read_scenario_file(scenario), overrides)).analysis.p0
    values = sorted({round(float(v), 12) for v in orr_values} | {p0})
    if len(values) > MAX_CELLS:
        raise InputError(f"orr_values gives more than {MAX_CELLS} values with p0 included; use fewer values")
    cells = build_cells(scenario, overrides, {"efficacy.orr": [repr(v) for v in values]})
    return OCGridResult(_run_cells(cells, keep_replicates, run_options), p0=p0)
