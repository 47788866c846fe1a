"""What every ``trialsim`` subcommand shares: the parser, the number options, and how errors read.

One convention for every subcommand: its module's ``register(subparsers)`` adds it with
``set_defaults(handler=...)``, and the handler returns the exit status. An option's own form and
range are checked by its argparse ``type`` while the command line is parsed (numbers here, the
others beside their subcommand); what involves several values is checked by the library, or by
the handler before any compute where no library function takes those values together.

Library errors name the library's parameters (``cohort_size``, ``overrides``). :data:`FLAGS` says
which option sets each one, and :func:`flag_message` is the one place that shows a library error
in the command line's words.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..calibration.benchmarks import LISTING
from ..calibration.errors import Message
from ..calibration.messages import NOT_CONFIRMED, PFS_LANDMARK
from ..engines import ENGINES
from ..errors import TrialsimError
from ..reports.text import Heading
from ..runs.settings import MAX_REPLICATES, RunSettings, settings_with
from ..runs.sweep import CellError
from ..scenario import builtin_scenarios, scenario_path
from ..scenario.model import Scenario

__all__ = [
    "add_engine_arguments",
    "add_scenario_arguments",
    "run_settings",
    "FLAGS",
    "REPORTED_ERRORS",
    "CommandParser",
    "UsageError",
    "attach_negative_values",
    "error_text",
    "flag_message",
    "flag_text",
    "grid_checkpoints",
    "jobs",
    "output_file",
    "output_folder",
    "path_option",
    "probability_option",
    "amount_option",
    "date_option",
    "write_atomically",
    "positive_int",
    "replicate_count",
    "scenario_heading",
    "seed",
    "whole_number",
]

FLAGS: dict[str, str] = {
    # sim.scenario.apply_overrides, sim.runs.sweep.build_cells and oc_grid
    "overrides": "--set",
    "axes": "--vary",
    "orr_values": "--orr",
    # sim.calibration.CalibrationTargets and calibrate
    "orr": "--orr",
    "dcr": "--dcr",
    "unconfirmed_orr": "--unconfirmed-orr",
    "not_assessed": "--not-assessed",
    "unscheduled_progression": "--unscheduled-progression",
    "median_pfs_months": "--median-pfs",
    "median_os_months": "--median-os",
    "pfs_at": "--pfs-at",
    "os_at": "--os-at",
    PFS_LANDMARK: "--pfs-at MONTHS:RATE",
    "scan_weeks": "--scan-weeks",
    "source_n": "--n",
    NOT_CONFIRMED: "--no-confirmed",
    "family": "--family",
    "cuts_months": "--cuts",
    "cohort_size": "--cohort",
    "tolerance": "--tolerance",
    LISTING: "`trialsim benchmarks`",
}
"""The option (or command) that gives each library parameter a library message names.

A run's settings are not listed: their options are checked as they are parsed, and the few
refusals left to the runner (``mcse_target must be in (0, 0.5)``) keep the runner's names.
"""




class UsageError(Exception):
    """A command line ``trialsim`` cannot use; the message names the option as typed.

    Not a ValueError: an argparse ``type`` that raises it is not reworded as "invalid value".
    """


REPORTED_ERRORS: tuple[type[Exception], ...] = (UsageError, TrialsimError)
"""Every error ``main`` reports as one line with exit status 2: the library's all share one base."""


_NEGATIVE_VALUE = re.compile(r"-\.?\d")
"""A word that starts like a negative number (``-0.1,0.2``, ``-1:0.5``): a value, never an option."""


def attach_negative_values(words: Sequence[str]) -> list[str]:
    """``--option -0.1,0.2`` as ``--option=-0.1,0.2``, so the option's own type judges the value.

    argparse takes a word that starts with ``-`` for an option unless it is a plain number, and
    then says only "expected one argument". No ``trialsim`` option starts with a digit, so such a
    word after a long option is that option's value. Words after ``--`` are left alone.
    """
    out: list[str] = []
    for word in words:
        after_option = bool(out) and out[-1].startswith("--") and "=" not in out[-1] and "--" not in out[:-1]
        if after_option and out[-1] != "--" and _NEGATIVE_VALUE.match(word):
            out[-1] = f"{out[-1]}={word}"
        else:
            out.append(word)
    return out


class CommandParser(argparse.ArgumentParser):
    """argparse whose errors are one-line UsageErrors, for ``main`` to print with exit status 2.

    Negative values are given to their option (:func:`attach_negative_values`).
    """

    def error(self, message: str) -> None:  # type: ignore[override]
        """Raise the parse error instead of printing usage and exiting."""
        raise UsageError(message)

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse ``args`` with each negative value attached to the option before it."""
        words = attach_negative_values(list(args)) if args is not None else None
        return super().parse_known_args(words, namespace)


def flag_text(text: str) -> str:
    """``text`` with each library parameter it names (if it is a Message) shown as its option."""
    return Message(text).spelled(FLAGS)


def flag_message(exc: Exception) -> str:
    """A library error's message in the command line's words.

    A Message names its parameters wherever they occur; any other message names its parameter
    first (``overrides expects dotted.path=value``), after a grid cell's context if it has one.
    """
    if isinstance(exc, CellError):
        return exc.context + flag_message(exc.problem)
    first = exc.args[0] if exc.args else ""
    if isinstance(first, Message):
        return flag_text(first)
    name, space, rest = str(exc).partition(" ")
    return f"{FLAGS[name]}{space}{rest}" if space and name in FLAGS else str(exc)


def error_text(exc: Exception) -> str:
    """What ``trialsim: error:`` is followed by for a usage or library error."""
    return str(exc) if isinstance(exc, UsageError) else flag_message(exc)


def whole_number(allowed: str, ok: Callable[[int], bool]) -> Callable[[str], int]:
    """An argparse type for a whole number that ``ok`` accepts; errors say what is ``allowed``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    return parse


positive_int = whole_number("a whole number of at least 1", lambda v: v >= 1)
replicate_count = whole_number(f"a whole number from 1 to {MAX_REPLICATES}", lambda v: 1 <= v <= MAX_REPLICATES)
jobs = whole_number("a number of workers from 1 to 256, or -1 for all cores", lambda v: 1 <= v <= 256 or v == -1)
seed = whole_number("a non-negative whole number", lambda v: v >= 0)


def _number_option(option: str, allowed: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type for a finite number that ``ok`` accepts, errors naming ``option`` and ``allowed``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
        if not (math.isfinite(value) and ok(value)):
            raise UsageError(f"{option} must be {allowed}, got {value}")
        return value

    return parse


def probability_option(option: str) -> Callable[[str], float]:
    """An argparse type for a probability strictly between 0 and 1, errors naming ``option``."""
    return _number_option(option, "a probability strictly between 0 and 1", lambda v: 0.0 < v < 1.0)


def amount_option(option: str) -> Callable[[str], float]:
    """An argparse type for a finite amount of 0 or more (a cost), errors naming ``option``."""
    return _number_option(option, "a number of 0 or more", lambda v: v >= 0)


def date_option(option: str) -> Callable[[str], dt.date]:
    """An argparse type for an ISO date, errors naming ``option``."""

    def parse(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{option} must be a date written YYYY-MM-DD, got {text!r}") from None

    return parse


def path_option(text: str) -> Path:
    """An argparse type for a file or folder option: a path, never the empty string (which means ".")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a file or folder, not an empty path")
    return Path(text)


def output_file(path: Path, flag: str = "--out") -> Path:
    """Check before any compute that ``path`` can be written as a file (its folder is created)."""
    if not str(path).strip():
        raise UsageError(f"{flag} must name a file, got an empty path")
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give a file name such as results.csv")
    output_folder(path.parent, flag)
    return path


def output_folder(path: Path, flag: str = "--out", files: Sequence[str] = ()) -> Path:
    """Create ``path`` before any compute and check that it, and ``files`` in it, can be written."""
    if not str(path).strip():
        raise UsageError(f"{flag} must name a folder, got an empty path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write there ({exc.strerror or exc})") from None
    blocked = [name for name in files if (path / name).is_dir()]
    if blocked:
        raise UsageError(f"{flag} {path}: {', '.join(blocked)} is a folder, where the results file would go")
    return path


def grid_checkpoints(out: Path) -> Path:
    """Where ``oc`` and ``sweep --out OUT`` keep each cell's checkpoints: the folder ``OUT.chunks`` beside it."""
    return out.with_name(f"{out.name}.chunks")


def _shown(path: Path) -> str:
    """A scenario file as a report names it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def scenario_heading(
    scenario_file: str | Path,
    scenario: Scenario,
    seed: int | None,
    overrides: Sequence[str],
    engine: str | None = None,
) -> Heading:
    """The heading of a report on ``scenario``: the file as given and as read, the seed, the engine, the overrides."""
    file = scenario_path(scenario_file)
    shown = str(scenario_file) if Path(scenario_file).resolve() == file.resolve() else _shown(file)
    return dataclasses.replace(Heading.of(scenario_file, shown, scenario, seed, overrides), engine=engine)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, so no half file is left."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as fh:
        fh.write(text)
    Path(fh.name).replace(path)


def add_scenario_arguments(p: argparse.ArgumentParser) -> None:
    """The scenario (file or shipped name, default base) and its ``--set`` overrides, as every command takes them."""
    shipped = ", ".join(sorted(builtin_scenarios()))
    p.add_argument(
        "scenario", nargs="?", default="base", help=f"a scenario file or a shipped scenario ({shipped}); default base"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="dotted.path=value",
        help="override a scenario field, e.g. --set efficacy.orr=0.2 (repeatable)",
    )


BACKENDS = ("loky", "threading", "dask")
"""The joblib backends a command line may ask for (``dask`` needs the ``trialsim[dask]`` extra)."""


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--backend`` and ``--scheduler``: what simulates the replicates, and where."""
    p.add_argument(
        "--engine",
        choices=tuple(ENGINES),
        default=None,
        help="the simulation engine: des (SimPy), vector (numpy, whole chunks), auto (vector where the scenario "
        "allows, else des), reference (the independent per-patient engine; not for forecasts); default auto "
        "(docs/engines.md)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="where chunks run: loky processes (default), threads, or a Dask cluster",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="with --backend dask: the Dask scheduler's address (default: a local cluster)",
    )


def run_settings(args: argparse.Namespace, default_engine: str = "auto", **fixed: Any) -> RunSettings:
    """The run settings a simulating command's options give (``fixed``: what the command itself decides).

    Every command defaults to ``auto``, the vector engine wherever the scenario allows it and the
    SimPy engine where it does not (docs/engines.md), forecasts included.
    """
    if getattr(args, "scheduler", None) is not None and args.backend != "dask":
        raise UsageError("--scheduler is the address of a Dask scheduler and needs --backend dask")
    given = {
        "replicates": getattr(args, "replicates", None),
        "seed": getattr(args, "seed", None),
        "n_jobs": getattr(args, "jobs", None),
        "chunk_size": getattr(args, "chunk_size", None),
        "progress": getattr(args, "progress", None),
        "restart": getattr(args, "restart", None),
        "backend": getattr(args, "backend", None),
        "scheduler": getattr(args, "scheduler", None),
    }
    engine = getattr(args, "engine", None)
    settings = {k: v for k, v in given.items() if v is not None or k in ("n_jobs", "progress")}
    return settings_with(None, {**settings, "engine": default_engine if engine is None else engine, **fixed})
