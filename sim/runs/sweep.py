"""Grids of scenario variants: operating characteristics over true ORR, and two-way sensitivity.

Every cell is the base scenario with some fields overridden. All cells are validated and their
trial models built before anything runs, so a cell that cannot work fails before any compute; then
each is simulated with the same seed: common random numbers make neighbouring cells differ by the
change in the scenario, not by noise. The cells' chunks go to the workers together, as one stream
of cell x chunk tasks (:func:`sim.runs.runner.run_many`), so no worker idles while a cell's last chunk
finishes; each cell's result is still exactly what a run of that cell alone gives. A grid result
keeps each cell's full operating characteristics (and, when asked, its replicate table), so a
report draws from it without re-simulating. Given a checkpoint folder, each cell keeps its chunks
in a subfolder named for its setting (:func:`cell_folder`), so an interrupted grid resumes cell by
cell, and a grid that adds values reuses the cells it shares with an earlier one. One progress bar
counts the replicates of every cell.

An OC grid runs over the latent ORR (``efficacy.orr``), but the exact test sees the tested rate,
which dropout before confirmation puts lower (``docs/model.md``, "Estimand"). The cell at latent
ORR = p0 is therefore a point inside H0. :class:`NullBoundary` reads the grid where each cell's
tested rate ``t`` crosses p0: between neighbouring cells ``i`` and ``j`` with ``t_i <= p0 <= t_j``,
the weight ``w = (p0 - t_i) / (t_j - t_i)`` gives the latent ORR ``(1 - w) x_i + w x_j`` and the
type I error ``(1 - w) P_i + w P_j``. Its MCSE is ``(1 - w) m_i + w m_j + |s| ((1 - w) e_i + w e_j)``
with ``m`` the power MCSEs, ``e`` the tested-rate MCSEs and ``s = (P_j - P_i) / (t_j - t_i)``: the
second term carries the tested rates' error through ``w``. Common random numbers make neighbouring
cells' errors positively correlated, so the errors are added (the SD of a sum is at most the sum of
the SDs) rather than combined in quadrature. Linear interpolation does not see the curvature of
the power curve, which is convex near p0, so on a coarse grid it overstates the size (base
scenario: 0.034 between latent ORR 0.10 and 0.15, 0.026 between 0.10 and 0.11). The boundary
records how far interpolating on the log scale would move the figure; a gap above the MCSE flags
a grid too coarse to cite. A boundary outside the grid is reported as such, never extrapolated.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.summary import OperatingCharacteristics
from ..model.trial_model import TrialModel
from ..scenario import ScenarioError, apply_overrides, parse_scenario, parse_value, read_scenario_file
from ..scenario.load import set_field
from ..scenario.model import Scenario
from ..scenario.variants import drop_absent, resolved_scenario
from ..stats.mcse import Estimate
from .runner import ProgressBar, RunResult, run_many
from .settings import RunSettings, settings_with

__all__ = [
    "DECISION_FIGURES",
    "at_point_orr",
    "FIGURES",
    "MAX_CELLS",
    "Cell",
    "CellError",
    "GridCell",
    "GridResult",
    "InputError",
    "NullBoundary",
    "OCGridResult",
    "build_cells",
    "cell_folder",
    "oc_grid",
    "run_grid",
]

MAX_CELLS = 200
"""Most cells one grid may have."""

FIGURES = ("power", "early_stop", "interim_wait_days", "enrollment_complete", "n_enrolled", "decision_months")
"""The figures of a cell that a grid's table shows, each with its MCSE."""

DECISION_FIGURES = ("assurance", "positive_and_effective", "false_go", "false_stop")
"""The figures a cell with an ORR prior adds (:class:`sim.analysis.decisions.DecisionFigures`), each with its MCSE."""


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
    engine: str | None = None

    def row(self) -> dict[str, Any]:
        """The cell's row of the grid table: the setting, the replicate count (and engine), each figure and its MCSE."""
        row: dict[str, Any] = dict(self.setting)
        row["replicates"] = self.summary.replicates
        if self.engine is not None:
            row["engine"] = self.engine
        for name in FIGURES:
            estimate = getattr(self.summary, name)
            row[name] = estimate.value
            row[f"{name}_mcse"] = estimate.mcse
        decisions = self.summary.decisions
        if decisions.prior is not None:
            for name in DECISION_FIGURES:
                found: Estimate | None = getattr(decisions, name)
                row[name] = math.nan if found is None else found.value
                row[f"{name}_mcse"] = math.nan if found is None else found.mcse
        return row


@dataclass(frozen=True)
class GridResult:
    """A finished grid: one :class:`GridCell` per combination of the axis values, in grid order.

    ``notes`` says what the grid did beyond simulating (cells resumed from checkpoints, damaged
    chunks recomputed), as a run's notes do.
    """

    cells: tuple[GridCell, ...]
    notes: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def replicates(self) -> int:
        """Replicates per cell (every cell runs the same number)."""
        return self.cells[0].summary.replicates if self.cells else 0

    def table(self) -> pd.DataFrame:
        """One tidy row per cell: the axis values (as given), the replicates, the engine, each figure and its MCSE."""
        return pd.DataFrame([cell.row() for cell in self.cells])


@dataclass(frozen=True)
class NullBoundary:
    """The edge of H0 as the test sees it: where a cell's tested rate equals p0, read off an OC grid.

    ``latent_orr`` and ``type_one_error`` are interpolated between the neighbouring cells at latent
    ORR ``between`` whose tested rates bracket p0 (module docstring). ``interpolation_gap`` is how far
    the linear figure is from interpolating the power on the log scale instead: neither sees the
    power curve's curvature between the cells, so a gap larger than the MCSE says the grid is too
    coarse near the boundary for the figure to be cited. When no two cells bracket p0, the figures
    are NaN and ``problem`` says which way the grid falls short.
    """

    p0: float
    latent_orr: Estimate
    type_one_error: Estimate
    between: tuple[float, float] = (math.nan, math.nan)
    interpolation_gap: float = math.nan
    problem: str | None = None

    @property
    def bracketed(self) -> bool:
        """Whether the grid's tested rates bracket p0, so that the boundary could be read."""
        return self.problem is None


def _log_interpolation(low: float, high: float, w: float) -> float:
    """``low`` to ``high`` at weight ``w`` on the log scale (0 when either is 0)."""
    return math.exp((1 - w) * math.log(low) + w * math.log(high)) if low > 0 and high > 0 else 0.0


def _boundary(
    p0: float, latent: Sequence[float], tested: Sequence[Estimate], power: Sequence[Estimate]
) -> NullBoundary:
    """The boundary from cells in increasing latent ORR: interpolated where the tested rate crosses p0."""
    for i in range(len(latent) - 1):
        low, high = tested[i], tested[i + 1]
        if not low.value <= p0 <= high.value:
            continue
        span = high.value - low.value
        w = (p0 - low.value) / span if span > 0 else 0.0
        below, above = power[i], power[i + 1]
        tested_error = (1 - w) * low.mcse + w * high.mcse
        power_slope = (above.value - below.value) / span if span > 0 else 0.0
        latent_slope = (latent[i + 1] - latent[i]) / span if span > 0 else 0.0
        size = (1 - w) * below.value + w * above.value
        n = min(below.n, above.n)
        return NullBoundary(
            p0,
            Estimate((1 - w) * latent[i] + w * latent[i + 1], abs(latent_slope) * tested_error, n),
            Estimate(size, (1 - w) * below.mcse + w * above.mcse + abs(power_slope) * tested_error, n),
            between=(latent[i], latent[i + 1]),
            interpolation_gap=abs(size - _log_interpolation(below.value, above.value, w)),
        )
    missing = Estimate(math.nan, math.nan, 0)
    values = np.array([t.value for t in tested], dtype=float)
    if not np.isfinite(values).any():
        return NullBoundary(p0, missing, missing, problem="no cell has a tested rate")
    if np.nanmin(values) > p0:
        i, side, extreme, wanted = int(np.nanargmin(values)), "above", "lowest", "lower"
    elif np.nanmax(values) < p0:
        i, side, extreme, wanted = int(np.nanargmax(values)), "below", "highest", "higher"
    else:
        return NullBoundary(p0, missing, missing, problem="no two neighbouring cells' tested rates bracket p0")
    problem = (
        f"every cell's tested rate is {side} p0 = {p0:g} (the {extreme} is {values[i]:.4f}, "
        f"at latent ORR {latent[i]:g}); the grid needs {wanted} latent ORR values to reach the boundary"
    )
    return NullBoundary(p0, missing, missing, problem=problem)


@dataclass(frozen=True)
class OCGridResult(GridResult):
    """Operating characteristics over the latent ORR; type I error at latent ORR = p0 and at the boundary."""

    p0: float

    def is_null(self, cell: GridCell) -> bool:
        """Whether the cell's latent ORR is p0 (its power is the type I error at latent ORR = p0)."""
        return bool(np.isclose(float(cell.setting["efficacy.orr"]), self.p0))

    @property
    def null_cell(self) -> GridCell:
        """The cell at p0."""
        return next(cell for cell in self.cells if self.is_null(cell))

    @property
    def boundary(self) -> NullBoundary:
        """The latent ORR whose tested rate is p0, and the type I error there (its size at the edge of H0)."""
        cells = sorted(self.cells, key=lambda cell: float(cell.setting["efficacy.orr"]))
        return _boundary(
            self.p0,
            [float(cell.setting["efficacy.orr"]) for cell in cells],
            [cell.summary.tested_rate for cell in cells],
            [cell.summary.power for cell in cells],
        )

    def table(self) -> pd.DataFrame:
        """The grid table with the latent ORR as a number, ``is_null`` marking the row at p0, and each tested rate."""
        table = super().table()
        table["efficacy.orr"] = table["efficacy.orr"].astype(float)
        table.insert(1, "is_null", np.isclose(table["efficacy.orr"], self.p0))
        table["tested_rate"] = [cell.summary.tested_rate.value for cell in self.cells]
        table["tested_rate_mcse"] = [cell.summary.tested_rate.mcse for cell in self.cells]
        return table


def build_cells(
    scenario: str | Path | Scenario,
    overrides: Sequence[str],
    axes: Mapping[str, Sequence[Any]],
    model_of: Callable[[Scenario], TrialModel] = TrialModel.from_scenario,
) -> list[Cell]:
    """Every combination of axis values as a cell with its trial model; all are built before any run.

    ``scenario`` is a scenario file or shipped name, or a :class:`Scenario` already built (its
    variants are made in memory, :func:`sim.scenario.variants.vary`). ``overrides``
    (``dotted.path=value``) apply to every cell; ``axes`` maps a dotted path to the values it
    takes: a string is read as TOML like an override, any other value is taken as it is.
    ``model_of`` builds a cell's model from its scenario (a forecast passes one that starts from the
    trial's state). A cell whose scenario is
    invalid, or whose efficacy numbers cannot hold together, raises :class:`CellError`.
    """
    raw = apply_overrides(_raw(scenario), overrides)
    # the common scenario's own problems first, named as such
    if model_of(parse_scenario(raw)).orr_prior is not None and "efficacy.orr" in axes:
        raise InputError(
            "efficacy.orr cannot be varied while efficacy.orr_prior is given: each replicate draws its ORR from the "
            "prior; vary the prior (efficacy.orr_prior.beta=[a, b],...) or use trialsim oc for power at point ORRs"
        )
    for path, values in axes.items():
        parsed = [repr(_value(v)) for v in values]
        twice = [v for i, v in enumerate(values) if parsed[i] in parsed[:i]]
        if twice:
            raise InputError(f"{path} gives the value {twice[0]} twice; give each value once")
    if math.prod(len(v) for v in axes.values()) > MAX_CELLS:
        raise InputError(f"axes gives more than {MAX_CELLS} cells; use fewer values")
    cells = []
    for combo in itertools.product(*axes.values()):
        setting = {path: v if isinstance(v, str) else repr(v) for path, v in zip(axes, combo)}
        try:
            cell_raw = copy.deepcopy(raw)
            for path, value in zip(axes, combo):
                set_field(cell_raw, path, _value(value), "overrides")
            cells.append(Cell(setting, model_of(parse_scenario(cell_raw))))
        except ScenarioError as exc:
            raise CellError(setting, exc) from None
    return cells


def _raw(scenario: str | Path | Scenario) -> dict[str, Any]:
    """The raw table of a scenario file or name, or of a scenario already built."""
    if isinstance(scenario, Scenario):
        return drop_absent(resolved_scenario(scenario))
    return read_scenario_file(scenario)


def _value(given: Any) -> Any:
    """An axis value: a string read as TOML (as an override's value), anything else as it is."""
    return parse_value(given.strip()) if isinstance(given, str) else given


def cell_folder(setting: Mapping[str, str]) -> str:
    """The name of a cell's checkpoint subfolder: its setting, made safe for a file name.

    ``efficacy.orr=0.15`` stays as it is; several fields are joined by commas. A setting with
    characters a file name should not hold, or a very long one, gets a short hash of the exact
    setting as well, so two cells never share a folder.
    """
    text = ",".join(f"{k}={v}" for k, v in setting.items())
    safe = re.sub(r"[^A-Za-z0-9._=,+-]", "_", text)[:80]
    if safe == text:
        return safe
    return f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def _run_cells(
    cells: Sequence[Cell], keep_replicates: bool, label: str, settings: RunSettings
) -> tuple[tuple[GridCell, ...], tuple[str, ...]]:
    """Every cell simulated with the same options (and so the same seed), their chunks dispatched together.

    The cells' chunks go to the workers as one stream of cell x chunk tasks (:func:`run_many`),
    under one progress bar whose label names the first cell not yet finished. Returns the finished
    cells in grid order and the grid's notes: how many chunks were reused, and each cell's other
    notes prefixed with its setting.
    """
    root = settings.checkpoint_dir
    folders = [root / cell_folder(c.setting) if root is not None else None for c in cells]
    finished: dict[int, GridCell] = {}
    notes: dict[int, list[str]] = {}
    reused = chunks = 0

    def running() -> str:
        number = next((i for i in range(len(cells)) if i not in finished), len(cells) - 1) + 1
        return f"{label}, cell {number} of {len(cells)}"

    with ProgressBar(len(cells), settings, running()) as bar:
        results = run_many([c.model for c in cells], settings.without_checkpoints(), folders, bar)
        with contextlib.closing(results):
            for index, result in results:
                kept = result.replicates if keep_replicates else None
                finished[index] = GridCell(cells[index].setting, result.summary, kept, result.engine)
                bar.describe(running())
                reused += result.reused_chunks
                chunks += math.ceil(len(result.replicates) / result.chunk_size)
                notes[index] = _cell_notes(cells[index], result)
    grid_notes = [note for index in sorted(notes) for note in notes[index]]
    if reused:
        grid_notes.insert(0, f"resumed: reused {reused} of {chunks} chunks in {len(cells)} cells from {root}")
    return tuple(finished[index] for index in range(len(cells))), tuple(grid_notes)


def _cell_notes(cell: Cell, result: RunResult) -> list[str]:
    """A cell's run notes other than its resumption (the grid counts those), prefixed with its setting."""
    context = ", ".join(f"{k}={v}" for k, v in cell.setting.items())
    return [f"in the cell {context}: {note}" for note in result.notes[1 if result.reused_chunks else 0 :]]


def run_grid(
    cells: Sequence[Cell],
    settings: RunSettings | None = None,
    *,
    keep_replicates: bool = False,
    label: str = "sensitivity grid",
    **changes: Any,
) -> GridResult:
    """Simulate every cell with the same run settings (amended by ``changes``); keep each replicate table if asked.

    ``settings.checkpoint_dir`` keeps each cell's chunks in its own subfolder (:func:`cell_folder`),
    so the grid resumes; ``label`` names the grid on its progress bar. All cells' chunks are
    dispatched together, on any backend (``backend="dask"`` included), and each cell's figures are
    those of :func:`sim.runs.runner.run` on that cell alone.
    """
    finished, notes = _run_cells(cells, keep_replicates, label, settings_with(settings, changes))
    return GridResult(finished, notes=notes)


def at_point_orr(scenario: Scenario, orr: float | None = None) -> TrialModel:
    """The model of ``scenario`` at a point ORR (``orr``, else ``efficacy.orr``), any ``efficacy.orr_prior`` set
    aside: an OC cell's power at its ORR, a design search's power at p1 and type I error at p0."""
    efficacy = dataclasses.replace(scenario.efficacy, orr=scenario.efficacy.orr if orr is None else orr, orr_prior=None)
    return TrialModel.from_scenario(dataclasses.replace(scenario, efficacy=efficacy))


def oc_grid(
    scenario: str | Path | Scenario,
    overrides: Sequence[str],
    orr_values: Sequence[float],
    settings: RunSettings | None = None,
    *,
    keep_replicates: bool = False,
    **changes: Any,
) -> OCGridResult:
    """Operating characteristics over a grid of latent ORR, always including p0; ``boundary`` reads the edge of H0.

    Each cell is simulated at its own ORR: a scenario's ``efficacy.orr_prior`` is set aside (power
    curves are what assurance averages).

    ``settings`` and ``changes`` are as for :func:`run_grid`.
    """
    p0 = parse_scenario(apply_overrides(_raw(scenario), overrides)).analysis.p0
    values = sorted({round(float(v), 12) for v in orr_values} | {p0})
    if len(values) > MAX_CELLS:
        raise InputError(f"orr_values gives more than {MAX_CELLS} values with p0 included; use fewer values")
    cells = build_cells(scenario, overrides, {"efficacy.orr": [repr(v) for v in values]}, at_point_orr)
    finished, notes = _run_cells(cells, keep_replicates, "OC grid", settings_with(settings, changes))
    return OCGridResult(finished, p0=p0, notes=notes)
