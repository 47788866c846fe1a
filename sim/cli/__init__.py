"""The ``trialsim`` command line: ``run``, ``oc``, ``sweep``, ``report``, ``design``, ``benchmarks`` and ``calibrate``.

Each subcommand lives in the module named for what it does (:mod:`.simulate`, :mod:`.report`, :mod:`.design`,
:mod:`.calibrate`) and registers itself with a ``handler`` that returns the exit status;
:mod:`.options` holds what they share, including the one table from library parameter to option.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from . import calibrate, design, report, simulate
from .options import REPORTED_ERRORS, CommandParser, error_text

__all__ = ["build_parser", "main"]


def build_parser() -> CommandParser:
    """The ``trialsim`` parser with every subcommand; ``args.handler(args)`` runs the one chosen."""
    parser = CommandParser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for module in (simulate, report, design, calibrate):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        args = build_parser().parse_args(words)
        args.command_line = shlex.join(["trialsim", *words])
        return int(args.handler(args))
    except REPORTED_ERRORS as exc:
        print(f"trialsim: error: {error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("trialsim: interrupted; finished chunks are kept in the --out folder", file=sys.stderr)
        return 130
