"""How chunks reach workers: joblib with the run's settings, and workers that die with their driver."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import joblib

from .checkpoints import ChunkTables
from .chunk import run_chunk
from .run_plan import RunPlan

__all__ = ["BackendError", "Dispatch", "watch_parent"]

_WATCHER = "trialsim-parent-watch"


class BackendError(ValueError):
    """A backend cannot be used here (not installed, or a scheduler that cannot be reached)."""


def watch_parent(driver: int) -> None:
    """In a worker process, exit as soon as the process that started it is gone.

    A worker whose run was killed (SIGKILL leaves no chance to shut it down) is re-parented and
    would otherwise compute, or block on a full pipe, for ever. One daemon thread per process,
    found by its name, polls the parent process id once a second.
    """
    if os.getpid() == driver or any(t.name == _WATCHER for t in threading.enumerate()):
        return
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name=_WATCHER, daemon=True).start()


def _task(plan: RunPlan, start: int, stop: int) -> ChunkTables:
    """One chunk in a worker."""
    watch_parent(plan.driver)
    return run_chunk(plan, start, stop)


@dataclass(frozen=True)
class Dispatch:
    """How chunks are sent to workers: joblib with these settings (None: joblib's own configuration).

    ``scheduler`` is the address of a Dask scheduler for ``backend="dask"``.
    """

    n_jobs: int | None
    backend: str | None
    scheduler: str | None = None

    def __call__(self, plan: RunPlan, spans: list[tuple[int, int]]) -> Iterator[ChunkTables]:
        """Chunk tables in submission order, as they finish."""
        # never more workers than chunks: 256 workers for two chunks only cost start-up and memory
        n_jobs = max(1, min(self.n_jobs, len(spans))) if self.n_jobs is not None and self.n_jobs > 0 else self.n_jobs
        parallel = joblib.Parallel(n_jobs=n_jobs, backend=self.backend, return_as="generator")
        yield from parallel(joblib.delayed(_task)(plan, a, b) for a, b in spans)
