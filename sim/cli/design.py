"""``trialsim design``: exact single-stage and Simon two-stage designs for an ORR trial.

Prints the designs as a table (:func:`sim.reports.design_text`) or, with ``--json``, as one JSON
object (:func:`design_summary`).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..reports import design_text
from ..stats.designs import SimonDesign, SingleStageDesign, simon_designs, smallest_single_stage
from .options import UsageError, probability_option

__all__ = ["NMAX_LIMIT", "design_summary", "handle_design", "register"]

NMAX_LIMIT = 500
"""Largest --nmax accepted; the Simon search grows with the square of nmax."""


def _nmax(text: str) -> int:
    """``--nmax``: a whole number from 2 to NMAX_LIMIT."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if not 2 <= value <= NMAX_LIMIT:
        raise UsageError(f"--nmax must be an integer from 2 to {NMAX_LIMIT}, got {value}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``design`` to the ``trialsim`` subcommands."""
    p = sub.add_parser(
        "design",
        help="exact single-stage and Simon two-stage designs for the response rate",
        description=(
            "Exact designs for H0: ORR <= p0 against H1: ORR = p1. Stage 1 stops for futility when "
            "responders <= r1 of n1; H0 is rejected when total responders > r of n."
        ),
    )
    p.add_argument(
        "--p0", type=probability_option("--p0"), required=True, help="uninteresting response rate, e.g. 0.10"
    )
    p.add_argument("--p1", type=probability_option("--p1"), required=True, help="target response rate, e.g. 0.30")
    p.add_argument(
        "--alpha", type=probability_option("--alpha"), default=0.05, help="one-sided type I error (default 0.05)"
    )
    p.add_argument("--power", type=probability_option("--power"), default=0.80, help="power at p1 (default 0.80)")
    p.add_argument("--nmax", type=_nmax, default=100, help="largest total sample size searched (default 100)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(handler=handle_design)


def _single_stage_record(design: SingleStageDesign, p1: float) -> dict[str, Any]:
    """The single-stage design in the Simon columns: r = (responders needed) - 1, no stage 1."""
    return {
        "r1": None,
        "n1": None,
        "r": design.r - 1,
        "n": design.n,
        "reject_if_at_least": design.r,
        "pet_p0": 0.0,
        "pet_p1": 0.0,
        "en_p0": float(design.n),
        "en_p1": float(design.n),
        "alpha": design.attained_alpha,
        "power": design.power(p1),
    }


def _simon_record(design: SimonDesign) -> dict[str, Any]:
    """A Simon design as a JSON-ready record."""
    return {
        "r1": design.r1,
        "n1": design.n1,
        "r": design.r,
        "n": design.n,
        "reject_if_at_least": design.r + 1,
        "pet_p0": design.pet_p0,
        "pet_p1": design.pet_p1,
        "en_p0": design.en_p0,
        "en_p1": design.en_p1,
        "alpha": design.attained_alpha,
        "power": design.attained_power,
    }


def design_summary(p0: float, p1: float, alpha: float, power: float, nmax: int) -> dict[str, Any]:
    """The three designs as plain records, keyed single_stage, simon_optimal, simon_minimax.

    Raises UsageError naming ``--nmax`` when no design with n <= nmax reaches the power.
    """
    single = smallest_single_stage(p0, p1, alpha, power, nmax)
    search = simon_designs(p0, p1, alpha, power, nmax)
    if single is None or search.optimal is None or search.minimax is None:
        raise UsageError(
            f"--nmax {nmax} is too small: no design with n <= {nmax} reaches power {power} at p1={p1}; "
            f"allowed: a larger --nmax (at most {NMAX_LIMIT})"
        )
    return {
        "p0": p0,
        "p1": p1,
        "alpha": alpha,
        "power": power,
        "nmax": nmax,
        "rule": "stop after stage 1 if responders <= r1 of n1; reject H0 if total responders > r of n",
        "designs": {
            "single_stage": _single_stage_record(single, p1),
            "simon_optimal": _simon_record(search.optimal),
            "simon_minimax": _simon_record(search.minimax),
        },
    }


def handle_design(args: argparse.Namespace) -> int:
    """Print the designs for the parsed options (table or ``--json``); return exit status 0."""
    if not args.p1 > args.p0:
        raise UsageError(f"--p1 must be greater than --p0 ({args.p0}), got {args.p1}")
    if not args.power > args.alpha:
        raise UsageError(f"--power must be greater than --alpha ({args.alpha}), got {args.power}")
    summary = design_summary(args.p0, args.p1, args.alpha, args.power, args.nmax)
    print(json.dumps(summary, indent=2) if args.json else design_text(summary))
    return 0
