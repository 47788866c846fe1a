"""``trialsim report``: the steering committee's HTML page, simulated now or drawn from saved runs.

``trialsim report [SCENARIO ...] --out DIR`` simulates each scenario (default: every shipped one),
keeps each run's folder under ``DIR/runs/`` and draws the page from those folders, exactly as
``trialsim report --from RUN_DIR ... --out DIR`` draws it later without simulating. Everything is
checked before any compute: the scenarios, the folders, that ``--out`` can be written and, with
``--pdf``, that Chromium is there.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..engines import refuse, resolve_engine
from ..forecast import read_observed
from ..model.trial_model import TrialModel
from ..reports.browser import INSTALL_HINT, chromium, headless
from ..reports.figures.design import design_figure
from ..reports.page import write_report
from ..reports.story import Thresholds
from ..reports.workflow import feasible_orrs, forecast_runs, simulate_runs
from ..runs.folder import FILES, SavedRun, read_run
from ..runs.runner import DEFAULT_SEED
from ..scenario import builtin_scenarios, load_scenario, scenario_path
from ..sizing import read_size
from .forecast import as_of_date
from .options import (
    UsageError,
    add_engine_arguments,
    jobs,
    output_folder,
    path_option,
    replicate_count,
    run_settings,
    seed,
)
from .preflight import warn_about
from .simulate import orr_grid

__all__ = ["handle_report", "register"]

_THRESHOLD_OPTIONS = (
    ("green_power", "chance of a positive result for green"),
    ("amber_power", "... for amber"),
    ("green_complete", "P(recruitment complete by close) for green"),
    ("amber_complete", "... for amber"),
    ("green_lpi_margin_months", "months between the median last patient in and the close, for green"),
    ("green_analysis_margin_months", "months between the median primary analysis and the study end, for green"),
    ("green_ci_width", "largest median CI width for green"),
    ("amber_ci_width", "... for amber"),
)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` to the ``trialsim`` subcommands."""
    p = sub.add_parser("report", help="the steering committee's HTML report (figures, plain sentences, sources)")
    shipped = ", ".join(sorted(builtin_scenarios()))
    p.add_argument(
        "scenarios", nargs="*", metavar="SCENARIO", help=f"scenario files or shipped names (default: {shipped})"
    )
    p.add_argument(
        "--from",
        dest="run_dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help="draw from `trialsim run --out` folders",
    )
    p.add_argument("--out", type=path_option, required=True, help="folder for index.html, figures/, data/ (and runs/)")
    p.add_argument(
        "--replicates", type=replicate_count, default=2000, help="simulated trials per scenario (default 2000)"
    )
    p.add_argument(
        "--oc-replicates", type=replicate_count, default=500, help="per true ORR of the power curve (default 500)"
    )
    p.add_argument(
        "--orr", type=orr_grid, default="0.05:0.40:0.05", help="true ORRs of the power curve (default 0.05:0.40:0.05)"
    )
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED, help=f"root random seed (default {DEFAULT_SEED})")
    p.add_argument("--jobs", type=jobs, default=None, help="worker processes, -1 for all cores (default 1)")
    add_engine_arguments(p)
    p.add_argument(
        "--observed",
        type=path_option,
        default=None,
        help="an observed-patients CSV: add the forecast of the first scenario from the data so far (needs --as-of)",
    )
    p.add_argument("--as-of", type=as_of_date, default=None, help="the date the observed file is current to")
    p.add_argument(
        "--size",
        type=path_option,
        default=None,
        help="a `trialsim size --out` folder: add the section 'What would make it work' from its designs",
    )
    p.add_argument("--pdf", action="store_true", help="also print the page to report.pdf with headless Chromium")
    p.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bars (default: on a terminal)"
    )
    defaults = Thresholds()
    for name, text in _THRESHOLD_OPTIONS:
        flag = "--" + name.replace("_", "-")
        p.add_argument(
            flag,
            dest=name,
            type=float,
            default=getattr(defaults, name),
            help=f"{text} (default {getattr(defaults, name):g})",
        )
    p.set_defaults(handler=handle_report)


def _thresholds(args: argparse.Namespace) -> Thresholds:
    try:
        return Thresholds(**{name: getattr(args, name) for name, _ in _THRESHOLD_OPTIONS})
    except ValueError as exc:
        message = str(exc)
        for name, _ in sorted(_THRESHOLD_OPTIONS, key=lambda option: -len(option[0])):
            message = re.sub(rf"\b{name}\b", "--" + name.replace("_", "-"), message)
        raise UsageError(message) from None


def _read_runs(folders: Sequence[Path]) -> list[SavedRun]:
    return [read_run(folder) for folder in folders]


def _check_sources(args: argparse.Namespace) -> None:
    """Scenarios or saved folders, not both; an observed file with its date, and only with scenarios."""
    if args.run_dirs and args.scenarios:
        raise UsageError("give scenarios to simulate or --from folders, not both")
    if (args.observed is None) != (args.as_of is None):
        raise UsageError("--observed and --as-of go together: the file and the date it is current to")
    if args.observed is not None and args.run_dirs:
        raise UsageError("--observed forecasts a scenario it simulates; it cannot be drawn --from saved folders")
    folders = [Path(f).resolve() for f in args.run_dirs or []]
    files = [scenario_path(name).resolve() for name in args.scenarios or []]  # a name and its file are one
    for what, given, shown in (("--from", folders, folders), ("scenario", files, args.scenarios or [])):
        twice = [shown[i] for i, item in enumerate(given) if item in given[:i]]
        if twice:
            raise UsageError(f"{what} {twice[0]} is given twice; each scenario is one column of the report")


def _check_scenarios(args: argparse.Namespace, names: Sequence[str]) -> None:
    """Before any compute: each scenario's warnings, its power curve, the engine's support and the observed file."""
    engine = resolve_engine(run_settings(args).engine)
    if args.observed is not None and not engine.forecasts:
        raise UsageError(f"--engine {engine.name} cannot start from a running trial, which --observed forecasts")
    for name in names:
        model = TrialModel.from_scenario(load_scenario(name))
        warn_about(model)
        refuse(engine, model)  # an engine that cannot simulate a scenario says so before any is simulated
        if not feasible_orrs(name, args.orr):
            raise UsageError(
                f"--orr: every value is at or above {model.orr_ceiling:.3f}, the largest ORR scenario {name}'s PFS "
                "can carry, so the power curve would be empty; give values below it"
            )
    if args.observed is not None:
        read_observed(args.observed, load_scenario(names[0]), args.as_of)  # refused before any compute


def handle_report(args: argparse.Namespace) -> int:
    """``trialsim report``: simulate (or read) the runs, then write the page and, with --pdf, the PDF."""
    _check_sources(args)
    limits = _thresholds(args)
    if args.pdf and chromium() is None:
        raise UsageError(f"--pdf: {INSTALL_HINT}")
    names = args.scenarios or sorted(builtin_scenarios())
    designs = [] if args.size is None else [design_figure(read_size(args.size))]  # read before any compute
    if not args.run_dirs:
        _check_scenarios(args, names)
    else:
        runs = _read_runs(args.run_dirs)
    output_folder(args.out)
    if args.run_dirs:
        files = write_report(runs, args.out, limits, designs)
    else:
        staging = Path(tempfile.mkdtemp(prefix=f".{args.out.name}-runs-", dir=args.out.resolve().parent))
        try:
            settings = run_settings(args)
            extra = []
            if args.observed is not None:
                extra = forecast_runs(names[0], args.observed, args.as_of, staging, settings, args.command_line)
            # the power curve, like trialsim oc, runs on the vector engine wherever the scenario allows
            curve = run_settings(args, "auto", replicates=args.oc_replicates)
            runs = simulate_runs(names, staging, settings, curve, args.orr, args.command_line)
            files = write_report(runs, args.out, limits, [*extra, *designs])
            shutil.rmtree(args.out / "runs", ignore_errors=True)
            staging.replace(args.out / "runs")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    written = [files.index]
    if args.pdf:
        pdf = args.out / "report.pdf"
        headless(files.index, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
        written.append(pdf)
    print(f"Wrote {', '.join(map(str, written))} ({len(files.figures) // 2} figures, data in {args.out / 'data'})")
    if not args.run_dirs:
        print(f"Run folders (reusable with --from): {args.out / 'runs'}/<scenario> with {FILES['summary']} and tables")
    return 0
