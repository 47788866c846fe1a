"""``trialsim forecast``: re-forecast a running trial from the patients observed so far.

With ``--vary`` it forecasts every combination of scenario values side by side (a second site
from a given date, a longer recruitment window), each cell from the same observed patients.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..engines import ENGINES, resolve_engine
from ..forecast import (
    Forecast,
    KnownRateWarning,
    forecast,
    forecast_document,
    read_observed,
    read_screening,
)
from ..forecast.result import RUNS, date_quantile
from ..forecast.state import forecast_model, predictive_state, sceptical_prior, start_state, with_prior
from ..model.trial_model import TrialModel
from ..reports import forecast_text
from ..runs.dispatch import Dispatch
from ..runs.folder import write_run
from ..runs.settings import RunSettings
from ..runs.sweep import Cell, GridCell, build_cells, run_grid
from ..scenario import load_scenario
from ..scenario.model import Scenario
from .options import (
    UsageError,
    date_option,
    output_folder,
    path_option,
    run_settings,
    scenario_heading,
    write_atomically,
)
from .simulate import add_simulation_arguments, vary_axes, vary_axis

__all__ = ["as_of_date", "handle_forecast", "register"]

FILES = ("forecast.json", "forecast.txt")

_RUN = "forecast_run"
"""The setting that tells a grid cell's conditional run from its predictive one."""


as_of_date = date_option("--as-of")
"""``--as-of``: an ISO date."""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``forecast`` to the ``trialsim`` subcommands."""
    p = sub.add_parser("forecast", help="re-forecast a running trial from the patients observed so far")
    add_simulation_arguments(p, 1000)
    p.add_argument("--observed", type=path_option, required=True, help="the observed-patients CSV file")
    p.add_argument("--as-of", type=as_of_date, required=True, help="the date the file is current to (YYYY-MM-DD)")
    p.add_argument(
        "--screened",
        type=path_option,
        default=None,
        help="a CSV of site, screened, screen_failed by the as-of date (updates the rates and the screen-failure rate)",
    )
    p.add_argument(
        "--vague-rate-prior",
        action="store_true",
        help="learn each site's rate from its enrollments alone (a vague Gamma prior instead of rate_cv's)",
    )
    p.add_argument(
        "--look",
        type=_responders,
        action="append",
        default=[],
        metavar="RESPONDERS",
        help="an interim look already held, by the responders it counted (once per look, in order); "
        "the forecast runs the rest of the design",
    )
    p.add_argument(
        "--vary",
        type=vary_axis,
        action="append",
        default=None,
        metavar="dotted.path=v1,v2,...",
        help="forecast each value of a scenario field side by side (give two for a two-way grid)",
    )
    p.add_argument("--out", type=path_option, default=None, help="folder for forecast.json, forecast.txt and the runs")
    p.add_argument("--restart", action="store_true", help="discard the checkpoints in --out instead of resuming")
    p.add_argument("--json", action="store_true", help="print the forecast's JSON document instead of the table")
    p.set_defaults(handler=handle_forecast)


def _responders(text: str) -> int:
    """``--look``: a whole number of responders."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"--look must be a whole number of responders, got {text!r}")
    return int(text)


def _run_settings(args: argparse.Namespace) -> RunSettings:
    """The run settings of a forecast, its checkpoints in ``OUT/chunks``; an engine that cannot forecast is refused."""
    settings = run_settings(args, checkpoint_dir=None if args.out is None else args.out / "chunks")
    if not resolve_engine(settings.engine).forecasts:
        forecasting = ", ".join(name for name in ENGINES if resolve_engine(name).forecasts)
        raise UsageError(f"--engine {settings.engine} cannot start from a running trial; use one of {forecasting}")
    return settings


def handle_forecast(args: argparse.Namespace) -> int:
    """``trialsim forecast``: the forecast's figures (or --json its document); with --out, also its files."""
    if args.restart and args.out is None:
        raise UsageError("--restart discards the checkpoints in --out and needs it")
    if args.vary:
        return _handle_grid(args)
    scenario = load_scenario(args.scenario, args.overrides)
    model = TrialModel.from_scenario(scenario)
    observed = read_observed(args.observed, scenario, args.as_of)
    screening = None if args.screened is None else read_screening(args.screened, scenario, observed)
    if args.out is not None:
        output_folder(args.out, files=list(FILES))
    result = forecast(
        model,
        observed,
        args.as_of,
        vague_rate_prior=args.vague_rate_prior,
        screening=screening,
        looks=args.look,
        settings=_run_settings(args),
    )
    document = forecast_document(result)
    heading = scenario_heading(args.scenario, scenario, args.seed, args.overrides, result.conditional.engine)
    text = forecast_text(result, heading)
    for note in result.notes:
        print(f"trialsim: {note}", file=sys.stderr)
    print(json.dumps(document, indent=2) if args.json else text)
    if args.out is not None:
        _write(args, result, document, text)
    return 0


def _write(args: argparse.Namespace, result: Forecast, document: dict[str, Any], text: str) -> None:
    """forecast.json, forecast.txt and a folder per run (``conditional/``, ``predictive/``, ...): see RUNS."""
    out: Path = args.out
    write_atomically(out / "forecast.json", json.dumps(document, indent=2) + "\n")
    write_atomically(out / "forecast.txt", text + "\n")
    written = [out / name for name in FILES]
    runs = (result.conditional, result.predictive, result.sceptical, result.rate_sensitivity)
    for name, run in zip(RUNS, runs):
        if run is None:
            continue
        folder = out / name
        folder.mkdir(exist_ok=True)
        written += write_run(folder, run, command=args.command_line)
    print(f"\nWrote {', '.join(map(str, written))}", file=sys.stderr if args.json else sys.stdout)


def _handle_grid(args: argparse.Namespace) -> int:
    """``forecast --vary``: each cell's forecast from the same observed patients, one row per cell."""
    axes = vary_axes(args.vary)
    if args.out is not None:
        output_folder(args.out, files=["forecast_grid.csv"])
    settings = _run_settings(args)
    likelihood = Dispatch(settings.n_jobs, settings.backend, settings.scheduler)  # the runs' workers

    def conditional_model(scenario: Scenario) -> TrialModel:
        observed = read_observed(args.observed, scenario, args.as_of)
        screening = None if args.screened is None else read_screening(args.screened, scenario, observed)
        model = TrialModel.from_scenario(scenario)
        state = start_state(
            model,
            observed,
            args.as_of,
            vague_rate_prior=args.vague_rate_prior,
            screening=screening,
            looks=args.look,
            spread=likelihood.map,
        )
        return forecast_model(model, state)

    with likelihood, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KnownRateWarning)
        conditional = build_cells(args.scenario, args.overrides, axes, conditional_model)
        # each cell's ORR posterior: its own prior times the likelihood of the statuses under its own model
        predictive = [
            Cell(c.setting, forecast_model(c.model, predictive_state(c.model, c.model.start, spread=likelihood.map)))
            for c in conditional
            if c.model.start is not None
        ]
    sceptical = [
        Cell(p.setting, forecast_model(p.model, with_prior(p.model.start, sceptical_prior(p.model))))
        for p in predictive
        if p.model.start is not None
    ]
    for message in sorted({str(w.message) for w in caught}):
        print(f"trialsim: {message}", file=sys.stderr)
    # the runs of every cell as one grid, so their chunks go to the workers as one stream
    cells = [
        Cell({**c.setting, _RUN: run}, c.model)
        for run, part in zip(RUNS, (conditional, predictive, sceptical))
        for c in part
    ]
    grid = run_grid(cells, settings, keep_replicates=True, label="forecast grid")
    n = len(conditional)
    runs = grid.cells[:n], grid.cells[n : 2 * n], grid.cells[2 * n :]
    table = _grid_table(*runs, scenario=load_scenario(args.scenario, args.overrides))
    if args.out is not None:
        write_atomically(args.out / "forecast_grid.csv", table.to_csv(index=False))
    print(table.to_json(orient="records", indent=2) if args.json else table.to_string(index=False))
    return 0


def _grid_table(
    conditional: Sequence[GridCell], predictive: Sequence[GridCell], sceptical: Sequence[GridCell], scenario: Scenario
) -> pd.DataFrame:
    """One row per cell: P(complete by close), the median completion date, conditional power, predictive probability
    (under the forecast's prior and the sceptical one)."""
    rows = []
    origin = scenario.trial.study_start
    for c, p, d in zip(conditional, predictive, sceptical):
        assert c.replicates is not None  # the grid keeps them
        dates = pd.to_datetime(c.replicates["enrollment_complete_date"])
        days = (dates - pd.Timestamp(origin)).dt.days.to_numpy(dtype=float)
        median, median_mcse = date_quantile(days, 0.5)
        s, q = c.summary, p.summary
        rows.append(
            {
                **{k: v for k, v in c.setting.items() if k != _RUN},
                "p_enrollment_complete_by_close": s.target_reached.value,
                "p_enrollment_complete_by_close_mcse": s.target_reached.mcse,
                "enrollment_complete_median": None
                if median != median
                else str(origin + dt.timedelta(days=int(median))),
                "enrollment_complete_median_mcse_days": median_mcse,
                "conditional_power": s.power.value,
                "conditional_power_mcse": s.power.mcse,
                "predictive_probability": q.power.value,
                "predictive_probability_mcse": q.power.mcse,
                "predictive_probability_sceptical": d.summary.power.value,
                "predictive_probability_sceptical_mcse": d.summary.power.mcse,
            }
        )
    return pd.DataFrame(rows)
