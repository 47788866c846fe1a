"""The report's runs: each scenario simulated with its power curve, and the forecast, into run folders.

``trialsim report`` simulates what the page shows and keeps every run's folder, so the page can be
drawn again from them (``--from``). The command line only parses and calls these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from ..forecast import forecast, forecast_document, read_observed
from ..model.trial_model import TrialModel
from ..runs.folder import SavedRun, read_run, write_run
from ..runs.runner import run
from ..runs.settings import RunSettings
from ..runs.sweep import oc_grid
from ..scenario import ScenarioError, load_scenario
from .figures import ReportFigure, forecast_figure

__all__ = ["feasible_orrs", "folder_names", "forecast_runs", "simulate_runs"]


def feasible_orrs(name: str, values: Sequence[float]) -> list[float]:
    """The true ORRs of the power curve that the scenario's PFS can carry (see efficacy.orr's ceiling)."""
    keep = []
    for value in values:
        try:
            TrialModel.from_scenario(load_scenario(name, [f"efficacy.orr={value!r}"]))
        except ScenarioError:
            continue
        keep.append(value)
    return keep


def folder_names(names: Sequence[str]) -> list[str]:
    """Each scenario's run folder name: its file stem, made unique (``base``, ``base_2``) when stems repeat."""
    out: list[str] = []
    for name in names:
        stem = label = Path(name).stem
        k = 1
        while label in out:
            k += 1
            label = f"{stem}_{k}"
        out.append(label)
    return out


def simulate_runs(
    names: Sequence[str],
    staging: Path,
    settings: RunSettings,
    curve: RunSettings,
    orr_values: Sequence[float],
    command_line: str,
) -> list[SavedRun]:
    """Run each scenario (``settings``, patients kept) and its power curve (``curve``) into ``staging/<name>``.

    The folders are read back, so the page drawn now equals one drawn later ``--from`` them.
    """
    runs = []
    for name, stem in zip(names, folder_names(names)):
        folder = staging / stem
        folder.mkdir()
        result = run(TrialModel.from_scenario(load_scenario(name)), dataclasses.replace(settings, keep_patients=True))
        orrs = feasible_orrs(name, orr_values)
        oc = oc_grid(name, [], orrs, curve).table() if orrs else None
        write_run(folder, result, command=command_line, oc=oc)
        runs.append(read_run(folder))
    return runs


def forecast_runs(
    name: str, observed_file: Path, as_of: dt.date, staging: Path, settings: RunSettings, command_line: str
) -> list[ReportFigure]:
    """The forecast of scenario ``name`` from the observed file, saved in ``staging/forecast``, as its figure."""
    scenario = load_scenario(name)
    observed = read_observed(observed_file, scenario, as_of)
    result = forecast(
        TrialModel.from_scenario(scenario), observed, as_of, settings=dataclasses.replace(settings, keep_patients=True)
    )
    folder = staging / "forecast"
    for part, outcome in (("conditional", result.conditional), ("predictive", result.predictive)):
        (folder / part).mkdir(parents=True)
        write_run(folder / part, outcome, command=command_line)
    (folder / "forecast.json").write_text(json.dumps(forecast_document(result), indent=2) + "\n", encoding="utf-8")
    figure = forecast_figure(
        read_run(folder / "conditional"),
        [p.enrollment_date for p in observed.patients],
        as_of,
        result.p_enrollment_complete_by_close,
        result.conditional_power,
        result.predictive_probability,
    )
    return [figure]
