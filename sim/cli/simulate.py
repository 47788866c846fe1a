"""``trialsim run``, ``oc`` and ``sweep``: simulate a scenario, a grid of true ORR, or a sensitivity grid.

All three resume with ``--out``: ``run`` keeps its checkpoints in ``OUT/chunks/``, ``oc`` and
``sweep`` (whose ``--out`` is a CSV file) keep each cell's in ``OUT.chunks/<cell>/`` beside it
(:func:`checkpoint_folder`), so the same command after an interruption picks up where it stopped.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ..model.trial_model import TrialModel
from ..reports import oc_text, summary_text, sweep_text
from ..runs.folder import FILES, summary_document, write_run
from ..runs.runner import DEFAULT_SEED, run
from ..runs.sweep import MAX_CELLS, GridResult, at_point_orr, build_cells, oc_grid, run_grid
from ..scenario import load_scenario
from .options import (
    UsageError,
    add_engine_arguments,
    add_scenario_arguments,
    grid_checkpoints,
    jobs,
    output_file,
    output_folder,
    path_option,
    positive_int,
    replicate_count,
    run_settings,
    scenario_heading,
    seed,
    write_atomically,
)
from .preflight import add_yes_argument, check_duration, warn_about

__all__ = [
    "add_simulation_arguments",
    "checkpoint_folder",
    "handle_oc",
    "handle_run",
    "handle_sweep",
    "orr_grid",
    "register",
    "vary_axis",
]


def orr_grid(text: str) -> list[float]:
    """``--orr``: values from ``start:stop:step`` (stop included) or a comma list ``a,b,c``."""
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
        raise UsageError(f"--orr must be start:stop:step with step > 0 or a comma list, got {text!r}") from None
    twice = [v for i, v in enumerate(values) if v in values[:i]]
    if twice:
        raise UsageError(f"--orr gives the value {twice[0]:g} twice; give each value once")
    outside = [v for v in values if not 0 <= v <= 1]
    if outside:
        raise UsageError(f"--orr values must be probabilities in [0, 1], got {outside[0]:g}")
    if len(values) > MAX_CELLS:
        raise UsageError(f"--orr gives more than {MAX_CELLS} values; use a coarser step")
    return values


def _top_level_items(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and braces: ``[1, 9],{beta = [3, 12]}`` is two values."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[{") - (char in "]}")
        if char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [v.strip() for v in items if v.strip()]


def vary_axis(text: str) -> tuple[str, list[str]]:
    """``--vary``: ``dotted.path=v1,v2,...`` as the path and its values (read as TOML later, like --set).

    A value may be a list or a table (``efficacy.orr_prior.beta=[1, 9],[3, 12]``): commas inside
    brackets or braces do not separate values.
    """
    path, sep, values = text.partition("=")
    items = _top_level_items(values)
    if not sep or not path.strip() or not items:
        raise UsageError(f"--vary expects dotted.path=value1,value2,..., got {text!r}")
    return path.strip(), items


def vary_axes(given: list[tuple[str, list[str]]]) -> dict[str, list[str]]:
    """The ``--vary`` options as axes, each field once (a field given twice is refused, naming it)."""
    paths = [path for path, _ in given]
    repeated = sorted({path for path in paths if paths.count(path) > 1})
    if repeated:
        raise UsageError(f"--vary {repeated[0]} is given twice; give all its values in one --vary")
    return dict(given)


def add_simulation_arguments(p: argparse.ArgumentParser, replicates: int) -> None:
    """Options every simulating command shares: the scenario, replicates, seed, jobs, chunks, engine, progress."""
    add_scenario_arguments(p)
    p.add_argument(
        "--replicates", type=replicate_count, default=replicates, help=f"simulated trials (default {replicates})"
    )
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED, help=f"root random seed (default {DEFAULT_SEED})")
    p.add_argument(
        "--jobs", type=jobs, default=None, help="worker processes, -1 for all cores (default 1, or joblib's setting)"
    )
    p.add_argument("--chunk-size", type=positive_int, default=None, help="replicates per task (default 250)")
    add_engine_arguments(p)
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: on a terminal)",
    )


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="simulate a scenario many times and print its operating characteristics")
    add_simulation_arguments(p, 1000)
    p.add_argument(
        "--out", type=path_option, default=None, help="folder for summary.json, the tables and checkpoints (resumable)"
    )
    p.add_argument("--keep-patients", action="store_true", help="also write patients.parquet (needs --out)")
    p.add_argument(
        "--mcse-target",
        type=float,
        default=None,
        help="add batches of --replicates until the MCSE of power is at most this",
    )
    p.add_argument(
        "--max-replicates",
        type=replicate_count,
        default=None,
        help="with --mcse-target: the most replicates to run (default 1000000)",
    )
    p.add_argument("--restart", action="store_true", help="discard the checkpoints in --out instead of resuming")
    p.add_argument("--json", action="store_true", help="print summary.json's document instead of the table")
    add_yes_argument(p)
    p.set_defaults(handler=handle_run)


def _add_grid_output(p: argparse.ArgumentParser) -> None:
    """``--out``, ``--restart`` and ``--json`` of the grid commands."""
    p.add_argument(
        "--out",
        type=path_option,
        default=None,
        help="write the table as CSV; each cell's checkpoints go in OUT.chunks/ beside it, so the same command resumes",
    )
    p.add_argument("--restart", action="store_true", help="discard the cells' checkpoints in OUT.chunks/ first")
    p.add_argument("--json", action="store_true", help="print the table as JSON")


def _add_oc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "oc", help="operating characteristics over a grid of latent ORR (type I error at p0 and at the boundary)"
    )
    add_simulation_arguments(p, 2000)
    p.add_argument(
        "--orr",
        type=orr_grid,
        default="0.05:0.40:0.05",
        help="start:stop:step or a comma list (default 0.05:0.40:0.05)",
    )
    _add_grid_output(p)
    add_yes_argument(p)
    p.set_defaults(handler=handle_oc)


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="sensitivity grid over scenario fields: power and P(enrollment complete)")
    add_simulation_arguments(p, 1000)
    p.add_argument(
        "--vary",
        type=vary_axis,
        action="append",
        required=True,
        metavar="dotted.path=v1,v2,...",
        help="a field and its values (give two for a two-way grid)",
    )
    _add_grid_output(p)
    add_yes_argument(p)
    p.set_defaults(handler=handle_sweep)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``run``, ``oc`` and ``sweep`` to the ``trialsim`` subcommands."""
    _add_run(sub)
    _add_oc(sub)
    _add_sweep(sub)


def checkpoint_folder(args: argparse.Namespace) -> Path | None:
    """Where the command ``args`` keeps finished chunks: ``OUT/chunks`` for ``run``, ``OUT.chunks`` for the grids."""
    command, out = getattr(args, "command", None), getattr(args, "out", None)
    if out is None or command not in ("run", "oc", "sweep"):
        return None
    return out / "chunks" if command == "run" else grid_checkpoints(out)


MAX_BATCHED = 1_000_000
"""The most replicates ``--mcse-target`` adds batches up to, unless ``--max-replicates`` says otherwise."""


def _check_restart(args: argparse.Namespace) -> None:
    """``--restart`` discards checkpoints, which only ``--out`` keeps."""
    if args.restart and args.out is None:
        raise UsageError("--restart discards the checkpoints in --out and needs it")


def _print_notes(notes: tuple[str, ...]) -> None:
    """What a run or grid did beyond simulating, on stderr (stdout keeps the results)."""
    for note in notes:
        print(f"trialsim: {note}", file=sys.stderr)


def handle_run(args: argparse.Namespace) -> int:
    """``trialsim run``: print the operating characteristics (or --json their document); with --out, write them."""
    if args.keep_patients and args.out is None:
        raise UsageError("--keep-patients writes patients.parquet and needs --out")
    _check_restart(args)
    if args.max_replicates is not None and args.mcse_target is None:
        raise UsageError("--max-replicates caps the batches --mcse-target adds and needs it")
    model = TrialModel.from_scenario(load_scenario(args.scenario, args.overrides))
    warn_about(model)
    if args.mcse_target is None:  # with a target the run stops when the MCSE is reached, long before its cap
        check_duration(model, args.replicates, args, "auto")
    if args.out is not None:
        output_folder(args.out, files=list(FILES.values()))
    most = max(MAX_BATCHED, args.replicates) if args.mcse_target is None else args.max_replicates or MAX_BATCHED
    settings = run_settings(
        args,
        keep_patients=args.keep_patients,
        checkpoint_dir=checkpoint_folder(args),
        mcse_target=args.mcse_target,
        max_replicates=most,
    )
    result = run(model, settings)
    _print_notes(result.notes)
    if args.json:
        print(json.dumps(summary_document(result, command=args.command_line), indent=2))
    else:
        heading = scenario_heading(args.scenario, model.scenario, args.seed, args.overrides, result.engine)
        print(summary_text(result.summary, heading))
    if args.out:
        written = write_run(args.out, result, command=args.command_line)
        print(f"\nWrote {', '.join(map(str, written))}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _check_grid_output(args: argparse.Namespace) -> None:
    """Before any compute: the CSV file and the cells' checkpoint folder beside it can be written."""
    _check_restart(args)
    if args.out is not None:
        output_file(args.out)
        output_folder(grid_checkpoints(args.out))


def _write_grid(grid: GridResult, args: argparse.Namespace) -> None:
    """The grid's notes to stderr, its table to --out as CSV, and to the terminal as JSON with --json."""
    _print_notes(grid.notes)
    table = grid.table()
    if args.out:
        write_atomically(args.out, table.to_csv(index=False))
    if args.json:
        print(table.to_json(orient="records", indent=2))


def handle_oc(args: argparse.Namespace) -> int:
    """``trialsim oc``: the grid over true ORR, ending with the type I error at p0."""
    _check_grid_output(args)
    scenario = load_scenario(args.scenario, args.overrides)
    model = TrialModel.from_scenario(scenario)
    warn_about(model)
    check_duration(at_point_orr(scenario), args.replicates * (len(args.orr) + 1), args, "auto")  # as the cells run
    settings = run_settings(args, "auto", checkpoint_dir=checkpoint_folder(args))
    grid = oc_grid(args.scenario, args.overrides, args.orr, settings)
    _write_grid(grid, args)
    if not args.json:
        print(oc_text(grid, scenario_heading(args.scenario, scenario, args.seed, args.overrides)))
    return 0


def handle_sweep(args: argparse.Namespace) -> int:
    """``trialsim sweep``: every combination of the --vary values, all cells checked before any run."""
    axes = vary_axes(args.vary)
    _check_grid_output(args)
    cells = build_cells(args.scenario, args.overrides, axes)
    for cell in cells:
        warn_about(cell.model)
    check_duration(cells[0].model, args.replicates * len(cells), args, "auto")
    grid = run_grid(cells, run_settings(args, "auto", checkpoint_dir=checkpoint_folder(args)))
    _write_grid(grid, args)
    if not args.json:
        scenario = load_scenario(args.scenario, args.overrides)
        print(sweep_text(grid, scenario_heading(args.scenario, scenario, args.seed, args.overrides)))
    return 0
