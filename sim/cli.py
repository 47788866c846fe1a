"""The ``trialsim`` command line: ``trialsim run [SCENARIO] ...``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .runner import RunError, run
from .scenario import ScenarioError, builtin_scenarios, load_scenario

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit with status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (or -1 for all cores), got {text!r}") from None
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(f"must be a positive number of workers or -1 for all cores, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative whole number, got {value}")
    return value


def _add_run(sub: argparse._SubParsersAction) -> None:
    shipped = ", ".join(sorted(builtin_scenarios()))
    p = sub.add_parser("run", help="simulate a scenario many times and print its operating characteristics")
    p.add_argument(
        "scenario", nargs="?", default="base", help=f"a scenario file or a shipped scenario ({shipped}); default base"
    )
    p.add_argument("--replicates", type=_positive_int, default=1000, help="number of simulated trials (default 1000)")
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
        "--out", type=Path, default=None, help="folder for summary.json, replicates.parquet (and checkpoints)"
    )
    p.add_argument(
        "--keep-patients", action="store_true", help="also write patients.parquet (one row per patient and cutoff)"
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar (default: on a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_run(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario, args.overrides)
    checkpoints = args.out / "chunks" if args.out else None
    result = run(
        scenario,
        replicates=args.replicates,
        seed=args.seed,
        n_jobs=args.jobs,
        chunk_size=args.chunk_size,
        keep_patients=args.keep_patients,
        progress=args.progress,
        checkpoint_dir=checkpoints,
    )
    print(result.summary.to_text())
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        doc = {
            "seed": args.seed,
            "scenario_file": str(args.scenario),
            "overrides": args.overrides,
            **result.summary.to_dict(),
        }
        (args.out / "summary.json").write_text(json.dumps(doc, indent=2))
        result.replicates.to_parquet(args.out / "replicates.parquet", index=False)
        if result.patients is not None:
            result.patients.to_parquet(args.out / "patients.parquet", index=False)
        print(
            f"\nWrote {args.out / 'summary.json'} and {args.out / 'replicates.parquet'}"
            + (f" and {args.out / 'patients.parquet'}" if result.patients is not None else "")
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command == "run":
            return _run(args)
        raise _UsageError(f"unknown command {args.command!r}")
    except (_UsageError, ScenarioError, RunError) as exc:
        print(f"trialsim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trialsim: interrupted; finished chunks are kept in the --out folder", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
