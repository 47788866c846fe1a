"""Before a run starts: what makes a scenario useless to simulate, and whether the run would take hours.

A command warns about a scenario the planning figures say cannot work, and times a short pilot
before a long run so that a run of hours needs ``--yes`` and says how long it will take.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from ..model.planning import planning_figures
from ..model.trial_model import TrialModel
from .options import UsageError

__all__ = ["LONG_RUN_SECONDS", "PILOT_REPLICATES", "TIMED_FROM", "add_yes_argument", "check_duration", "warn_about"]


LONG_RUN_SECONDS = 3600.0
"""A run estimated to take longer than this needs ``--yes``."""

PILOT_REPLICATES = 250
"""Replicates timed, in this process after a short warm-up, to estimate a long run's duration (one vector block)."""

TIMED_FROM = 100_000
"""Trials to simulate from which the duration is estimated before starting (below, a run takes minutes)."""


def add_yes_argument(p: argparse.ArgumentParser) -> None:
    """``--yes``: start a run estimated to take more than an hour."""
    p.add_argument("--yes", action="store_true", help="start even when the run is estimated to take over an hour")


def check_duration(model: TrialModel, trials: int, args: argparse.Namespace, default_engine: str) -> None:
    """Estimate a run of ``trials`` replicates of models like ``model`` by timing a pilot; refuse over an hour
    without ``--yes`` (saying how long and why), and say the estimate above a few minutes."""
    if trials < TIMED_FROM:
        return
    from ..runs.runner import run  # noqa: PLC0415 (the pilot only: most commands never need it here)

    engine = default_engine if args.engine is None else args.engine
    run(model, replicates=10, seed=1, n_jobs=1, engine=engine, progress=False)  # imports and first-call costs
    started = time.perf_counter()
    run(model, replicates=PILOT_REPLICATES, seed=2, n_jobs=1, engine=engine, progress=False)
    per_trial = (time.perf_counter() - started) / PILOT_REPLICATES
    workers = (os.cpu_count() or 1) if args.jobs == -1 else max(1, args.jobs or 1)
    seconds = trials * per_trial / workers
    words = (
        f"about {seconds / 3600:.1f} hours" if seconds >= 3600 else f"about {max(1, round(seconds / 60))} minutes"
    )
    estimate = f"{trials:,} simulated trials take {words} on {workers} worker(s) (timed on {PILOT_REPLICATES})"
    if seconds > LONG_RUN_SECONDS and not args.yes:
        raise UsageError(f"{estimate}; add --yes to start it, or ask for fewer --replicates")
    if seconds > 300:
        print(f"trialsim: {estimate}", file=sys.stderr)


def warn_about(model: TrialModel) -> None:
    """Print on stderr what makes ``model`` useless to simulate (:func:`sim.model.planning.planning_figures`)."""
    for warning in planning_figures(model).warnings:
        print(f"trialsim: warning: {warning}", file=sys.stderr)
