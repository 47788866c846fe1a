"""The ``trialsim`` command line: ``run``, ``oc``, ``sweep``, ``check``, ``report``, ``design``, ``size``,
``benchmarks`` and ``calibrate``.

Each subcommand lives in the module named for what it does (:mod:`.simulate`, :mod:`.check`, :mod:`.report`,
:mod:`.design`, :mod:`.calibrate`) and registers itself with a ``handler`` that returns the exit status;
:mod:`.options` holds what they share, including the one table from library parameter to option.
Only the module of the command asked for is imported, so ``trialsim --version`` and ``trialsim run``
never load the report's plotting or templates.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Sequence
from types import ModuleType

from ..errors import TrialsimError
from ..version import __version__

__all__ = ["build_parser", "main"]


COMMANDS = {
    "run": "simulate",
    "oc": "simulate",
    "sweep": "simulate",
    "forecast": "forecast",
    "check": "check",
    "report": "report",
    "design": "design",
    "size": "size",
    "benchmarks": "calibrate",
    "calibrate": "calibrate",
}
"""Each subcommand and the module (in this package) that registers and runs it."""


def _module(name: str) -> ModuleType:
    return importlib.import_module(f".{name}", __name__)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``trialsim`` parser; ``args.handler(args)`` runs the subcommand chosen.

    With ``command`` (a name of :data:`COMMANDS`) only its module is imported and registered;
    without, every subcommand is (for ``--help`` and for a word that is no command).
    """
    from .options import CommandParser

    parser = CommandParser(prog="trialsim", description="Trial-feasibility simulator for single-arm oncology trials.")
    parser.add_argument("--version", action="version", version=f"trialsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    modules = [COMMANDS[command]] if command in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for name in modules:
        _module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``trialsim`` console script; returns the exit status."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words == ["--version"]:  # nothing else to import
        print(f"trialsim {__version__}")
        return 0
    args: argparse.Namespace | None = None
    from .early_workers import early_workers

    workers = early_workers(words)  # their imports overlap this process's
    from .options import UsageError, error_text

    try:
        args = build_parser(next((w for w in words if not w.startswith("-")), None)).parse_args(words)
        args.command_line = shlex.join(["trialsim", *words])
        status = int(args.handler(args))
        workers.finish()
        return status
    except (UsageError, TrialsimError) as exc:
        print(f"trialsim: error: {error_text(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"trialsim: interrupted; {_what_is_kept(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``trialsim benchmarks | head``): stop quietly, as a shell tool does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        workers.close()  # a command that failed before its run leaves them unused


def _what_is_kept(args: argparse.Namespace | None) -> str:
    """What an interrupted command leaves behind, truthfully: ``run``, ``oc`` and ``sweep`` with ``--out`` keep
    their finished chunks (``args`` is None when the interrupt came while the command line was read)."""
    folder = _module("simulate").checkpoint_folder(args) if args is not None else None
    if folder is None:
        return "nothing was saved"
    return f"finished chunks are kept in {folder}; the same command resumes from them"
