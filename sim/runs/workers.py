"""Loky worker processes: the watch that ends them with their driver, and starting them early.

A worker imports trialsim's simulation code (numpy, scipy, pandas, the engines) when its first
task arrives, which takes about as long as the driver's own imports. :func:`start_workers`, called
by the command line before it imports anything heavy, starts the workers and has each import that
code while the driver does the same. joblib keeps one loky executor per process and hands it to
the next ``joblib.Parallel`` that asks for the same number of workers with the same initializer,
so the run (:class:`sim.runs.dispatch.Dispatch`) finds them ready. This module imports nothing of
trialsim's simulation code, so the driver pays nothing for it before the workers start.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

__all__ = ["WarmWorkers", "start_workers", "watch_parent"]

_WATCHER = "trialsim-parent-watch"

WORKER_MODULES = ("sim.runs.dispatch", "sim.engines.des", "sim.engines.vector")
"""What a worker needs for any chunk of any engine, imported while the driver starts."""


def watch_parent(driver: int, parent: int | None = None) -> None:
    """In a worker process, exit as soon as the process that started it is gone.

    A worker whose run was killed (SIGKILL leaves no chance to shut it down) is re-parented and
    would otherwise compute, or block on a full pipe, for ever. One daemon thread per process,
    found by its name, polls the parent process id once a second. ``parent`` is the process to
    outlive, by default this process's parent now: a loky worker names the driver, so that it
    also exits when the driver died while it was starting. A Dask worker of a ``LocalCluster`` is
    a child of the driver too; on a remote cluster the parent is its nanny.
    """
    if os.getpid() == driver or any(t.name == _WATCHER for t in threading.enumerate()):
        return
    parent = os.getppid() if parent is None else parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name=_WATCHER, daemon=True).start()


def import_worker_modules() -> int:
    """In a worker: import what any chunk needs (:data:`WORKER_MODULES`); the worker's process id."""
    for module in WORKER_MODULES:
        importlib.import_module(module)
    return os.getpid()


@dataclass
class WarmWorkers:
    """Workers started ahead of a run; :meth:`finish` waits for their imports (joblib cancels them if dropped)."""

    pending: Generator[int, None, None] | None

    def finish(self) -> None:
        """Wait until every worker has imported the simulation code (at once if none was started)."""
        if self.pending is not None:
            for _ in self.pending:
                pass
            self.pending = None

    def close(self) -> None:
        """Let the workers finish their imports before the command ends, whatever happened to it.

        A task joblib has sent cannot be withdrawn cleanly: loky's manager thread fails on its
        result. A worker that died has nothing left to wait for.
        """
        try:
            self.finish()
        except Exception:  # whatever the executor of a dead worker raises: the command has ended anyway
            self.pending = None


def start_workers(n_jobs: int) -> WarmWorkers:
    """Start the ``n_jobs`` loky workers a run with ``n_jobs`` will use, each importing the simulation code.

    They are started exactly as :class:`sim.runs.dispatch.Dispatch` asks for them (same number,
    same initializer and arguments), which is what lets joblib reuse them. Returns at once.
    """
    import joblib

    driver = os.getpid()
    parallel = joblib.Parallel(
        n_jobs=n_jobs,
        backend="loky",
        return_as="generator_unordered",
        initializer=watch_parent,
        initargs=(driver, driver),
    )
    return WarmWorkers(parallel(joblib.delayed(import_worker_modules)() for _ in range(n_jobs)))
