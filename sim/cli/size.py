"""``trialsim size``: which design would work (:mod:`sim.sizing`), from the command line.

Every option is checked, and every recruitment setting validated, before anything is simulated or
written; ``--out`` gets its files only when the search has finished.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from ..model.trial_model import TrialModel
from ..reports.size_text import size_text
from ..runs.runner import DEFAULT_SEED
from ..scenario import load_scenario
from ..sizing import DESIGNS, OBJECTIVES, Levers, Targets, size
from .options import (
    UsageError,
    add_engine_arguments,
    add_scenario_arguments,
    amount_option,
    date_option,
    jobs,
    output_folder,
    path_option,
    positive_int,
    probability_option,
    replicate_count,
    run_settings,
    seed,
)
from .preflight import warn_about
from .simulate import vary_axes, vary_axis

__all__ = ["handle_size", "int_range", "register"]


def int_range(option: str, minimum: int = 0) -> Callable[[str], tuple[int, ...]]:
    """An argparse type for ``A:B``, ``A:B:STEP`` or a comma list of whole numbers, errors naming ``option``."""

    def parse(text: str) -> tuple[int, ...]:
        try:
            if ":" in text:
                parts = [int(p) for p in text.split(":")]
                if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] <= 0):
                    raise ValueError(text)
                values = tuple(range(parts[0], parts[1] + 1, parts[2] if len(parts) == 3 else 1))
            else:
                values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
        except ValueError:
            raise UsageError(f"{option} must be A:B, A:B:STEP or a comma list of whole numbers, got {text!r}") from None
        if not values:
            raise UsageError(f"{option} {text!r} gives no values (is A above B?)")
        if min(values) < minimum:
            raise UsageError(f"{option} values must be at least {minimum}, got {min(values)}")
        return values

    return parse


def _designs(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [n for n in names if n not in DESIGNS]
    if unknown or not names:
        raise UsageError(f"--designs must be a comma list of {', '.join(DESIGNS)}, got {text!r}")
    return names


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``size`` to the ``trialsim`` subcommands."""
    p = sub.add_parser("size", help="design search: the sample size, rule and recruitment that would work")
    add_scenario_arguments(p)
    p.add_argument("--p1", type=probability_option("--p1"), required=True, help="the ORR the trial must detect")
    p.add_argument("--power", type=probability_option("--power"), default=0.8, help="least power at p1 (default 0.8)")
    p.add_argument(
        "--alpha", type=probability_option("--alpha"), default=None, help="one-sided alpha (default: the scenario's)"
    )
    p.add_argument(
        "--on-time-by", type=date_option("--on-time-by"), required=True, help="the decision's deadline (YYYY-MM-DD)"
    )
    p.add_argument(
        "--p-on-time",
        type=probability_option("--p-on-time"),
        default=0.8,
        help="least P(decision by the deadline) (0.8)",
    )
    p.add_argument(
        "--n", type=int_range("--n", 2), default=None, help="sample sizes, A:B (default: half to twice the scenario's)"
    )
    p.add_argument("--designs", type=_designs, default=DESIGNS, help=f"design families (default {','.join(DESIGNS)})")
    p.add_argument("--sites", type=int_range("--sites", 1), default=(), help="centres, A:B (copies of the first site)")
    p.add_argument(
        "--new-site-activation",
        type=date_option("--new-site-activation"),
        default=None,
        help="activation date of the added centres (default: the first site's)",
    )
    p.add_argument(
        "--extend-recruitment-months",
        type=int_range("--extend-recruitment-months"),
        default=(0,),
        help="months added to the recruitment period (and the study end), A:B:STEP",
    )
    p.add_argument(
        "--vary",
        type=vary_axis,
        action="append",
        default=[],
        metavar="dotted.path=v1,v2,...",
        help="any other scenario field and its values (repeatable)",
    )
    p.add_argument("--minimise", choices=OBJECTIVES, default="n", help="what the best design minimises (default n)")
    p.add_argument("--maximise", choices=("assurance",), default=None, help="rank by assurance first (needs a prior)")
    p.add_argument(
        "--assurance", type=probability_option("--assurance"), default=None, help="least assurance (needs a prior)"
    )
    p.add_argument("--cost-per-patient", type=amount_option("--cost-per-patient"), default=0.0)
    p.add_argument("--cost-per-site-month", type=amount_option("--cost-per-site-month"), default=0.0)
    p.add_argument("--replicates", type=replicate_count, default=2000, help="replicates per confirming run (2000)")
    p.add_argument("--screen-replicates", type=replicate_count, default=2000, help="recruitment replicates (2000)")
    p.add_argument("--shortlist", type=positive_int, default=8, help="designs confirmed by simulation (default 8)")
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED, help=f"root random seed (default {DEFAULT_SEED})")
    p.add_argument("--jobs", type=jobs, default=None, help="worker processes, -1 for all cores")
    add_engine_arguments(p)
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="show a progress bar")
    p.add_argument(
        "--out", type=path_option, default=None, help="folder for size.csv, size.json, pareto.csv, best.toml"
    )
    p.add_argument("--json", action="store_true", help="print the search's JSON document instead of the table")
    p.add_argument("--restart", action="store_true", help="discard the confirming runs' checkpoints in OUT/chunks")
    p.set_defaults(handler=handle_size)


def handle_size(args: argparse.Namespace) -> int:
    """Run the search; print the ranked table (or JSON) and write ``--out``'s files."""
    axes = vary_axes(args.vary)
    if args.restart and args.out is None:
        raise UsageError("--restart discards the checkpoints in --out and needs it")
    targets = Targets(
        p1=args.p1,
        on_time_by=args.on_time_by,
        power=args.power,
        p_on_time=args.p_on_time,
        alpha=args.alpha,
        minimise=args.minimise,
        assurance=args.assurance,
        maximise_assurance=args.maximise == "assurance",
        cost_per_patient=args.cost_per_patient,
        cost_per_site_month=args.cost_per_site_month,
    )
    levers = Levers(
        n=args.n or (),
        designs=args.designs,
        sites=args.sites,
        extend_months=args.extend_recruitment_months,
        vary=axes,
        new_site_activation=args.new_site_activation,
    )
    scenario = load_scenario(args.scenario, args.overrides)
    targets.check(scenario)  # before --out is made: a refused search leaves nothing behind
    warn_about(TrialModel.from_scenario(scenario))
    if args.out is not None:
        output_folder(args.out, files=("size.csv", "size.json", "pareto.csv", "screened.csv", "best.toml"))
    result = size(
        args.scenario,
        targets,
        levers,
        args.overrides,
        run_settings(args, "auto", checkpoint_dir=None if args.out is None else args.out / "chunks"),
        screen_replicates=args.screen_replicates,
        shortlist=args.shortlist,
    )
    if args.out is not None:
        result.write(args.out)
    for note in result.notes:
        print(f"trialsim: {note}", file=sys.stderr)
    print(json.dumps(result.to_dict(), indent=2) if args.json else size_text(result))
    return 0
