"""Run many replicates in parallel, reproducibly, with progress and resumable checkpoints.

One root ``SeedSequence(seed)`` is spawned into one child per replicate before anything is
dispatched, and replicate ``i`` always uses child ``i``; so the result is the same for any
``n_jobs``, chunk size or joblib backend, and a longer run extends a shorter one.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from . import __version__
from .checkpoints import CheckpointError, Checkpoints, ChunkTables, code_fingerprint
from .dispatch import BackendError, Dispatch
from .engines import DEFAULT_ENGINE, EngineError, resolve_engine
from .run_plan import Engine, RunPlan, engine_name, replicate_seeds
from .scenario import load_scenario
from .scenario.model import Scenario
from .summary import OperatingCharacteristics
from .trial_model import TrialModel

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "BackendError",
    "CheckpointError",
    "Engine",
    "EngineError",
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


def _chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive spans of at most ``chunk_size`` replicates covering ``start..stop-1``."""
    return [(s, min(s + chunk_size, stop)) for s in range(start, stop, chunk_size)]


def run(
    scenario: Scenario | TrialModel | str | Path,
    replicates: int = DEFAULT_REPLICATES,
    seed: int = DEFAULT_SEED,
    n_jobs: int | None = None,
    *,
    engine: str | Engine = DEFAULT_ENGINE,
    chunk_size: int | None = None,
    keep_patients: bool = False,
    progress: bool | None = None,
    checkpoint_dir: str | Path | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
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
    engine : an engine's name (``"des"``, ``"vector"``, ``"reference"``; see :mod:`sim.engines`) or
        an engine itself (see :mod:`sim.run_plan` for the two shapes an engine takes).
    chunk_size : replicates per dispatched task (default 250). Results do not depend on it.
    keep_patients : also return one row per patient and cutoff (memory grows with replicates).
    progress : show a progress bar; None shows it on an interactive terminal only.
    on_progress : called with the number of replicates each time some are finished or reused, so
        that a caller running several scenarios (a grid) can keep one progress bar of its own.
    checkpoint_dir : save each finished chunk there and reuse chunks already saved (same settings
        and code only; see :mod:`sim.checkpoints`).
    restart : discard the checkpoints already in ``checkpoint_dir`` instead of reusing them.
    backend : a joblib backend name (e.g. "loky", "threading", "dask"); None for joblib's setting.
    scheduler : with ``backend="dask"``, the address of the Dask scheduler to run on.
    mcse_target : keep adding batches of ``replicates`` until the MCSE of power is at most this
        (or ``max_replicates`` is reached). The same seed always stops at the same count.
    """
    _check_settings(replicates, seed, chunk_size, mcse_target, max_replicates)
    replicates, seed = int(replicates), int(seed)
    chunk = DEFAULT_CHUNK if chunk_size is None else int(chunk_size)
    model = _trial_model(scenario)
    plan = RunPlan(model=model, seed=seed, engine=resolve_engine(engine), keep_patients=keep_patients)
    store = (
        Checkpoints(Path(checkpoint_dir), plan.fingerprint(chunk), code_fingerprint(), __version__, restart)
        if checkpoint_dir is not None
        else None
    )
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
            parts += _simulate_spans(plan, spans, Dispatch(n_jobs, backend, scheduler), store, advance)
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


def _simulate_spans(
    plan: RunPlan,
    spans: list[tuple[int, int]],
    dispatch: Dispatch,
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
