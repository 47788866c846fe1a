"""How chunks reach workers: joblib with the run's settings, a Dask cluster, and workers that die with their driver.

Every backend goes through ``joblib.Parallel``, so loky processes, threads and a Dask cluster run
the same task and a ``joblib.parallel_config(...)`` context applies when no backend is given.
Results come back as each task finishes (``return_as="generator_unordered"``), so the driver saves
a chunk's checkpoint and advances the progress bar as soon as that chunk is done, whatever the
order. ``backend="dask"`` uses joblib's Dask backend with a ``distributed.Client`` of its own: on
the scheduler at ``scheduler``, or on a ``distributed.LocalCluster`` of worker processes started
on first use (a run resumed entirely from checkpoints starts none). A worker that dies mid-task
costs only time: the Dask scheduler gives its task to another worker. Before the first task the
workers' trialsim source is compared with the driver's, because workers running other code would
break both reproducibility and the checkpoints' promise (see ``docs/cluster.md``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

import joblib
from joblib.parallel import LokyBackend, get_active_backend

from ..analysis.records import ChunkTables
from ..engines.chunk import run_chunk
from ..engines.contract import RunPlan
from ..errors import TrialsimError
from .checkpoints import code_fingerprint
from .workers import watch_parent

__all__ = ["INSTALL_HINT", "BackendError", "ChunkTask", "Dispatch", "watch_parent"]

INSTALL_HINT = 'the dask backend needs the dask extra: pip install "trialsim[dask]"'
"""What ``backend="dask"`` says when Dask is not installed."""


class BackendError(ValueError, TrialsimError):
    """A backend cannot be used here (not installed, or a scheduler that cannot be reached)."""


@dataclass(frozen=True)
class ChunkTask:
    """One dispatched task: replicates ``start..stop-1`` of the run ``plan``."""

    plan: RunPlan
    start: int
    stop: int


def _task(index: int, plan: RunPlan, start: int, stop: int) -> tuple[int, ChunkTables]:
    """One chunk in a worker, returned with its task's index (results arrive in any order)."""
    watch_parent(plan.driver)
    return index, run_chunk(plan, start, stop)


def _indexed(index: int, function: Callable[..., Any], arguments: tuple[Any, ...]) -> tuple[int, Any]:
    """``function(*arguments)`` with ``index``, so results that finish in any order can be put back in order."""
    return index, function(*arguments)


def _distributed() -> ModuleType:
    """The ``distributed`` package, or a BackendError saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise BackendError(INSTALL_HINT) from None
    return distributed


def _local_workers(n_jobs: int | None, tasks: int) -> int:
    """Worker processes of a local cluster: ``n_jobs`` (all cores when None or -1), never more than tasks."""
    wanted = n_jobs if n_jobs is not None and n_jobs > 0 else (os.cpu_count() or 1)
    return max(1, min(wanted, tasks))


def _check_address(distributed: ModuleType, address: str) -> None:
    """Refuse an address Dask cannot parse before a client is made (a half-made client hangs on exit)."""
    try:
        distributed.comm.get_address_host_port(address)
    except ValueError as exc:
        raise BackendError(
            f"{address} is not a Dask scheduler address ({exc}); give one like tcp://127.0.0.1:8786"
        ) from None


def _check_workers(client: Any, address: str) -> None:
    """Refuse a cluster whose workers cannot import trialsim, or run other trialsim source than the driver."""
    try:
        found = client.run(code_fingerprint)
    except Exception as exc:  # whatever unpickling or importing raised on a worker
        raise BackendError(
            f"the Dask workers at {address} cannot run trialsim ({type(exc).__name__}: {exc}); "
            "install the same trialsim on every worker"
        ) from None
    other = sorted(worker for worker, code in found.items() if code != code_fingerprint())
    if other:
        raise BackendError(
            f"the Dask workers {', '.join(other)} run other trialsim source than this driver; "
            "install the same trialsim on every worker, so that results do not depend on the worker"
        )


class Dispatch:
    """Sends chunk tasks to workers and yields their tables as they finish; a context manager for the workers.

    ``n_jobs`` and ``backend`` go to joblib (None: joblib's own configuration, so a
    ``joblib.parallel_config(...)`` context applies). With ``backend="dask"``, tasks run on the
    Dask scheduler at ``scheduler``, or without one on a ``distributed.LocalCluster`` of ``n_jobs``
    single-threaded worker processes (all cores when None or -1); the client and the cluster are
    made on first use and closed when the ``with`` block ends.
    """

    def __init__(self, n_jobs: int | None, backend: str | None, scheduler: str | None = None) -> None:
        if scheduler is not None and backend != "dask":
            raise BackendError(f"scheduler is a Dask scheduler's address and needs backend='dask', got {backend!r}")
        if backend == "dask":
            _distributed()  # say how to install it before anything is computed
        self.n_jobs = n_jobs
        self.backend = backend
        self.scheduler = scheduler
        self._open = contextlib.ExitStack()
        self._client: Any = None

    def __enter__(self) -> Dispatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._client = None
        self._open.close()

    def __call__(self, tasks: Sequence[ChunkTask]) -> Iterator[tuple[int, ChunkTables]]:
        """Each task's index in ``tasks`` and its tables, as the tasks finish (in any order)."""
        if not tasks:
            return
        calls = (joblib.delayed(_task)(i, t.plan, t.start, t.stop) for i, t in enumerate(tasks))
        yield from self._parallel(len(tasks))(calls)

    def map(self, function: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``function(*a)`` for each ``a`` of ``arguments``, in order, on this dispatch's workers.

        For work before a run that splits as chunks do (a forecast's likelihood, patient by patient).
        On loky it goes to the same workers, which joblib then hands on to the run; a Dask dispatch
        without a scheduler starts a local cluster of its own.
        """
        calls = (joblib.delayed(_indexed)(i, function, a) for i, a in enumerate(arguments))
        # as many workers as the run will want, however few the tasks: loky would end the others
        width = max(len(arguments), self.n_jobs if self.n_jobs is not None and self.n_jobs > 0 else 1)
        found = dict(self._parallel(width)(calls)) if arguments else {}
        return [found[i] for i in range(len(arguments))]

    def _parallel(self, tasks: int) -> joblib.Parallel:
        """A joblib.Parallel that returns results as they finish, on this dispatch's workers."""
        if self.backend == "dask":
            with joblib.parallel_config(backend="dask", client=self._connect(tasks)):
                return joblib.Parallel(return_as="generator_unordered")
        # never more workers than chunks: 256 workers for two chunks only cost start-up and memory
        n_jobs = max(1, min(self.n_jobs, tasks)) if self.n_jobs is not None and self.n_jobs > 0 else self.n_jobs
        if self._loky():
            # every worker watches the driver from its start, also one that never gets a task
            return joblib.Parallel(
                n_jobs=n_jobs,
                backend="loky",
                return_as="generator_unordered",
                initializer=watch_parent,
                initargs=(os.getpid(), os.getpid()),
            )
        return joblib.Parallel(n_jobs=n_jobs, backend=self.backend, return_as="generator_unordered")

    def _loky(self) -> bool:
        """Whether the tasks go to loky's worker processes: named, or joblib's backend in effect."""
        if self.backend is not None:
            return self.backend == "loky"
        active, _ = get_active_backend()
        return isinstance(active, LokyBackend)

    def _connect(self, tasks: int) -> Any:
        """The Dask client, made on first use: connected to ``scheduler``, or to a local cluster started here."""
        if self._client is not None:
            return self._client
        distributed = _distributed()
        if self.scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=_local_workers(self.n_jobs, tasks),
                threads_per_worker=1,  # the engines are pure Python: one process per core, no GIL sharing
                processes=True,
                dashboard_address=":0",  # any free port: never clash with another cluster's 8787
            )
            target, address = self._open.enter_context(cluster), "a local cluster"
        else:
            target, address = self.scheduler, self.scheduler
            _check_address(distributed, address)
        try:
            client = self._open.enter_context(distributed.Client(target, set_as_default=False))
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        # a batch queue may take a while to start the first worker; joblib alone would give up after 10 s
        client.wait_for_workers(1)
        _check_workers(client, address)
        self._client = client
        return client
