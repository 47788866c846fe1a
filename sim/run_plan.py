"""What every replicate of a run shares, and how an engine is plugged in.

An engine comes in one of two shapes. A *replicate engine* is a function
``engine(model, seed) -> TrialHistory`` that simulates one replicate (the SimPy engine); the
runner observes and analyses each history. A *chunk engine* is an object with
``run_chunk(plan, start, stop) -> ChunkTables`` that simulates and analyses replicates
``start..stop-1`` itself (an engine that works on many replicates at once, or one with its own
observation code). Either way replicate ``i`` draws only from :func:`replicate_seeds`'s child ``i``
(or from a seed layout the engine documents that does not depend on the chunking).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from .checkpoints import ChunkTables
from .history import TrialHistory
from .trial_model import TrialModel

__all__ = ["ChunkEngine", "Engine", "EngineError", "ReplicateEngine", "RunPlan", "engine_name", "replicate_seeds"]


class EngineError(ValueError):
    """An engine was asked for by a name no engine has, or cannot run this model (the field named)."""

ReplicateEngine = Callable[[TrialModel, np.random.SeedSequence], TrialHistory]
"""Simulates one replicate from its seed: ``engine(model, seed) -> TrialHistory``."""


@runtime_checkable
class ChunkEngine(Protocol):
    """Simulates and analyses a span of replicates at once; ``name`` identifies it in checkpoints."""

    name: str

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """The conformed tables of replicates ``start..stop-1`` (see :mod:`sim.records`)."""
        ...


Engine = ReplicateEngine | ChunkEngine
"""Either engine shape; :func:`sim.engines.resolve_engine` also takes an engine's name."""


@dataclass(frozen=True)
class RunPlan:
    """What every replicate of a run shares: the model, the root seed, the engine and what to keep.

    ``driver`` is the process that dispatches the chunks; workers watch it (see
    :func:`sim.dispatch.watch_parent`).
    """

    model: TrialModel
    seed: int
    engine: Engine
    keep_patients: bool = False
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
        text = repr((self.model.identity, self.seed, chunk_size, self.keep_patients, self.engine_name))
        return hashlib.sha256(text.encode()).hexdigest()


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
