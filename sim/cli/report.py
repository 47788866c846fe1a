"""``trialsim report``: the steering committee's HTML page, simulated now or drawn from saved runs.

``trialsim report [SCENARIO ...] --out DIR`` simulates each scenario (default: every shipped one),
keeps each run's folder under ``DIR/runs/`` and draws the page from those folders, exactly as
``trialsim report --from RUN_DIR ... --out DIR`` draws it later without simulating. Everything is
checked before any compute: the scenarios, the folders, that ``--out`` can be written and, with
``--pdf``, that Chromium is there.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..forecast import forecast, forecast_document, read_observed
from ..reports.browser import INSTALL_HINT, chromium, headless
from ..reports.figures import ReportFigure, forecast_figure
from ..reports.figures.design import design_figure
from ..reports.page import write_report
from ..reports.story import Thresholds
from ..run_folder import FILES, SavedRun, read_run, write_run
from ..runner import DEFAULT_SEED, run
from ..scenario import ScenarioError, builtin_scenarios, load_scenario, scenario_path
from ..sizing import read_size
from ..sweep import oc_grid
from ..trial_model import TrialModel
from .forecast import as_of_date
from .options import (
    UsageError,
    add_engine_arguments,
    engine_options,
    jobs,
    output_folder,
    path_option,
    replicate_count,
    seed,
    warn_about,
)
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


def _feasible_orrs(name: str, values: Sequence[float]) -> list[float]:
    """The true ORRs of the power curve that the scenario's PFS can carry (see efficacy.orr's ceiling)."""
    keep = []
    for value in values:
        try:
            TrialModel.from_scenario(load_scenario(name, [f"efficacy.orr={value!r}"]))
        except ScenarioError:
            continue
        keep.append(value)
    return keep


def _simulate(args: argparse.Namespace, names: Sequence[str], staging: Path) -> list[SavedRun]:
    """Run each scenario and its power curve into ``staging/<name>``, and read the folders back."""
    models = [TrialModel.from_scenario(load_scenario(name)) for name in names]
    runs = []
    for name, model, stem in zip(names, models, _folder_names(names)):
        folder = staging / stem
        folder.mkdir()
        options: dict[str, Any] = {"seed": args.seed, "n_jobs": args.jobs, "progress": args.progress}
        run_options: dict[str, Any] = {**options, **engine_options(args)}
        result = run(model, replicates=args.replicates, keep_patients=True, **run_options)
        orrs = _feasible_orrs(name, args.orr)
        # the power curve, like trialsim oc, runs on the vector engine wherever the scenario allows
        grid_options: dict[str, Any] = {**options, **engine_options(args, "auto")}
        oc = oc_grid(name, [], orrs, replicates=args.oc_replicates, **grid_options).table() if orrs else None
        write_run(folder, result, name, [], args.command_line, oc)
        runs.append(read_run(folder))
    return runs


def _forecast(args: argparse.Namespace, name: str, staging: Path) -> list[ReportFigure]:
    """The forecast of scenario ``name`` from the observed file, saved in ``staging/forecast``, as its figure."""
    scenario = load_scenario(name)
    observed = read_observed(args.observed, scenario, args.as_of)
    options = {"seed": args.seed, "n_jobs": args.jobs, "progress": args.progress, **engine_options(args)}
    result = forecast(
        TrialModel.from_scenario(scenario),
        observed,
        args.as_of,
        replicates=args.replicates,
        keep_patients=True,
        **options,
    )
    folder = staging / "forecast"
    for part, outcome in (("conditional", result.conditional), ("predictive", result.predictive)):
        (folder / part).mkdir(parents=True)
        write_run(folder / part, outcome, name, [], args.command_line)
    (folder / "forecast.json").write_text(json.dumps(forecast_document(result), indent=2) + "\n", encoding="utf-8")
    figure = forecast_figure(
        read_run(folder / "conditional"),
        [p.enrollment_date for p in observed.patients],
        args.as_of,
        result.p_enrollment_complete_by_close,
        result.conditional_power,
        result.predictive_probability,
    )
    return [figure]


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


def _folder_names(names: Sequence[str]) -> list[str]:
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


def handle_report(args: argparse.Namespace) -> int:
    """``trialsim report``: simulate (or read) the runs, then write the page and, with --pdf, the PDF."""
    _check_sources(args)
    limits = _thresholds(args)
    if args.pdf and chromium() is None:
        raise UsageError(f"--pdf: {INSTALL_HINT}")
    names = args.scenarios or sorted(builtin_scenarios())
    designs = [] if args.size is None else [design_figure(read_size(args.size))]  # read before any compute
    if not args.run_dirs:
        for name in names:
            model = TrialModel.from_scenario(load_scenario(name))
            warn_about(model)
            if not _feasible_orrs(name, args.orr):
                raise UsageError(
                    f"--orr: every value is at or above {model.orr_ceiling:.3f}, the largest ORR scenario {name}'s PFS "
                    "can carry, so the power curve would be empty; give values below it"
                )
        if args.observed is not None:
            read_observed(args.observed, load_scenario(names[0]), args.as_of)  # refused before any compute
    else:
        runs = _read_runs(args.run_dirs)
    output_folder(args.out)
    if args.run_dirs:
        files = write_report(runs, args.out, limits, designs)
    else:
        staging = Path(tempfile.mkdtemp(prefix=f".{args.out.name}-runs-", dir=args.out.resolve().parent))
        try:
            extra = _forecast(args, names[0], staging) if args.observed is not None else []
            runs = _simulate(args, names, staging)
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
