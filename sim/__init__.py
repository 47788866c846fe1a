"""trialsim: discrete-event feasibility simulation of single-arm oncology trials.

The pipeline is scenario -> simulate -> cut at data cutoff -> analyse -> summarise:
``sim.load_scenario`` reads and validates a scenario and ``sim.vary`` makes variants of it in
memory; ``sim.run`` simulates and analyses many replicates (how: a :class:`sim.RunSettings`) and
returns their operating characteristics with Monte Carlo standard errors; ``sim.run_grid`` and
``sim.oc_grid`` run grids of variants; ``sim.size`` searches the designs that would meet a trial's
targets (:mod:`sim.sizing`). The folders follow the pipeline: ``scenario``, ``model``,
``analysis``, ``engines``, ``runs``, ``sizing``, ``forecast``, ``calibration``, ``reports``, ``cli``.

The names are imported when first used, so ``import sim`` (and ``trialsim --version``) costs
nothing until a name is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_names
from .version import __version__

if TYPE_CHECKING:
    from .runs.runner import RunResult, run
    from .runs.settings import RunSettings
    from .runs.sweep import Cell, build_cells, oc_grid, run_grid
    from .scenario import Scenario, ScenarioError, load_scenario, vary
    from .sizing import Levers, SizeResult, Targets, size

_WHERE = {
    "Cell": "sim.runs.sweep",
    "Levers": "sim.sizing",
    "RunResult": "sim.runs.runner",
    "RunSettings": "sim.runs.settings",
    "Scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "SizeResult": "sim.sizing",
    "Targets": "sim.sizing",
    "build_cells": "sim.runs.sweep",
    "load_scenario": "sim.scenario",
    "oc_grid": "sim.runs.sweep",
    "run": "sim.runs.runner",
    "run_grid": "sim.runs.sweep",
    "size": "sim.sizing",
    "vary": "sim.scenario",
}
"""Each public name and the module it lives in."""

__all__ = [
    "Cell",
    "Levers",
    "RunResult",
    "RunSettings",
    "Scenario",
    "ScenarioError",
    "SizeResult",
    "Targets",
    "__version__",
    "build_cells",
    "load_scenario",
    "oc_grid",
    "run",
    "run_grid",
    "size",
    "vary",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
