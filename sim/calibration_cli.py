"""The ``trialsim benchmarks`` and ``trialsim calibrate`` subcommands.

``add_calibration_parsers(subparsers)`` adds both to the ``trialsim`` parser; each sets its handler
(``args.handler(args)`` returns the exit status). Bad input raises ValueError (CalibrationError or
BenchmarkError) whose message names the option and what it allows.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
from pathlib import Path
from typing import Any

from .calibration import (
    DEFAULT_COHORT_SIZE,
    DEFAULT_SEED,
    DEFAULT_TOLERANCE,
    FITTABLE_FAMILIES,
    Benchmark,
    CalibrationError,
    CalibrationResult,
    CalibrationTargets,
    Landmark,
    calibrate,
    efficacy_toml,
    get_benchmark,
    load_benchmarks,
    select_benchmarks,
)

__all__ = ["add_calibration_parsers", "run_benchmarks", "run_calibrate", "calibrate_command"]

_TABLE_COLUMNS = (
    ("id", "id", 6),
    ("regimen", "regimen", 34),
    ("setting", "setting", 30),
    ("n", "n", 5),
    ("orr", "ORR", 6),
    ("dcr", "DCR", 6),
    ("median_pfs_months", "mPFS", 5),
    ("median_os_months", "mOS", 5),
    ("response_criteria", "criteria", 10),
    ("consensus_ref", "ref", 14),
)


def add_calibration_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add ``benchmarks`` and ``calibrate`` to the ``trialsim`` subcommands."""
    _add_benchmarks(subparsers)
    _add_calibrate(subparsers)


def _add_benchmarks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmarks", help="list the published efficacy and safety figures the calibration can use")
    p.add_argument("--regimen", default=None, metavar="TEXT", help="only rows whose regimen contains TEXT (any case)")
    p.add_argument("--setting", default=None, metavar="TEXT", help="only rows whose setting contains TEXT (any case)")
    p.add_argument(
        "--id", dest="benchmark_id", default=None, metavar="ID", help="only the row with this id (e.g. T1-1)"
    )
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list with every column")
    p.set_defaults(handler=run_benchmarks)


def _add_calibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit an [efficacy] block to published ORR, DCR, median PFS/OS and landmark rates",
        description="Fit the efficacy model so that patients observed on the source study's scan grid reproduce "
        "its published statistics; writes a TOML [efficacy] block for a scenario file.",
    )
    p.add_argument(
        "--benchmark",
        default=None,
        metavar="ID",
        help="take the targets from this benchmark row; options given override it",
    )
    p.add_argument("--orr", type=float, default=None, help="objective response rate, a proportion (0.147 for 14.7%%)")
    p.add_argument("--dcr", type=float, default=None, help="disease control rate (CR + PR + SD), a proportion")
    p.add_argument(
        "--median-pfs",
        type=float,
        default=None,
        metavar="MONTHS",
        help="published median PFS (progression dated at scans)",
    )
    p.add_argument("--median-os", type=float, default=None, metavar="MONTHS", help="published median OS")
    p.add_argument(
        "--pfs-at",
        action="append",
        default=[],
        metavar="MONTHS:RATE",
        help="a PFS landmark rate, e.g. 6:0.35 (repeatable)",
    )
    p.add_argument(
        "--os-at",
        action="append",
        default=[],
        metavar="MONTHS:RATE",
        help="an OS landmark rate, e.g. 12:0.55 (repeatable)",
    )
    p.add_argument(
        "--scan-weeks",
        type=float,
        default=None,
        metavar="WEEKS",
        help="the source's scan interval from first dose, e.g. 6 or 8",
    )
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help="the source arm's size: medians are matched as the mean KM median of n patients",
    )
    p.add_argument(
        "--confirmed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the source confirmed responses (default: yes, or the benchmark's value)",
    )
    p.add_argument(
        "--family",
        default="weibull",
        metavar="NAME",
        help=f"PFS family: {', '.join(FITTABLE_FAMILIES)} (default weibull)",
    )
    p.add_argument("--scenario", default="base", help="scenario supplying everything not fitted (default base)")
    p.add_argument(
        "--cohort",
        type=int,
        default=DEFAULT_COHORT_SIZE,
        help=f"synthetic patients per evaluation (default {DEFAULT_COHORT_SIZE})",
    )
    p.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"seed of the synthetic cohort (default {DEFAULT_SEED})"
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"largest miss allowed on the survival-probability scale (default {DEFAULT_TOLERANCE})",
    )
    p.add_argument("--out", type=Path, default=None, help="write the TOML [efficacy] block to this file")
    p.add_argument("--json", action="store_true", help="print targets, achieved values and parameters as JSON")
    p.set_defaults(handler=run_calibrate)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def benchmark_table(rows: tuple[Benchmark, ...]) -> str:
    """The rows as a fixed-width text table (rates as proportions, times in months)."""
    header = "  ".join(f"{title:<{width}}" for _, title, width in _TABLE_COLUMNS)
    lines = [header.rstrip(), "-" * len(header.rstrip())]
    for row in rows:
        cells = [_clip(_cell(getattr(row, name)), width) for name, _, width in _TABLE_COLUMNS]
        lines.append("  ".join(f"{c:<{w}}" for c, (_, _, w) in zip(cells, _TABLE_COLUMNS)).rstrip())
    lines.append(
        f"{len(rows)} row(s); rates are proportions, times months; `--json` shows every column and the citation"
    )
    return "\n".join(lines)


def run_benchmarks(args: argparse.Namespace) -> int:
    """List or filter the benchmark library."""
    rows = load_benchmarks()
    if args.benchmark_id is not None:
        get_benchmark(args.benchmark_id, rows)
    chosen = select_benchmarks(rows, regimen=args.regimen, setting=args.setting, id=args.benchmark_id)
    if args.json:
        print(json.dumps([row.to_dict() for row in chosen], indent=2))
    else:
        print(benchmark_table(chosen))
    return 0


def _landmark(option: str, text: str) -> Landmark:
    """``MONTHS:RATE`` as a Landmark; ValueError naming the option otherwise."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        return Landmark(float(parts[0]), float(parts[1]))
    except ValueError:
        raise CalibrationError(f"{option} expects MONTHS:RATE such as 12:0.55, got {text!r}") from None


def _benchmark_targets(row: Benchmark) -> dict[str, Any]:
    """The targets a benchmark row holds, keyed like CalibrationTargets."""
    found: dict[str, Any] = {
        "orr": row.orr,
        "dcr": row.dcr,
        "median_pfs_months": row.median_pfs_months,
        "median_os_months": row.median_os_months,
        "pfs_at": row.pfs_landmarks,
        "os_at": row.os_landmarks,
        "scan_weeks": row.scan_interval_weeks,
        "confirmed": row.orr_confirmed,
        "source_n": row.n,
    }
    return {k: v for k, v in found.items() if v not in (None, ())}


def _targets(args: argparse.Namespace) -> CalibrationTargets:
    """Targets from the benchmark row (if any), overridden by the options given."""
    values: dict[str, Any] = _benchmark_targets(get_benchmark(args.benchmark)) if args.benchmark else {}
    given = {
        "orr": args.orr,
        "dcr": args.dcr,
        "median_pfs_months": args.median_pfs,
        "median_os_months": args.median_os,
        "pfs_at": tuple(_landmark("--pfs-at", t) for t in args.pfs_at),
        "os_at": tuple(_landmark("--os-at", t) for t in args.os_at),
        "scan_weeks": args.scan_weeks,
        "confirmed": args.confirmed,
        "source_n": args.n,
    }
    values.update({k: v for k, v in given.items() if v not in (None, ())})
    if "scan_weeks" not in values:
        where = f"benchmark {args.benchmark} does not record its scan interval; " if args.benchmark else ""
        raise CalibrationError(
            f"{where}--scan-weeks is required: published medians and DCR are read on the source's scan grid "
            "(e.g. --scan-weeks 6 or 8; the consensus recommends imaging every 6-8 weeks)"
        )
    return CalibrationTargets(**values)


def calibrate_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this calibration, options in a fixed order."""
    words = ["trialsim", "calibrate"]
    if args.benchmark:
        words += ["--benchmark", args.benchmark]
    for option, value in (
        ("--orr", args.orr),
        ("--dcr", args.dcr),
        ("--median-pfs", args.median_pfs),
        ("--median-os", args.median_os),
    ):
        if value is not None:
            words += [option, f"{value:g}"]
    for text in args.pfs_at:
        words += ["--pfs-at", text]
    for text in args.os_at:
        words += ["--os-at", text]
    if args.scan_weeks is not None:
        words += ["--scan-weeks", f"{args.scan_weeks:g}"]
    if args.n is not None:
        words += ["--n", str(args.n)]
    if args.confirmed is not None:
        words.append("--confirmed" if args.confirmed else "--no-confirmed")
    words += ["--family", args.family]
    for option, value, default in (
        ("--scenario", args.scenario, "base"),
        ("--cohort", args.cohort, DEFAULT_COHORT_SIZE),
        ("--seed", args.seed, DEFAULT_SEED),
        ("--tolerance", args.tolerance, DEFAULT_TOLERANCE),
    ):
        if value != default:
            words += [option, f"{value:g}" if isinstance(value, float) else str(value)]
    if args.out is not None:
        words += ["--out", str(args.out)]
    return shlex.join(words)


def _summary_text(result: CalibrationResult, out: Path | None) -> str:
    """Target vs achieved, the fitted parameters and where the block went."""
    t = result.targets
    lines = [
        f"Calibrated {result.family} PFS, scans every {t.scan_weeks:g} weeks ({result.scan_interval_days} +/- "
        f"{result.scan_window_days} days), {'confirmed' if t.confirmed else 'unconfirmed'} responses, "
        + (f"n = {t.source_n}" if t.source_n else "large study"),
        "",
        f"{'statistic':<20} {'target':>8} {'achieved':>9} {'miss':>8}  compared as (miss: on the survival scale)",
    ]
    for f in result.fits:
        lines.append(f"{f.name:<20} {f.target:>8g} {f.achieved:>9.4f} {round(f.miss, 4) + 0.0:>+8.4f}  {f.statistic}")
    params = result.parameters()
    lines += ["", f"efficacy.orr = {params['orr']:g}", f"efficacy.pfs = {params['pfs']}"]
    if "os_median_months" in params:
        lines.append(f"efficacy.os_median_months = {params['os_median_months']:g}")
    if "post_progression_survival" in params:
        lines.append(f"efficacy.post_progression_survival = {params['post_progression_survival']}")
    lines += [f"note: {n}" for n in result.notes]
    if out is not None:
        lines.append(f"Wrote {out}")
    return "\n".join(lines)


def _json_safe(value: float) -> float | None:
    return value if math.isfinite(value) else None


def run_calibrate(args: argparse.Namespace) -> int:
    """Fit, write the TOML block (to --out, or print it), and report target vs achieved."""
    targets = _targets(args)
    result = calibrate(
        targets,
        family=args.family,
        template=args.scenario,
        cohort_size=args.cohort,
        seed=args.seed,
        tolerance=args.tolerance,
    )
    command = calibrate_command(args)
    block = efficacy_toml(result, command)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(block, encoding="utf-8")
    if args.json:
        doc = {
            "command": command,
            "family": result.family,
            "scan_interval_days": result.scan_interval_days,
            "scan_window_days": result.scan_window_days,
            "confirmed": targets.confirmed,
            "source_n": targets.source_n,
            "cohort_size": result.cohort_size,
            "seed": result.seed,
            "targets": [
                {
                    "name": f.name,
                    "target": f.target,
                    "achieved": _json_safe(f.achieved),
                    "miss": _json_safe(f.miss),
                    "statistic": f.statistic,
                }
                for f in result.fits
            ],
            "parameters": result.parameters(),
            "notes": list(result.notes),
            "out": str(args.out) if args.out is not None else None,
            "toml": block,
        }
        print(json.dumps(doc, indent=2))
    else:
        print(_summary_text(result, args.out))
        if args.out is None:
            print("\n" + block, end="")
    return 0
