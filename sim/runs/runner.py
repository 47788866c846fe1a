"""Run many replicates in parallel, reproducibly, with progress and resumable checkpoints.

One root ``SeedSequence(seed)`` is spawned into one child per replicate before anything is
dispatched, and replicate ``i`` always uses child ``i``; chunks come back in whatever order they
finish and are put back in replicate order. So the result is the same for any ``n_jobs``, chunk
size or backend (a Dask cluster included), and a longer run extends a shorter one. Several
scenarios with the same settings (a grid's cells) run together with :func:`run_many`: their
chunks go to the workers as one stream of scenario x chunk tasks, and each scenario's result is
what :func:`run` gives for it alone.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..analysis.records import ChunkTables
from ..analysis.summary import OperatingCharacteristics
from ..engines import (
    AutoEngine,
    Engine,
    EngineError,
    RunPlan,
    refuse,
    replicate_seeds,
    resolve_engine,
)
from ..model.trial_model import TrialModel
from ..scenario import load_scenario
from ..scenario.model import Scenario
from ..version import __version__
from .checkpoints import CheckpointError, Checkpoints, code_fingerprint
from .dispatch import BackendError, ChunkTask, Dispatch
from .settings import (
    DEFAULT_CHUNK,
    DEFAULT_REPLICATES,
    DEFAULT_SEED,
    MAX_REPLICATES,
    RunError,
    RunSettings,
    settings_with,
)

__all__ = [
    "MAX_REPLICATES",
    "RunSettings",
    "DEFAULT_CHUNK",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "BackendError",
    "CheckpointError",
    "Engine",
    "EngineError",
    "Progress",
    "ProgressBar",
    "RunError",
    "RunPlan",
    "RunResult",
    "replicate_seeds",
    "run",
    "run_many",
]


@dataclass(frozen=True)
class RunResult:
    """A finished run: the operating characteristics and the tables they come from.

    ``looks`` has one row per replicate and interim look (empty without monitoring); ``notes``
    says what the run did beyond simulating: first, when ``reused_chunks`` > 0, that it resumed
    from checkpoints, then each damaged chunk it recomputed. ``chunk_size`` is the replicates per
    task it ran with (results do not depend on it, but checkpoints do); ``engine`` the engine that
    simulated the replicates (for ``auto``, the one it chose for this scenario; empty when not known).
    """

    scenario: Scenario
    seed: int
    summary: OperatingCharacteristics
    replicates: pd.DataFrame
    looks: pd.DataFrame
    patients: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    chunk_size: int = DEFAULT_CHUNK
    reused_chunks: int = 0
    engine: str = ""

    def _repr_html_(self) -> str:
        return self.summary.table().to_html(index=False)


class ProgressBar:
    """One progress bar over the runs of :func:`run_many`; its total follows each run's target.

    Call it with each :class:`Progress`; ``also`` hears the replicates done too. It shows when
    ``settings.progress`` says so (None: on an interactive terminal only). Use it as a context
    manager, so the bar is closed however the runs end.
    """

    def __init__(
        self, runs: int, settings: RunSettings, label: str, also: Callable[[int], None] | None = None
    ) -> None:
        self._targets = [settings.replicates] * runs
        hidden = None if settings.progress is None else not settings.progress
        self._bar = tqdm(total=sum(self._targets), disable=hidden, unit="rep", desc=label)
        self._also = also

    def __call__(self, step: Progress) -> None:
        """Count replicates just finished or reused, and follow the run's target."""
        self._targets[step.run] = step.target
        if self._bar.total != sum(self._targets):
            self._bar.total = sum(self._targets)
            self._bar.refresh()
        self._bar.update(step.done)
        if self._also is not None:
            self._also(step.done)

    def describe(self, label: str) -> None:
        """Say what is running now (a grid names its cell)."""
        self._bar.set_description(label)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def _chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive spans of at most ``chunk_size`` replicates covering ``start..stop-1``."""
    return [(s, min(s + chunk_size, stop)) for s in range(start, stop, chunk_size)]


@dataclass(frozen=True)
class Progress:
    """Replicates one run of :func:`run_many` has just finished or reused, and how many it aims at so far.

    ``run`` is the run's index among the scenarios; ``target`` grows by a batch each time
    ``mcse_target`` asks for more replicates.
    """

    run: int
    done: int
    target: int


@dataclass
class _Run:
    """One run's state inside :func:`run_many`: its plan, checkpoints, finished chunks and replicate target."""

    plan: RunPlan
    store: Checkpoints | None
    target: int
    parts: dict[tuple[int, int], ChunkTables] = field(default_factory=dict)
    simulated: int = 0

    def missing(self, chunk_size: int) -> list[tuple[int, int]]:
        """The spans up to the target that are neither finished nor reused yet."""
        return [span for span in _chunks(self.simulated, self.target, chunk_size) if span not in self.parts]


def run(
    scenario: Scenario | TrialModel | str | Path,
    settings: RunSettings | None = None,
    *,
    on_progress: Callable[[int], None] | None = None,
    **changes: Any,
) -> RunResult:
    """Simulate ``settings.replicates`` trials of ``scenario`` and summarise their operating characteristics.

    ``scenario`` is a validated scenario, the trial model already built from one, or a scenario
    file or shipped scenario's name (loaded as it is). ``settings`` says how (:class:`RunSettings`:
    replicates, seed, engine, workers, checkpoints, ...); keyword ``changes`` amend it, so
    ``run(scenario, replicates=5000, seed=1)`` needs no record. ``on_progress`` is called with the
    number of replicates each time some are finished or reused, so a caller can keep a progress
    bar of its own. Results do not depend on the workers, the chunk size or the backend.
    """
    settings = settings_with(settings, changes)
    with ProgressBar(1, settings, "replicates", on_progress) as bar:
        results = run_many([scenario], settings.without_checkpoints(), [settings.checkpoint_dir], bar)
        with contextlib.closing(results):  # then stops the workers (a local Dask cluster takes a moment)
            return next(results)[1]


def run_many(
    scenarios: Sequence[Scenario | TrialModel | str | Path],
    settings: RunSettings,
    checkpoint_dirs: Sequence[str | Path | None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> Generator[tuple[int, RunResult], None, None]:
    """Simulate several scenarios with the same settings, their chunks dispatched together.

    Every scenario's chunks go to the workers as one stream of scenario x chunk tasks (in scenario
    order), so a grid keeps every worker busy until its last chunk rather than waiting for the
    slowest chunk of each scenario. Yields each scenario's index and :class:`RunResult` as soon as
    that run is finished (a run resumed entirely from checkpoints first); each result equals what
    :func:`run` gives for that scenario alone. ``checkpoint_dirs`` gives each scenario its own
    folder (or None; ``settings.checkpoint_dir`` is for a single run and must be None here), and
    ``on_progress`` receives a :class:`Progress` each time replicates are finished or reused.
    """
    if settings.checkpoint_dir is not None:
        raise RunError("run_many takes one checkpoint folder per scenario (checkpoint_dirs), not checkpoint_dir")
    folders = list(checkpoint_dirs) if checkpoint_dirs is not None else [None] * len(scenarios)
    if len(folders) != len(scenarios):
        raise RunError(f"checkpoint_dirs must give one folder (or None) per scenario, got {len(folders)}")
    resolved, code, chunk = resolve_engine(settings.engine), code_fingerprint(), settings.chunk_size
    plans = [
        RunPlan(model=_trial_model(s), seed=settings.seed, engine=resolved, keep_patients=settings.keep_patients)
        for s in scenarios
    ]
    for plan in plans:  # every scenario loads and every engine accepts its model before any folder is touched
        refuse(resolved, plan.model)
    runs: dict[int, _Run] = {}
    try:
        for index, (plan, folder) in enumerate(zip(plans, folders)):
            fingerprint, restart = plan.fingerprint(chunk), settings.restart
            store = None if folder is None else Checkpoints(Path(folder), fingerprint, code, __version__, restart)
            runs[index] = _Run(plan, store, settings.replicates)
    except CheckpointError:
        _abandon(runs.values())  # a later folder refused: no folder made for the earlier runs is left empty
        raise
    try:
        with Dispatch(settings.n_jobs, settings.backend, settings.scheduler) as dispatch:
            while runs:
                for index in _simulate_batch(runs, chunk, dispatch, on_progress):
                    state = runs[index]
                    state.simulated = state.target
                    more = _next_target(state, settings)
                    if more is None:
                        del runs[index]
                        yield index, _result(state, chunk, _engine_used(state.plan))
                    else:
                        state.target = more
    except BackendError:
        _abandon(runs.values())  # a backend refused before any chunk: no empty checkpoint folder is left
        raise


def _abandon(runs: Iterable[_Run]) -> None:
    """Undo the checkpoint folders of runs that never ran a chunk (:meth:`Checkpoints.abandon`)."""
    for state in runs:
        if state.store is not None:
            state.store.abandon()


def _next_target(state: _Run, settings: RunSettings) -> int | None:
    """The run's next replicate target when ``mcse_target`` asks for another batch, else None (it is done)."""
    mcse_target, max_replicates = settings.mcse_target, settings.max_replicates
    if mcse_target is None or state.simulated >= max_replicates:
        return None
    flags = pd.concat([tables.replicates["reject_h0"] for tables in state.parts.values()]).to_numpy(dtype=bool)
    if _stopping_mcse(flags) <= mcse_target:
        return None
    return min(state.simulated + settings.replicates, max_replicates)


def _engine_used(plan: RunPlan) -> str:
    """The name of the engine that simulates ``plan``: its own, or the one ``auto`` picks for the model."""
    if isinstance(plan.engine, AutoEngine):
        return plan.engine.engine_for(plan.model)
    return plan.engine.name


def _result(state: _Run, chunk_size: int, engine: str) -> RunResult:
    """A finished run's tables, in replicate order, and the operating characteristics they give."""
    parts = [state.parts[span] for span in sorted(state.parts)]
    table = pd.concat([p.replicates for p in parts], ignore_index=True)
    looks = pd.concat([p.looks for p in parts], ignore_index=True)
    patients = pd.concat([p.patients for p in parts], ignore_index=True) if state.plan.keep_patients else None
    model = state.plan.model
    return RunResult(
        scenario=model.scenario,
        seed=state.plan.seed,
        summary=OperatingCharacteristics.from_replicates(table, model.scenario, looks),
        replicates=table,
        looks=looks,
        patients=patients,
        notes=_notes(state.store, len(parts)),
        chunk_size=chunk_size,
        reused_chunks=state.store.reused if state.store is not None else 0,
        engine=engine,
    )


def _notes(store: Checkpoints | None, chunks: int) -> tuple[str, ...]:
    """What the checkpoints did: chunks reused, damaged ones recomputed."""
    if store is None:
        return ()
    resumed = [f"resumed: reused {store.reused} of {chunks} chunks from {store.folder}"] if store.reused else []
    return (*resumed, *store.notes)


def _trial_model(scenario: Scenario | TrialModel | str | Path) -> TrialModel:
    """The trial model of a scenario, a model already built, or a scenario file or shipped name."""
    if isinstance(scenario, TrialModel):
        return scenario
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario)
    if not isinstance(scenario, Scenario):
        raise RunError(f"scenario must be a Scenario, a TrialModel or a scenario file or name, got {scenario!r}")
    return TrialModel.from_scenario(scenario)


def _stopping_mcse(flags: np.ndarray) -> float:
    """A power MCSE that cannot be 0 by luck: p is shrunk to (k + 0.5) / (R + 1).

    The plain binomial MCSE is 0 when no (or every) replicate rejects, which would stop
    ``mcse_target`` after the first batch however small it is.
    """
    shrunk = (flags.sum() + 0.5) / (flags.size + 1.0)
    return float(np.sqrt(shrunk * (1.0 - shrunk) / flags.size))


def _simulate_batch(
    runs: dict[int, _Run], chunk_size: int, dispatch: Dispatch, on_progress: Callable[[Progress], None] | None
) -> Iterator[int]:
    """Bring every run to its target: reuse checkpoints, dispatch the rest, save chunks as they finish.

    Yields each run's index once all its chunks up to the target are in, so that the caller can
    summarise it (and free its tables) while other runs' chunks are still being computed.
    """

    def advance(index: int, done: int) -> None:
        if on_progress is not None:
            on_progress(Progress(index, done, runs[index].target))

    tasks: list[tuple[int, tuple[int, int]]] = []
    for index, state in list(runs.items()):
        spans = state.missing(chunk_size)
        reused = {span: state.store.load(*span, state.plan.keep_patients) for span in spans} if state.store else {}
        state.parts.update((span, tables) for span, tables in reused.items() if tables is not None)
        advance(index, sum(b - a for (a, b), tables in reused.items() if tables is not None))
        missing = state.missing(chunk_size)
        tasks += [(index, span) for span in missing]
        if not missing:
            yield index  # resumed whole: summarised (and its tables freed) before the next run's are read
    waiting = collections.Counter(index for index, _ in tasks)
    chunk_tasks = [ChunkTask(runs[index].plan, *span) for index, span in tasks]
    for number, tables in dispatch(chunk_tasks):
        index, span = tasks[number]
        state = runs[index]
        if state.store is not None:
            state.store.save(*span, tables)
        state.parts[span] = tables
        advance(index, span[1] - span[0])
        waiting[index] -= 1
        if not waiting[index]:
            yield index
