"""Run many replicates in parallel, reproducibly, with progress and resumable checkpoints.

One root ``SeedSequence(seed)`` is spawned into one child per replicate before anything is
dispatched, and replicate ``i`` always uses child ``i``; so the result is the same for any
``n_jobs``, chunk size or joblib backend, and a longer run extends a shorter one.
"""

from __future__ import annotations

import functools
import hashlib
import io
import numbers
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from . import __version__
from .analyse import analyse_replicate, response_test
from .checkpoints import CheckpointError, Checkpoints, ChunkTables, code_fingerprint, read_parquet
from .engine import simulate_trial
from .history import TrialHistory
from .records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, Column, arrow_table, conform
from .scenario import load_scenario
from .scenario.model import Scenario
from .summary import OperatingCharacteristics
from .tables import look_table, patient_table
from .trial_model import TrialModel

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "CheckpointError",
    "Engine",
    "RunError",
    "RunPlan",
    "RunResult",
    "engine_name",
    "replicate_seeds",
    "run",
]

DEFAULT_SEED = 20251115
"""The root seed when none is given: the day ChiCTR2500111736 opened."""

DEFAULT_CHUNK = 250

MAX_REPLICATES = 10_000_000
"""Most replicates one run may ask for (also the cap of ``max_replicates``); far beyond any MCSE need."""
"""Replicates per dispatched task when no chunk size is given."""

DEFAULT_REPLICATES = 1000
"""Replicates of a run when none are asked for."""

Engine = Callable[[TrialModel, np.random.SeedSequence], TrialHistory]
"""An engine simulates one replicate from its seed: ``engine(model, seed) -> TrialHistory``."""


class RunError(ValueError):
    """A run was asked for with an invalid setting (replicates, seed, chunk size)."""


@dataclass(frozen=True)
class RunResult:
    """A finished run: the operating characteristics and the tables they come from.

    ``looks`` has one row per replicate and interim look (empty without monitoring); ``notes``
    says what the run did beyond simulating: first, when ``reused_chunks`` > 0, that it resumed
    from checkpoints, then each damaged chunk it recomputed. ``chunk_size`` is the replicates per
    task it ran with (results do not depend on it, but checkpoints do).
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

    def _repr_html_(self) -> str:
        return self.summary.table().to_html(index=False)


@dataclass(frozen=True)
class RunPlan:
    """What every replicate of a run shares: the model, the root seed, the engine and what to keep.

    ``driver`` is the process that dispatches the chunks; workers watch it (see ``_watch_parent``).
    """

    model: TrialModel
    seed: int
    keep_patients: bool = False
    engine: Engine = simulate_trial
    driver: int = field(default_factory=os.getpid)

    @property
    def engine_name(self) -> str:
        """What identifies the engine in checkpoints: its ``name`` attribute, else its import path.

        A ``functools.partial`` is named by its function and arguments; give an engine object a
        ``name`` to tell its variants apart.
        """
        return engine_name(self.engine)

    def fingerprint(self, chunk_size: int) -> str:
        """Identifies the settings a checkpoint folder's chunks were computed with."""
        text = repr((self.model.scenario, self.seed, chunk_size, self.keep_patients, self.engine_name))
        return hashlib.sha256(text.encode()).hexdigest()

    def checkpoints(self, folder: Path, chunk_size: int, restart: bool) -> Checkpoints:
        """The run's checkpoint folder, refused if it holds chunks of other settings or code."""
        return Checkpoints(folder, self.fingerprint(chunk_size), code_fingerprint(), __version__, restart)


def engine_name(engine: Engine) -> str:
    """An engine's ``name`` attribute, or the import path of its function (with a partial's arguments)."""
    given = getattr(engine, "name", None)
    if isinstance(given, str):
        return given
    if isinstance(engine, functools.partial):
        return f"{engine_name(engine.func)}{engine.args!r}{sorted(engine.keywords.items())!r}"
    named = engine if hasattr(engine, "__qualname__") else type(engine)
    return f"{named.__module__}.{named.__qualname__}"


def replicate_seeds(seed: int, start: int, stop: int) -> list[np.random.SeedSequence]:
    """The seeds of replicates ``start..stop-1``: child ``i`` of ``SeedSequence(seed)``.

    Equal to ``SeedSequence(seed).spawn(stop)[start:stop]`` without spawning the ones before.
    """
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (i,)) for i in range(start, stop)]


_WATCHER = "trialsim-parent-watch"


def _watch_parent(driver: int) -> None:
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


def _run_chunk(plan: RunPlan, start: int, stop: int) -> ChunkTables:
    """Simulate and analyse replicates ``start..stop-1``."""
    _watch_parent(plan.driver)
    model = plan.model
    test = response_test(model.scenario.analysis)
    rows: list[dict[str, Any]] = []
    monitored: list[tuple[int, TrialHistory]] = []
    patients: list[pd.DataFrame] = []
    for i, ss in zip(range(start, stop), replicate_seeds(plan.seed, start, stop)):
        history = plan.engine(model, ss)
        row, primary, final = analyse_replicate(history, model, test)
        rows.append({"replicate": i, **row})
        if history.looks:
            monitored.append((i, history))
        if plan.keep_patients:
            patients.append(patient_table(history, model, primary, i, "primary"))
            patients.append(patient_table(history, model, final, i, "final"))
    return ChunkTables(
        replicates=conform(_as_stored(pd.DataFrame(rows), REPLICATE_COLUMNS), REPLICATE_COLUMNS),
        looks=conform(_as_stored(look_table(monitored, model), LOOK_COLUMNS), LOOK_COLUMNS),
        patients=conform(_as_stored(pd.concat(patients, ignore_index=True), PATIENT_COLUMNS), PATIENT_COLUMNS)
        if plan.keep_patients
        else None,
    )


def _as_stored(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """The frame exactly as parquet gives it back, so fresh and resumed chunks have equal dtypes."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return read_parquet(buffer)


def _chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive spans of at most ``chunk_size`` replicates covering ``start..stop-1``."""
    return [(s, min(s + chunk_size, stop)) for s in range(start, stop, chunk_size)]


def run(
    scenario: Scenario | TrialModel | str | Path,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    n_jobs: int | None = None,
    *,
    engine: Engine = simulate_trial,
    chunk_size: int | None = None,
    keep_patients: bool = False,
    progress: bool | None = None,
    checkpoint_dir: str | Path | None = None,
    backend: str | None = None,
    mcse_target: float | None = None,
    max_replicates: int = 1_000_000,
    restart: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Simulate ``replicates`` trials of ``scenario`` and summarise their operating characteristics.

    Parameters
    ----------
    scenario : a validated scenario, the trial model already built from one, or a scenario file or
        shipped scenario's name (loaded as it is).
    n_jobs : worker processes (joblib; -1 for all cores); None takes joblib's setting, so a
        ``joblib.parallel_config(...)`` context applies (1 without one). Results do not depend on it.
    engine : the function that simulates one replicate (``engine(model, seed) -> TrialHistory``).
    chunk_size : replicates per dispatched task (default 250). Results do not depend on it.
    keep_patients : also return one row per patient and cutoff (memory grows with replicates).
    progress : show a progress bar; None shows it on an interactive terminal only.
    on_progress : called with the number of replicates each time some are finished or reused, so
        that a caller running several scenarios (a grid) can keep one progress bar of its own.
    checkpoint_dir : save each finished chunk there and reuse chunks already saved (same settings
        and code only; see :mod:`sim.checkpoints`).
    restart : discard the checkpoints already in ``checkpoint_dir`` instead of reusing them.
    backend : a joblib backend name (e.g. "loky", "threading", "dask"); None for joblib's setting.
    mcse_target : keep adding batches of ``replicates`` until the MCSE of power is at most this
        (or ``max_replicates`` is reached). The same seed always stops at the same count.
    """
    _check_settings(replicates, seed, chunk_size, mcse_target, max_replicates)
    replicates, seed = int(replicates), int(seed)
    chunk = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    model = _trial_model(scenario)
    plan = RunPlan(model=model, seed=seed, keep_patients=keep_patients, engine=engine)
    store = plan.checkpoints(Path(checkpoint_dir), chunk, restart) if checkpoint_dir is not None else None
    bar = tqdm(total=replicates, disable=(None if progress is None else not progress), unit="rep", desc="replicates")

    def advance(done: int) -> None:
        bar.update(done)
        if on_progress is not None:
            on_progress(done)

    parts: list[ChunkTables] = []
    total = 0
    try:
        while True:
            stop = min(total + replicates, max_replicates) if total else replicates
            spans = _chunks(total, stop, chunk)
            parts += _simulate_spans(plan, spans, _Dispatch(n_jobs, backend), store, advance)
            total = stop
            if mcse_target is None or total >= max_replicates:
                break
            flags = pd.concat([p.replicates["reject_h0"] for p in parts]).to_numpy(dtype=bool)
            if _stopping_mcse(flags) <= mcse_target:
                break
            bar.total = min(total + replicates, max_replicates)
            bar.refresh()
    finally:
        bar.close()
    table = pd.concat([p.replicates for p in parts], ignore_index=True)
    looks = pd.concat([p.looks for p in parts], ignore_index=True)
    patients = pd.concat([p.patients for p in parts], ignore_index=True) if keep_patients else None
    summary = OperatingCharacteristics.from_replicates(table, model.scenario)
    return RunResult(
        scenario=model.scenario,
        seed=seed,
        summary=summary,
        replicates=table,
        looks=looks,
        patients=patients,
        notes=_notes(store, len(_chunks(0, total, chunk))),
        chunk_size=chunk,
        reused_chunks=store.reused if store is not None else 0,
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


def _check_settings(
    replicates: int, seed: int, chunk_size: int | None, mcse_target: float | None, max_replicates: int
) -> None:
    """Refuse settings a run cannot use, naming the setting and what it allows."""
    if not isinstance(replicates, numbers.Integral) or not 1 <= replicates <= MAX_REPLICATES:
        raise RunError(f"replicates must be a whole number from 1 to {MAX_REPLICATES}, got {replicates!r}")
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise RunError(f"seed must be a non-negative whole number, got {seed!r}")
    if chunk_size is not None and (not isinstance(chunk_size, numbers.Integral) or chunk_size < 1):
        raise RunError(f"chunk_size must be a whole number of at least 1, got {chunk_size!r}")
    if mcse_target is not None and not 0 < mcse_target < 0.5:
        raise RunError(f"mcse_target must be in (0, 0.5), got {mcse_target!r}")
    if max_replicates < replicates:
        raise RunError(f"max_replicates ({max_replicates}) must be at least replicates ({replicates})")


@dataclass(frozen=True)
class _Dispatch:
    """How chunks are sent to workers: joblib with these settings (None: joblib's own configuration)."""

    n_jobs: int | None
    backend: str | None

    def __call__(self, plan: RunPlan, spans: list[tuple[int, int]]) -> Iterator[ChunkTables]:
        """Chunk tables in submission order, as they finish."""
        # never more workers than chunks: 256 workers for two chunks only cost start-up and memory
        n_jobs = max(1, min(self.n_jobs, len(spans))) if self.n_jobs is not None and self.n_jobs > 0 else self.n_jobs
        parallel = joblib.Parallel(n_jobs=n_jobs, backend=self.backend, return_as="generator")
        yield from parallel(joblib.delayed(_run_chunk)(plan, a, b) for a, b in spans)


def _simulate_spans(
    plan: RunPlan,
    spans: list[tuple[int, int]],
    dispatch: _Dispatch,
    store: Checkpoints | None,
    advance: Callable[[int], None],
) -> list[ChunkTables]:
    """The chunks ``spans``, reusing checkpoints and saving new chunks as they finish; ``advance`` counts replicates."""
    results = {span: store.load(*span, plan.keep_patients) for span in spans} if store else {}
    advance(sum(b - a for (a, b), value in results.items() if value is not None))
    todo = [span for span in spans if results.get(span) is None]
    for span, tables in zip(todo, dispatch(plan, todo)):
        if store is not None:
            store.save(*span, tables)
        results[span] = tables
        advance(span[1] - span[0])
    return [results[span] for span in spans]  # type: ignore[misc]
