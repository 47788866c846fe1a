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

The grid's results, and how an OC grid reads its null boundary, are :mod:`.grid_result`.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TrialsimError
from ..model.trial_model import TrialModel
from ..scenario import ScenarioError, apply_overrides, parse_scenario, parse_value, read_scenario_file
from ..scenario.load import set_field
from ..scenario.model import Scenario
from ..scenario.variants import drop_absent, resolved_scenario
from .grid_result import DECISION_FIGURES, FIGURES, GridCell, GridResult, NullBoundary, OCGridResult
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

class InputError(ValueError, TrialsimError):
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
