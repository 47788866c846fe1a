"""``trialsim benchmarks`` and ``trialsim calibrate``: the published figures, and an efficacy block fitted to them.

Options that carry a calibration target keep the target's name in ``CalibrationTargets`` apart
from its spelling: the library checks the values and names its parameters, the command line shows
them as options (:data:`sim.cli.options.FLAGS`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..calibration import (
    DEFAULT_COHORT_SIZE,
    DEFAULT_SEED,
    DEFAULT_TOLERANCE,
    FITTABLE_FAMILIES,
    Benchmark,
    CalibrationTargets,
    Landmark,
    calibrate,
    efficacy_toml,
    get_benchmark,
    load_benchmarks,
    read_km_curve,
    scenario_with_efficacy,
    select_benchmarks,
)
from ..calibration.document import calibration_document
from ..calibration.errors import Message
from ..model.trial_model import TrialModel
from ..reports import benchmark_text, calibration_text
from ..scenario import ScenarioError, parse_scenario, scenario_path
from .options import UsageError, flag_text, output_file, path_option, write_atomically

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["calibrate_command", "cut_points", "handle_benchmarks", "handle_calibrate", "landmark", "register"]


def landmark(option: str) -> Callable[[str], Landmark]:
    """An argparse type for ``MONTHS:RATE`` (a landmark rate), errors naming ``option``."""

    def parse(text: str) -> Landmark:
        parts = text.split(":")
        try:
            if len(parts) != 2:
                raise ValueError(text)
            return Landmark(float(parts[0]), float(parts[1]))
        except ValueError:
            raise UsageError(f"{option} expects MONTHS:RATE such as 12:0.55, got {text!r}") from None

    return parse


def cut_points(text: str) -> tuple[float, ...]:
    """An argparse type for ``--cuts``: months separated by commas, such as ``2,6``."""
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--cuts expects months separated by commas such as 2,6, got {text!r}") from None


def _add_benchmarks(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("benchmarks", help="list the published efficacy and safety figures the calibration can use")
    p.add_argument("--regimen", default=None, metavar="TEXT", help="only rows whose regimen contains TEXT (any case)")
    p.add_argument("--setting", default=None, metavar="TEXT", help="only rows whose setting contains TEXT (any case)")
    p.add_argument(
        "--id", dest="benchmark_id", default=None, metavar="ID", help="only the row with this id (e.g. T1-1)"
    )
    p.add_argument("--json", action="store_true", help="print the rows as a JSON list with every column")
    p.set_defaults(handler=handle_benchmarks)


def _add_targets(p: argparse.ArgumentParser) -> None:
    """The published statistics a calibration aims at, and the source's design."""
    p.add_argument(
        "--benchmark",
        default=None,
        metavar="ID",
        help="take the targets from this benchmark row; options given override it",
    )
    p.add_argument("--orr", type=float, default=None, help="objective response rate, a proportion (0.147 for 14.7%%)")
    p.add_argument("--dcr", type=float, default=None, help="disease control rate (CR + PR + SD), a proportion")
    p.add_argument(
        "--unconfirmed-orr",
        type=float,
        default=None,
        help="ORR counting unconfirmed responses too (fits efficacy.unconfirmed_response_share), a proportion",
    )
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
        type=landmark("--pfs-at"),
        action="append",
        default=[],
        metavar="MONTHS:RATE",
        help="a PFS landmark rate, e.g. 6:0.35 (repeatable)",
    )
    p.add_argument(
        "--os-at",
        type=landmark("--os-at"),
        action="append",
        default=[],
        metavar="MONTHS:RATE",
        help="an OS landmark rate, e.g. 12:0.55 (repeatable)",
    )
    for endpoint in ("pfs", "os"):
        p.add_argument(
            f"--{endpoint}-curve",
            type=Path,
            default=None,
            metavar="CSV",
            help=f"a digitised {endpoint.upper()} Kaplan-Meier curve (columns months, survival): each point a "
            f"--{endpoint}-at target",
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
        "--not-assessed",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of the source arm alive but never assessed after baseline (withdrawn or deteriorated without a "
        "scan; not deaths, which the model has), counted in its ORR and DCR (default 0)",
    )
    p.add_argument(
        "--unscheduled-progression",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of the source's progressions found at unscheduled assessments (default 0; docs/model.md)",
    )
    p.add_argument(
        "--confirmed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the source confirmed responses (default: yes, or the benchmark's value)",
    )


def _add_calibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit an [efficacy] block to published ORR, DCR, median PFS/OS and landmark rates",
        description="Fit the efficacy model so that patients observed on the source study's scan grid reproduce "
        "its published statistics; writes a TOML [efficacy] block for a scenario file.",
    )
    _add_targets(p)
    p.add_argument(
        "--family",
        default="weibull",
        metavar="NAME",
        help=f"PFS family: {', '.join(FITTABLE_FAMILIES)} (default weibull)",
    )
    p.add_argument(
        "--cuts",
        type=cut_points,
        default=(),
        metavar="MONTHS,...",
        help="piecewise_exponential only: months at which the PFS hazard may change, e.g. 2,6 "
        "(one relative hazard fitted per cut, so one more PFS target per cut)",
    )
    template = p.add_mutually_exclusive_group()
    template.add_argument("--scenario", default=None, help="scenario supplying everything not fitted (default base)")
    template.add_argument(
        "--into",
        default=None,
        metavar="SCENARIO",
        help="write a copy of this scenario, its [efficacy] tables replaced by the fit, to --out NEW.toml "
        "(comments and every other table kept); it also supplies everything not fitted",
    )
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
    p.add_argument(
        "--out",
        type=path_option,
        default=None,
        help="write the TOML [efficacy] block to this file (with --into: the whole scenario)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print targets, achieved values with MCSEs, implied values, warnings and parameters as JSON",
    )
    p.set_defaults(handler=handle_calibrate)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``benchmarks`` and ``calibrate`` to the ``trialsim`` subcommands."""
    _add_benchmarks(sub)
    _add_calibrate(sub)


def handle_benchmarks(args: argparse.Namespace) -> int:
    """``trialsim benchmarks``: list or filter the benchmark library."""
    rows = load_benchmarks()
    if args.benchmark_id is not None:
        get_benchmark(args.benchmark_id, rows)
    chosen = select_benchmarks(rows, regimen=args.regimen, setting=args.setting, id=args.benchmark_id)
    if args.json:
        print(json.dumps([row.to_dict() for row in chosen], indent=2))
    else:
        print(benchmark_text(chosen))
    return 0


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
        "unconfirmed_orr": args.unconfirmed_orr,
        "median_pfs_months": args.median_pfs,
        "median_os_months": args.median_os,
        "pfs_at": tuple(args.pfs_at) + (read_km_curve(args.pfs_curve) if args.pfs_curve else ()),
        "os_at": tuple(args.os_at) + (read_km_curve(args.os_curve) if args.os_curve else ()),
        "scan_weeks": args.scan_weeks,
        "confirmed": args.confirmed,
        "source_n": args.n,
        "not_assessed": args.not_assessed,
        "unscheduled_progression": args.unscheduled_progression,
    }
    values.update({k: v for k, v in given.items() if v not in (None, ())})
    if "scan_weeks" not in values:
        where = f"benchmark {args.benchmark} does not record its scan interval; " if args.benchmark else ""
        raise UsageError(
            f"{where}--scan-weeks is required: published medians and DCR are read on the source's scan grid "
            "(e.g. --scan-weeks 6 or 8; the consensus recommends imaging every 6-8 weeks)"
        )
    return CalibrationTargets(**values)


def _words(options: Iterable[tuple[str, Any]]) -> list[str]:
    """Each option given a value followed by that value (numbers as %g); options without one left out."""
    words: list[str] = []
    for option, value in options:
        if value is not None and value != "":
            words += [option, f"{value:g}" if isinstance(value, float) else str(value)]
    return words


def calibrate_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this calibration, options in a fixed order."""
    words = ["trialsim", "calibrate", *_words([("--benchmark", args.benchmark)])]
    words += _words(
        [
            ("--orr", args.orr),
            ("--unconfirmed-orr", args.unconfirmed_orr),
            ("--dcr", args.dcr),
            ("--median-pfs", args.median_pfs),
            ("--median-os", args.median_os),
        ]
    )
    words += _words(("--pfs-at", f"{lm.months:g}:{lm.rate:g}") for lm in args.pfs_at)
    words += _words(("--os-at", f"{lm.months:g}:{lm.rate:g}") for lm in args.os_at)
    words += _words([("--pfs-curve", args.pfs_curve), ("--os-curve", args.os_curve)])
    words += _words([("--scan-weeks", args.scan_weeks), ("--n", args.n)])
    words += _words(
        [("--not-assessed", args.not_assessed), ("--unscheduled-progression", args.unscheduled_progression)]
    )
    if args.confirmed is not None:
        words.append("--confirmed" if args.confirmed else "--no-confirmed")
    words += ["--family", args.family]
    words += _words([("--cuts", ",".join(f"{c:g}" for c in args.cuts))])
    words += _words([("--scenario", args.scenario), ("--into", args.into)])
    changed = (
        ("--cohort", args.cohort, DEFAULT_COHORT_SIZE),
        ("--seed", args.seed, DEFAULT_SEED),
        ("--tolerance", args.tolerance, DEFAULT_TOLERANCE),
    )
    words += _words((option, value) for option, value, default in changed if value != default)
    words += _words([("--out", args.out)])
    return shlex.join(words)


def _into(args: argparse.Namespace) -> tuple[Path, str] | None:
    """With --into: the scenario file to copy and its text, checked before any compute."""
    if args.into is None:
        return None
    if args.out is None:
        raise UsageError("--into writes a copy of the scenario and needs --out NEW.toml")
    source = scenario_path(args.into)
    if args.out.resolve() == source.resolve():
        raise UsageError(f"--out {args.out} is the --into scenario itself; give a new file name")
    try:
        return source, source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--into {source}: cannot be read ({exc})") from None


def _checked_scenario(text: str, out: Path) -> str:
    """``text`` if it is a usable scenario (the fitted efficacy with the rest of the file), else a one-line error."""
    try:
        TrialModel.from_scenario(parse_scenario(tomllib.loads(text)))
    except ScenarioError as exc:
        problem = f"{out} was not written: the scenario with the fitted efficacy is not usable: {exc}"
        raise ScenarioError(problem) from None
    return text


def handle_calibrate(args: argparse.Namespace) -> int:
    """``trialsim calibrate``: fit, write the TOML block (to --out, or print it; with --into, a whole scenario),
    report target vs achieved."""
    targets = _targets(args)
    into = _into(args)
    if args.out is not None:
        output_file(args.out)
    result = calibrate(
        targets,
        family=args.family,
        template=args.into or args.scenario or "base",
        cohort_size=args.cohort,
        seed=args.seed,
        tolerance=args.tolerance,
        cuts_months=args.cuts,
    )
    # The notes and warnings name parameters; the block, the summary and the JSON show them as options.
    result = dataclasses.replace(
        result,
        notes=tuple(Message(flag_text(note)) for note in result.notes),
        warnings=tuple(Message(flag_text(warning)) for warning in result.warnings),
    )
    command = calibrate_command(args)
    block = efficacy_toml(result, command)
    if into is not None:
        written = _checked_scenario(scenario_with_efficacy(into[1], result, command), args.out)
    else:
        written = block
    if args.out is not None:
        write_atomically(args.out, written)
    if args.json:
        print(json.dumps(calibration_document(result, command, block, args.out), indent=2))
    else:
        print(calibration_text(result, args.out))
        if args.out is None:
            print("\n" + block, end="")
    return 0
