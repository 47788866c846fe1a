"""How replicates are run, as one record: every command and library call that simulates takes it.

:class:`RunSettings` holds what :func:`sim.run`, :func:`sim.runs.runner.run_many`, the grids
(:mod:`sim.runs.sweep`), the forecast and the design search share: how many replicates, the seed,
the engine and where the work runs. Results depend only on ``replicates``, ``seed``, ``engine``
and ``keep_patients`` (and ``mcse_target``); the rest changes how fast and where. Each setting is
checked when the record is built, and an error names it with what it allows.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engines import DEFAULT_ENGINE, Engine, ReplicateFunction, resolve_engine
from ..errors import TrialsimError

__all__ = [
    "BACKENDS",
    "DEFAULT_CHUNK",
    "DEFAULT_REPLICATES",
    "DEFAULT_SEED",
    "MAX_REPLICATES",
    "RunError",
    "RunSettings",
    "settings_with",
]

DEFAULT_SEED = 20251115
"""The root seed when none is given: the day ChiCTR2500111736 opened."""

DEFAULT_CHUNK = 250
"""Replicates per dispatched task when no chunk size is given."""

MAX_REPLICATES = 10_000_000
"""Most replicates one run may ask for (also the cap of ``max_replicates``); far beyond any MCSE need."""

DEFAULT_REPLICATES = 1000
"""Replicates of a run when none are asked for."""

BACKENDS = ("loky", "threading", "multiprocessing", "sequential", "dask")
"""The joblib backends a run may name (``dask`` with the ``trialsim[dask]`` extra)."""


class RunError(ValueError, TrialsimError):
    """A run was asked for with an invalid setting (replicates, seed, chunk size, ...), the setting named."""


@dataclass(frozen=True)
class RunSettings:
    """How to run replicates; the same record for a single run, a grid, a forecast and a design search.

    ``n_jobs``: worker processes (joblib; -1 for all cores); None takes joblib's setting, so a
    ``joblib.parallel_config(...)`` context applies. ``backend``: a joblib backend ("loky",
    "threading", or "dask" with the ``trialsim[dask]`` extra); ``scheduler``: with Dask, the
    scheduler's address (none starts a ``distributed.LocalCluster``). ``progress``: show a progress
    bar (None: on an interactive terminal only). ``checkpoint_dir``: where finished chunks are kept
    so an interrupted run resumes (a run's own folder; a grid, forecast or search keeps one
    subfolder per run in it); ``restart`` discards what is there. ``mcse_target``: add batches of
    ``replicates`` until the MCSE of power is at most this, up to ``max_replicates``.
    """

    replicates: int = DEFAULT_REPLICATES
    seed: int = DEFAULT_SEED
    engine: str | Engine | ReplicateFunction = DEFAULT_ENGINE
    keep_patients: bool = False
    n_jobs: int | None = None
    chunk_size: int = DEFAULT_CHUNK
    backend: str | None = None
    scheduler: str | None = None
    progress: bool | None = None
    checkpoint_dir: Path | None = None
    restart: bool = False
    mcse_target: float | None = None
    max_replicates: int = 1_000_000

    def __post_init__(self) -> None:
        _whole("replicates", self.replicates, 1, MAX_REPLICATES)
        _whole("seed", self.seed, 0, None)
        _whole("chunk_size", self.chunk_size, 1, None)
        _whole("max_replicates", self.max_replicates, 1, MAX_REPLICATES)
        if self.mcse_target is not None and not (
            isinstance(self.mcse_target, numbers.Real) and 0 < self.mcse_target < 0.5
        ):
            raise RunError(f"mcse_target must be in (0, 0.5), got {self.mcse_target!r}")
        if self.mcse_target is not None and self.max_replicates < self.replicates:
            raise RunError(f"max_replicates ({self.max_replicates}) must be at least replicates ({self.replicates})")
        if self.n_jobs is not None and (not isinstance(self.n_jobs, numbers.Integral) or self.n_jobs == 0):
            raise RunError(f"n_jobs must be a whole number other than 0 (-1: every core), got {self.n_jobs!r}")
        for name in ("keep_patients", "restart", "progress"):
            value = getattr(self, name)
            if not isinstance(value, bool) and not (name == "progress" and value is None):
                allowed = "true, false or None (on a terminal only)" if name == "progress" else "true or false"
                raise RunError(f"{name} must be {allowed}, got {value!r}")
        if self.backend is not None and self.backend not in BACKENDS:
            allowed = ", ".join(BACKENDS)
            raise RunError(f"backend must be one of {allowed} (or None: joblib's own), got {self.backend!r}")
        if self.checkpoint_dir is not None and not str(self.checkpoint_dir).strip():
            raise RunError("checkpoint_dir must name a folder (or be None for no checkpoints), got an empty path")
        resolve_engine(self.engine)  # an unknown engine name is refused here, naming the engines there are
        object.__setattr__(self, "replicates", int(self.replicates))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "chunk_size", int(self.chunk_size))
        if self.checkpoint_dir is not None:
            object.__setattr__(self, "checkpoint_dir", Path(self.checkpoint_dir))


    def without_checkpoints(self) -> RunSettings:
        """These settings with no checkpoint folder: a caller that runs several runs gives each its own."""
        return dataclasses.replace(self, checkpoint_dir=None)


def settings_with(settings: RunSettings | None, changes: dict[str, Any]) -> RunSettings:
    """``settings`` (default: :class:`RunSettings`'s defaults) with ``changes`` applied, each one checked.

    A change of ``None`` for ``chunk_size`` leaves it as ``settings`` has it (the command line
    passes None for an option it was not given); an unknown name is refused with the names there are.
    """
    if settings is not None and not isinstance(settings, RunSettings):
        raise RunError(
            f"settings must be a RunSettings (give replicates, seed, ... by keyword), got {type(settings).__name__}"
        )
    names = [f.name for f in dataclasses.fields(RunSettings)]
    unknown = sorted(set(changes) - set(names))
    if unknown:
        raise RunError(f"unknown run setting {', '.join(unknown)}; the settings are {', '.join(names)}")
    given = {k: v for k, v in changes.items() if not (k == "chunk_size" and v is None)}
    return dataclasses.replace(settings if settings is not None else RunSettings(), **given)


def _whole(name: str, value: object, least: int, most: int | None) -> None:
    """Refuse ``value`` unless it is a whole number in ``least..most``, naming the setting."""
    whole = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if whole and least <= int(value) and (most is None or int(value) <= most):  # type: ignore[call-overload]
        return
    if least == 0:
        raise RunError(f"{name} must be a non-negative whole number, got {value!r}")
    allowed = f"from {least} to {most}" if most is not None else f"of at least {least}"
    raise RunError(f"{name} must be a whole number {allowed}, got {value!r}")
