"""The ``trialsim`` command line: ``run``, ``oc``, ``sweep``, ``design``, ``benchmarks`` and ``calibrate``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .calibration import BenchmarkError, CalibrationError
from .calibration_cli import add_calibration_parsers
from .design_cli import add_design_parser, run_design
from .runner import RunError, run
from .scenario import ScenarioError, builtin_scenarios, load_scenario
from .sweep import FIGURES, InputError, build_cells, oc_grid, parse_axis, parse_range, run_grid

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _whole_number(allowed: str, ok: Callable[[int], bool]) -> Callable[[str], int]:
    """An argparse type for a whole number that ``ok`` accepts; errors say what is ``allowed``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    return parse


_positive_int = _whole_number("a whole number of at least 1", lambda v: v >= 1)
_jobs = _whole_number("a number of workers from 1 to 256, or -1 for all cores", lambda v: 1 <= v <= 256 or v == -1)
_seed = _whole_number("a non-negative whole number", lambda v: v >= 0)


def _add_common(p: argparse.ArgumentParser, replicates: int) -> None:
    """Options every simulating command shares."""
    shipped = ", ".join(sorted(builtin_scenarios()))
    p.add_argument(
        "scenario", nargs="?", default="base", help=f"a scenario file or a shipped scenario ({shipped}); default base"
    )
    p.add_argument(
        "--replicates", type=_positive_int, default=replicates, help=f"simulated trials (default {replicates})"
    )
    p.add_argument("--seed", type=_seed, default=20251115, help="root random seed (default 20251115)")
    p.add_argument("--jobs", type=_jobs, default=1, help="worker processes, -1 for all cores (default 1)")
    p.add_argument("--chunk-size", type=_positive_int, default=None, help="replicates per task (default 250)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="dotted.path=value",
        help="override a scenario field, e.g. --set efficacy.orr=0.2 (repeatable)",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: on a terminal)",
    )


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="simulate a scenario many times and print its operating characteristics")
    _add_common(p, 1000)
    p.add_argument("--out", type=Path, default=None, help="folder for summary.json, replicates.parquet, checkpoints")
    p.add_argument("--keep-patients", action="store_true", help="also write patients.parquet")
    p.add_argument(
        "--mcse-target",
        type=float,
        default=None,
        help="add batches of --replicates until the MCSE of power is at most this",
    )
    p.add_argument("--max-replicates", type=_positive_int, default=1_000_000, help="cap for --mcse-target")
    p.set_defaults(handler=_run)


def _add_oc(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("oc", help="operating characteristics over a grid of true ORR (type I error at p0)")
    _add_common(p, 2000)
    p.add_argument("--orr", default="0.05:0.40:0.05", help="start:stop:step or a comma list (default 0.05:0.40:0.05)")
    p.add_argument("--out", type=Path, default=None, help="write the table as CSV")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(handler=_oc)


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help="sensitivity grid over scenario fields: power and P(enrolment complete)")
    _add_common(p, 1000)
    p.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="dotted.path=v1,v2,...",
        help="a field and its values (give two for a two-way grid)",
    )
    p.add_argument("--out", type=Path, default=None, help="write the table as CSV")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(handler=_sweep)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    _add_oc(sub)
    _add_sweep(sub)
    add_design_parser(sub).set_defaults(handler=_design)
    add_calibration_parsers(sub)
    return parser


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "replicates": args.replicates,
        "seed": args.seed,
        "n_jobs": args.jobs,
        "chunk_size": args.chunk_size,
        "progress": args.progress,
    }


def _output_folder(path: Path) -> Path:
    """Create the --out folder before any compute, so a bad path fails at once."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {path}: cannot create the folder: {exc.strerror}") from None
    return path


def _output_file(path: Path) -> Path:
    """Check that --out names a writable file before any compute."""
    if path.is_dir():
        raise InputError(f"--out {path}: is a folder; give a file name such as results.csv")
    _output_folder(path.parent)
    return path


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    if args.out:
        _output_folder(args.out)
    result = run(
        scenario,
        keep_patients=args.keep_patients,
        checkpoint_dir=args.out / "chunks" if args.out else None,
        mcse_target=args.mcse_target,
        max_replicates=args.max_replicates,
        **_run_options(args),
    )
    print(result.summary.to_text())
    if args.out:
        doc = {
            "seed": args.seed,
            "scenario_file": str(args.scenario),
            "overrides": args.overrides,
            **result.summary.to_dict(),
        }
        (args.out / "summary.json").write_text(json.dumps(doc, indent=2))
        result.replicates.to_parquet(args.out / "replicates.parquet", index=False)
        written = ["summary.json", "replicates.parquet"]
        if result.patients is not None:
            result.patients.to_parquet(args.out / "patients.parquet", index=False)
            written.append("patients.parquet")
        print(f"\nWrote {', '.join(str(args.out / w) for w in written)}")
    return 0


def _print_grid(table: pd.DataFrame, args: argparse.Namespace, title: str) -> None:
    if args.out:
        table.to_csv(args.out, index=False)
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return
    shown = table.copy()
    for name in FIGURES:
        shown[name] = [f"{v:.4f} ± {m:.4f}" for v, m in zip(table[name], table[f"{name}_mcse"])]
        shown = shown.drop(columns=f"{name}_mcse")
    print(title)
    print(shown.to_string(index=False))
    print("\n± is one Monte Carlo standard error; every cell uses the same seed (common random numbers).")


def _oc(args: argparse.Namespace) -> int:
    values = parse_range(args.orr)
    if args.out:
        _output_file(args.out)
    table = oc_grid(args.scenario, args.overrides, values, **_run_options(args))
    _print_grid(table, args, f"Operating characteristics over the true ORR ({args.replicates} replicates per row)")
    null = table[table["is_null"]].iloc[0]
    if not args.json:
        print(f"Type I error at p0 = {null['efficacy.orr']:g}: {null['power']:.4f} (MCSE {null['power_mcse']:.4f})")
    return 0


def _design(args: argparse.Namespace) -> int:
    """``trialsim design``: its option checks raise ValueError, reported here as input errors."""
    try:
        return run_design(args)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _sweep(args: argparse.Namespace) -> int:
    axes = dict(parse_axis(text) for text in args.vary)
    if args.out:
        _output_file(args.out)
    cells = build_cells(args.scenario, args.overrides, axes)
    table = run_grid(cells, **_run_options(args))
    _print_grid(table, args, f"Sensitivity grid ({args.replicates} replicates per cell)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return int(args.handler(args))
    except (_UsageError, ScenarioError, RunError, InputError, CalibrationError, BenchmarkError) as exc:
        print(f"trialsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trialsim: interrupted; finished chunks are kept in the --out folder", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
