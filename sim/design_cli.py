"""The ``trialsim design`` subcommand: exact single-stage and Simon two-stage designs for an ORR trial.

``add_design_parser`` registers the options; ``run_design`` prints the designs as a table or, with
``--json``, as one JSON object. Invalid values raise ``ValueError`` naming the option and what it
accepts, for the main CLI to report with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from .stats.designs import SimonDesign, SingleStageDesign, simon_designs, smallest_single_stage

__all__ = ["NMAX_LIMIT", "add_design_parser", "run_design", "design_summary"]

NMAX_LIMIT = 500
"""Largest --nmax accepted; the Simon search grows with the square of nmax."""


def add_design_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``design`` subcommand to an ``add_subparsers()`` object and return its parser.

    The parser's default ``func`` is :func:`run_design`.
    """
    parser = subparsers.add_parser(
        "design",
        help="exact single-stage and Simon two-stage designs for the response rate",
        description=(
            "Exact designs for H0: ORR <= p0 against H1: ORR = p1. Stage 1 stops for futility when "
            "responders <= r1 of n1; H0 is rejected when total responders > r of n."
        ),
    )
    parser.add_argument("--p0", type=float, required=True, help="uninteresting response rate, e.g. 0.10")
    parser.add_argument("--p1", type=float, required=True, help="target response rate, e.g. 0.30")
    parser.add_argument("--alpha", type=float, default=0.05, help="one-sided type I error (default 0.05)")
    parser.add_argument("--power", type=float, default=0.80, help="power at p1 (default 0.80)")
    parser.add_argument("--nmax", type=int, default=100, help="largest total sample size searched (default 100)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.set_defaults(func=run_design)
    return parser


def _validate(args: argparse.Namespace) -> None:
    """Raise ValueError naming the first option outside its allowed values."""
    for option in ("p0", "p1", "alpha", "power"):
        value = getattr(args, option)
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            raise ValueError(f"--{option} must be a probability strictly between 0 and 1, got {value}")
    if not args.p1 > args.p0:
        raise ValueError(f"--p1 must be greater than --p0 ({args.p0}), got {args.p1}")
    if not args.power > args.alpha:
        raise ValueError(f"--power must be greater than --alpha ({args.alpha}), got {args.power}")
    if not 2 <= args.nmax <= NMAX_LIMIT:
        raise ValueError(f"--nmax must be an integer from 2 to {NMAX_LIMIT}, got {args.nmax}")


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
    """The three designs as plain records, keyed single_stage, simon_optimal, simon_minimax."""
    single = smallest_single_stage(p0, p1, alpha, power, nmax)
    search = simon_designs(p0, p1, alpha, power, nmax)
    if single is None or search.optimal is None or search.minimax is None:
        raise ValueError(
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


def _format_table(summary: dict[str, Any]) -> str:
    """Fixed-width text table of the designs with a header naming the hypotheses."""
    lines = [
        f"Designs for H0: ORR <= {summary['p0']:g} against H1: ORR = {summary['p1']:g}",
        (
            f"exact binomial; one-sided alpha <= {summary['alpha']:g}, power >= {summary['power']:g}, "
            f"n <= {summary['nmax']}"
        ),
        "",
        (
            f"{'design':<15}{'r1/n1':>7}{'r/n':>8}{'PET(p0)':>9}{'PET(p1)':>9}"
            f"{'EN(p0)':>8}{'EN(p1)':>8}{'alpha':>8}{'power':>8}"
        ),
    ]
    labels = {"single_stage": "single-stage", "simon_optimal": "Simon optimal", "simon_minimax": "Simon minimax"}
    for key, label in labels.items():
        d = summary["designs"][key]
        one_stage = d["n1"] is None
        stage1 = "-" if one_stage else f"{d['r1']}/{d['n1']}"
        pet0, pet1 = ("-", "-") if one_stage else (f"{d['pet_p0']:.4f}", f"{d['pet_p1']:.4f}")
        lines.append(
            f"{label:<15}{stage1:>7}{d['r']:>5}/{d['n']:<3}{pet0:>8}{pet1:>9}"
            f"{d['en_p0']:>8.2f}{d['en_p1']:>8.2f}{d['alpha']:>8.4f}{d['power']:>8.4f}"
        )
    lines += ["", f"Rule: {summary['rule']}."]
    return "\n".join(lines)


def run_design(args: argparse.Namespace) -> int:
    """Print the designs for the parsed options (table or ``--json``); return exit status 0."""
    _validate(args)
    summary = design_summary(args.p0, args.p1, args.alpha, args.power, args.nmax)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(_format_table(summary))
    return 0
