"""The ``trialsim`` command line: ``run``, ``oc``, ``sweep``, ``check``, ``report``, ``design``, ``size``,
``benchmarks`` and ``calibrate``.

Each subcommand lives in the module named for what it does (:mod:`.simulate`, :mod:`.check`, :mod:`.report`,
:mod:`.design`, :mod:`.calibrate`) and registers itself with a ``handler`` that returns the exit status;
:mod:`.options` holds what they share, including the one table from library parameter to option.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Sequence

from ..version import __version__
from . import calibrate, check, design, forecast, report, simulate, size
from .options import REPORTED_ERRORS, CommandParser, error_text

__all__ = ["build_parser", "main"]


def build_parser() -> CommandParser:
    """The ``trialsim`` parser with every subcommand; ``args.handler(args)`` runs the one chosen."""
    parser = CommandParser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    parser.add_argument("--version", action="version", version=f"trialsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for module in (simulate, forecast, check, report, design, size, calibrate):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(words)
        args.command_line = shlex.join(["trialsim", *words])
        return int(args.handler(args))
    except REPORTED_ERRORS as exc:
        print(f"trialsim: error: {error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"trialsim: interrupted; {_what_is_kept(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``trialsim benchmarks | head``): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _what_is_kept(args: argparse.Namespace | None) -> str:
    """What an interrupted command leaves behind, truthfully: ``run``, ``oc`` and ``sweep`` with ``--out`` keep
    their finished chunks (``args`` is None when the interrupt came while the command line was read)."""
    folder = simulate.checkpoint_folder(args) if args is not None else None
    if folder is None:
        return "nothing was saved"
    return f"finished chunks are kept in {folder}; the same command resumes from them"
