"""``trialsim check``: validate a scenario, show it resolved, and the figures it implies before any simulation."""

from __future__ import annotations

import argparse
import json

from ..model.planning import planning_figures
from ..model.trial_model import TrialModel
from ..reports import check_text
from ..scenario import load_scenario, scenario_path
from ..scenario.variants import resolved_scenario
from .options import add_scenario_arguments, scenario_heading

__all__ = ["handle_check", "register"]


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``check`` to the ``trialsim`` subcommands."""
    p = sub.add_parser(
        "check",
        help="validate a scenario, print every field resolved and the planning figures it implies (no simulation)",
    )
    add_scenario_arguments(p)
    p.add_argument("--json", action="store_true", help="print the resolved scenario and the figures as JSON")
    p.set_defaults(handler=handle_check)


def handle_check(args: argparse.Namespace) -> int:
    """``trialsim check``: the same checks a run makes before computing, then what the scenario implies."""
    model = TrialModel.from_scenario(load_scenario(args.scenario, args.overrides))
    figures = planning_figures(model)
    if args.json:
        document = {
            "scenario_file": str(args.scenario),
            "file": str(scenario_path(args.scenario)),
            "overrides": list(args.overrides),
            "resolved_scenario": resolved_scenario(model.scenario, iso_dates=True),
            "planning": figures.to_dict(),
        }
        print(json.dumps(document, indent=2))
    else:
        heading = scenario_heading(args.scenario, model.scenario, None, args.overrides)
        print(check_text(heading, model.scenario, figures))
    return 0
