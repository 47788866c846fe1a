"""Run many replicates in parallel, reproducibly, with progress and resumable checkpoints.

One root ``SeedSequence(seed)`` is spawned into one child per replicate before anything is
dispatched, and replicate ``i`` always uses child ``i``; so the result is the same for any
``n_jobs``, chunk size or joblib backend, and a longer run extends a shorter one.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .analyse import ResponseTest, analyse_replicate
from .engine import simulate_trial
from .scenario.model import Scenario
from .summary import OperatingCharacteristics
from .tables import patient_table
from .trial_model import TrialModel

__all__ = ["RunResult", "run", "replicate_seeds", "CheckpointError", "RunError"]

DEFAULT_CHUNK = 250


class RunError(ValueError):
    """A run was asked for with an invalid setting (replicates, seed, chunk size)."""


class CheckpointError(RunError):
    """A checkpoint folder belongs to another run; nothing in it is touched."""


@dataclass(frozen=True)
class RunResult:
    """A finished run: the operating characteristics and the tables they come from."""

    scenario: Scenario
    seed: int
    summary: OperatingCharacteristics
    replicates: pd.DataFrame
    patients: pd.DataFrame | None = None

    def __str__(self) -> str:
        return self.summary.to_text()

    def _repr_html_(self) -> str:
        return self.summary.table().to_html(index=False)


def replicate_seeds(seed: int, start: int, stop: int) -> list[np.random.SeedSequence]:
    """The seeds of replicates ``start..stop-1``: child ``i`` of ``SeedSequence(seed)``.

    Equal to ``SeedSequence(seed).spawn(stop)[start:stop]`` without spawning the ones before.
    """
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (i,)) for i in range(start, stop)]


def _run_chunk(
    model: TrialModel, seed: int, start: int, stop: int, keep_patients: bool
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Simulate and analyse replicates ``start..stop-1``."""
    test = ResponseTest(model.scenario.analysis)
    rows: list[dict[str, Any]] = []
    patients: list[pd.DataFrame] = []
    for i, ss in zip(range(start, stop), replicate_seeds(seed, start, stop)):
        history = simulate_trial(model, ss)
        row, primary, final = analyse_replicate(history, model, test)
        rows.append({"replicate": i, **row})
        if keep_patients:
            patients.append(patient_table(history, model, primary, i, "primary"))
            patients.append(patient_table(history, model, final, i, "final"))
    table = _as_stored(pd.DataFrame(rows))
    return table, (_as_stored(pd.concat(patients, ignore_index=True)) if keep_patients else None)


def _as_stored(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame exactly as parquet gives it back, so fresh and resumed chunks have equal dtypes."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    buffer.seek(0)
    return _read(buffer)


def _read(source: Path | io.BytesIO) -> pd.DataFrame:
    """Read parquet without Arrow's thread pool: its threads could abort the interpreter at exit."""
    return pd.read_parquet(source, use_threads=False)


def _fingerprint(scenario: Scenario, seed: int, chunk_size: int, keep_patients: bool) -> str:
    """Identifies what a checkpoint folder's chunks were computed from."""
    text = repr((scenario, seed, chunk_size, keep_patients))
    return hashlib.sha256(text.encode()).hexdigest()


class _Checkpoints:
    """Chunk results saved as parquet files, so an interrupted run resumes where it stopped."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.folder = folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"{folder}: cannot create the checkpoint folder: {exc.strerror}") from None
        manifest = folder / "manifest.json"
        if manifest.exists():
            found = json.loads(manifest.read_text()).get("fingerprint")
            if found != fingerprint:
                raise CheckpointError(
                    f"{folder} holds chunks of a different scenario, seed, chunk size or --keep-patients "
                    "setting; choose another output folder or remove it"
                )
        else:
            manifest.write_text(json.dumps({"fingerprint": fingerprint}))

    def _paths(self, start: int, stop: int) -> tuple[Path, Path]:
        stem = f"chunk-{start:09d}-{stop:09d}"
        return self.folder / f"{stem}.parquet", self.folder / f"{stem}.patients.parquet"

    def load(self, start: int, stop: int, keep_patients: bool) -> tuple[pd.DataFrame, pd.DataFrame | None] | None:
        table, patients = self._paths(start, stop)
        if not table.exists() or (keep_patients and not patients.exists()):
            return None
        return _read(table), (_read(patients) if keep_patients else None)

    def save(self, start: int, stop: int, result: tuple[pd.DataFrame, pd.DataFrame | None]) -> None:
        table, patients = self._paths(start, stop)
        if result[1] is not None:
            _atomic_parquet(result[1], patients)
        _atomic_parquet(result[0], table)


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write then rename, so a killed run never leaves a half-written chunk behind."""
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


def _chunks(start: int, stop: int, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive spans of at most ``chunk_size`` replicates covering ``start..stop-1``."""
    return [(s, min(s + chunk_size, stop)) for s in range(start, stop, chunk_size)]


def run(
    scenario: Scenario,
    replicates: int = 1000,
    seed: int = 20251115,
    n_jobs: int = 1,
    *,
    chunk_size: int | None = None,
    keep_patients: bool = False,
    progress: bool | None = None,
    checkpoint_dir: str | Path | None = None,
    backend: str | None = None,
    mcse_target: float | None = None,
    max_replicates: int = 1_000_000,
) -> RunResult:
    """Simulate ``replicates`` trials of ``scenario`` and summarise their operating characteristics.

    Parameters
    ----------
    n_jobs : worker processes (joblib; -1 for all cores). Results do not depend on it.
    chunk_size : replicates per dispatched task (default 250). Results do not depend on it.
    keep_patients : also return one row per patient and cutoff (memory grows with replicates).
    progress : show a progress bar; None shows it on an interactive terminal only.
    checkpoint_dir : save each finished chunk there and reuse chunks already saved.
    backend : a joblib backend name (e.g. "loky", "threading", "dask"); None for joblib's default.
    mcse_target : keep adding batches of ``replicates`` until the MCSE of power is at most this
        (or ``max_replicates`` is reached). The same seed always stops at the same count.
    """
    _check_settings(replicates, seed, chunk_size, mcse_target, max_replicates)
    chunk = DEFAULT_CHUNK if chunk_size is None else chunk_size
    model = TrialModel.from_scenario(scenario)
    store = None
    if checkpoint_dir is not None:
        store = _Checkpoints(Path(checkpoint_dir), _fingerprint(scenario, seed, chunk, keep_patients))
    bar = tqdm(total=replicates, disable=(None if progress is None else not progress), unit="rep", desc="replicates")
    parts: list[tuple[pd.DataFrame, pd.DataFrame | None]] = []
    total = 0
    try:
        while True:
            stop = min(total + replicates, max_replicates) if total else replicates
            parts += _simulate_range(model, seed, total, stop, chunk, keep_patients, n_jobs, backend, store, bar)
            total = stop
            if mcse_target is None or total >= max_replicates:
                break
            flags = pd.concat([p[0]["reject_h0"] for p in parts]).to_numpy(dtype=bool)
            if _stopping_mcse(flags) <= mcse_target:
                break
            bar.total = min(total + replicates, max_replicates)
            bar.refresh()
    finally:
        bar.close()
    table = pd.concat([p[0] for p in parts], ignore_index=True)
    patients = pd.concat([p[1] for p in parts], ignore_index=True) if keep_patients else None
    summary = OperatingCharacteristics.from_replicates(table, scenario)
    return RunResult(scenario=scenario, seed=seed, summary=summary, replicates=table, patients=patients)


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
    if not isinstance(replicates, int) or replicates < 1:
        raise RunError(f"replicates must be a whole number of at least 1, got {replicates!r}")
    if not isinstance(seed, int) or seed < 0:
        raise RunError(f"seed must be a non-negative whole number, got {seed!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise RunError(f"chunk_size must be a whole number of at least 1, got {chunk_size!r}")
    if mcse_target is not None and not 0 < mcse_target < 0.5:
        raise RunError(f"mcse_target must be in (0, 0.5), got {mcse_target!r}")
    if max_replicates < replicates:
        raise RunError(f"max_replicates ({max_replicates}) must be at least replicates ({replicates})")


def _simulate_range(
    model: TrialModel,
    seed: int,
    start: int,
    stop: int,
    chunk: int,
    keep_patients: bool,
    n_jobs: int,
    backend: str | None,
    store: _Checkpoints | None,
    bar: Any,
) -> list[tuple[pd.DataFrame, pd.DataFrame | None]]:
    """Replicates ``start..stop-1`` in chunks, reusing checkpoints and saving new chunks."""
    spans = _chunks(start, stop, chunk)
    results = {span: store.load(*span, keep_patients) for span in spans} if store else {}
    bar.update(sum(b - a for (a, b), value in results.items() if value is not None))
    todo = [span for span in spans if results.get(span) is None]
    for span, result in zip(todo, _dispatch(model, seed, todo, keep_patients, n_jobs, backend)):
        if store is not None:
            store.save(*span, result)
        results[span] = result
        bar.update(span[1] - span[0])
    return [results[span] for span in spans]  # type: ignore[misc]


def _dispatch(
    model: TrialModel, seed: int, spans: list[tuple[int, int]], keep_patients: bool, n_jobs: int, backend: str | None
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame | None]]:
    """Chunk results in submission order, as they finish."""
    if n_jobs == 1 and backend is None:
        for start, stop in spans:
            yield _run_chunk(model, seed, start, stop, keep_patients)
        return
    parallel = joblib.Parallel(n_jobs=n_jobs, backend=backend, return_as="generator")
    yield from parallel(joblib.delayed(_run_chunk)(model, seed, a, b, keep_patients) for a, b in spans)
