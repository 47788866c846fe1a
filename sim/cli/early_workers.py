"""Start a simulating command's worker processes before anything heavy is imported (:mod:`sim.runs.workers`).

Only the few options that say whether the command will use loky workers are read, leniently: the
full parser reads them again (and reports any mistake) after the imports these workers overlap.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence

from ..runs.workers import WarmWorkers, start_workers

__all__ = ["RUN_DEFAULTS", "early_workers", "workers_wanted"]

SIMULATING = ("run", "oc", "sweep", "forecast")
"""The commands that dispatch chunks to workers (a forecast its likelihood's patients too)."""

RUN_DEFAULTS = (1000, 250)
"""``trialsim run``'s replicates and chunk size when not given (``tests/test_cli.py`` pins them to the library's)."""


def _options(words: Sequence[str]) -> argparse.Namespace | None:
    """The options that decide the workers (``--jobs``, ``--backend``, ...) as given; None if unreadable."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--jobs", type=int)
    parser.add_argument("--backend")
    parser.add_argument("--scheduler")
    parser.add_argument("--replicates", type=int, default=RUN_DEFAULTS[0])
    parser.add_argument("--chunk-size", type=int, default=RUN_DEFAULTS[1])
    try:
        known, _ = parser.parse_known_args(list(words))
    except (argparse.ArgumentError, SystemExit):
        return None
    return known


def workers_wanted(words: Sequence[str]) -> int:
    """How many loky workers the command ``words`` will dispatch to; 0 when it runs in this process or elsewhere.

    Also 0 when it asks for more workers than the machine has cores: those are started when needed.
    """
    command = next((w for w in words if not w.startswith("-")), None)
    given = _options(words) if command in SIMULATING else None
    if given is None or given.jobs is None or given.backend not in (None, "loky") or given.scheduler is not None:
        return 0
    cores = os.cpu_count() or 1
    jobs = cores if given.jobs == -1 else given.jobs
    if jobs > cores:  # more workers than cores: a rare wish, not worth starting a crowd ahead of time
        return 0
    if command == "run" and given.chunk_size > 0:
        jobs = min(jobs, math.ceil(given.replicates / given.chunk_size))  # never more workers than chunks
    return jobs if jobs > 1 else 0


def early_workers(words: Sequence[str]) -> WarmWorkers:
    """The workers of the command ``words``, started now (none when it uses no loky workers)."""
    wanted = workers_wanted(words)
    return start_workers(wanted) if wanted else WarmWorkers(None)
