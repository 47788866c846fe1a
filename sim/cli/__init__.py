"""The ``trialsim`` command line: ``run``, ``oc``, ``sweep``, ``design``, ``benchmarks`` and ``calibrate``.

Each subcommand lives in the module named for what it does (:mod:`.simulate`, :mod:`.design`,
:mod:`.calibrate`) and registers itself with a ``handler`` that returns the exit status;
:mod:`.options` holds what they share, including the one table from library parameter to option.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import calibrate, design, simulate
from .options import REPORTED_ERRORS, CommandParser, error_text

__all__ = ["build_parser", "main"]


def build_parser() -> CommandParser:
    """The ``trialsim`` parser with every subcommand; ``args.handler(args)`` runs the one chosen."""
    parser = CommandParser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for module in (simulate, design, calibrate):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except REPORTED_ERRORS as exc:
        print(f"trialsim: error: {error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trialsim: interrupted; finished chunks are kept in the --out folder", file=sys.stderr)
        return 130
