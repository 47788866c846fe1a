"""Grids of scenario variants: operating characteristics over true ORR, and two-way sensitivity.

Every cell is the base scenario with some fields overridden, validated before anything runs, and
simulated with the same seed: common random numbers make neighbouring cells differ by the change
in the scenario, not by noise.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .runner import run
from .scenario import ScenarioError, apply_overrides, parse_scenario, read_scenario_file
from .scenario.model import Scenario
from .summary import OperatingCharacteristics

__all__ = ["InputError", "parse_axis", "parse_range", "build_cells", "run_grid", "oc_grid"]

MAX_CELLS = 200
FIGURES = ("power", "early_stop", "enrollment_complete", "n_enrolled", "decision_months")


class InputError(ValueError):
    """A grid option is malformed; the message names the option and its form."""


def parse_range(text: str, name: str = "--orr") -> list[float]:
    """Values from ``start:stop:step`` (stop included) or a comma list ``a,b,c``."""
    try:
        if ":" in text:
            start, stop, step = (float(x) for x in text.split(":"))
            if not all(map(math.isfinite, (start, stop, step))) or step <= 0 or stop < start:
                raise ValueError(text)
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = [round(start + i * step, 12) for i in range(min(count, MAX_CELLS + 1))]
        else:
            values = [float(x) for x in text.split(",") if x.strip()]
        if not values or not all(map(math.isfinite, values)):
            raise ValueError(text)
    except ValueError:
        raise InputError(f"{name} must be start:stop:step with step > 0 or a comma list, got {text!r}") from None
    if len(values) > MAX_CELLS:
        raise InputError(f"{name} gives more than {MAX_CELLS} values; use a coarser step")
    return values


def parse_axis(text: str) -> tuple[str, list[str]]:
    """``dotted.path=v1,v2,...`` into the path and its values (TOML-read later, like --set)."""
    path, sep, values = text.partition("=")
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not sep or not path.strip() or not items:
        raise InputError(f"--vary expects dotted.path=value1,value2,..., got {text!r}")
    return path.strip(), items


def build_cells(
    scenario: str | Path, overrides: Sequence[str], axes: Mapping[str, Sequence[str]]
) -> list[tuple[dict[str, str], Scenario]]:
    """Every combination of axis values as a validated scenario; all are checked before any run."""
    raw = apply_overrides(read_scenario_file(scenario), overrides)
    if math.prod(len(v) for v in axes.values()) > MAX_CELLS:
        raise InputError(f"--vary gives more than {MAX_CELLS} cells; use fewer values")
    cells = []
    for combo in itertools.product(*axes.values()):
        setting = dict(zip(axes, combo))
        try:
            cells.append((setting, parse_scenario(apply_overrides(raw, [f"{k}={v}" for k, v in setting.items()]))))
        except ScenarioError as exc:
            where = ", ".join(f"{k}={v}" for k, v in setting.items())
            raise ScenarioError(f"in the cell {where}: {exc}") from None
    return cells


def _cell_row(setting: Mapping[str, Any], summary: OperatingCharacteristics) -> dict[str, Any]:
    row: dict[str, Any] = dict(setting)
    row["replicates"] = summary.replicates
    for name in FIGURES:
        estimate = getattr(summary, name)
        row[name] = estimate.value
        row[f"{name}_mcse"] = estimate.mcse
    return row


def run_grid(cells: Iterable[tuple[dict[str, Any], Scenario]], **run_options: Any) -> pd.DataFrame:
    """One tidy row per cell: the axis values, then each figure and its MCSE."""
    rows = [_cell_row(setting, run(scenario, **run_options).summary) for setting, scenario in cells]
    return pd.DataFrame(rows)


def oc_grid(
    scenario: str | Path, overrides: Sequence[str], orr_values: Sequence[float], **run_options: Any
) -> pd.DataFrame:
    """Operating characteristics over a grid of true ORR, always including p0 (the type I error)."""
    p0 = parse_scenario(apply_overrides(read_scenario_file(scenario), overrides)).analysis.p0
    values = sorted({round(float(v), 12) for v in orr_values} | {p0})
    cells = build_cells(scenario, overrides, {"efficacy.orr": [repr(v) for v in values]})
    table = run_grid(cells, **run_options)
    table["efficacy.orr"] = table["efficacy.orr"].astype(float)
    table.insert(1, "is_null", np.isclose(table["efficacy.orr"], p0))
    return table
