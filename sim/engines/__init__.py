"""The engines a run can use, by name: ``des`` (the SimPy engine, the default), ``vector``, ``reference`` and ``auto``.

Every engine keeps one contract (:mod:`.contract`): a ``name``, whether it ``forecasts`` (starts
from a running trial's state), ``unsupported(model)`` naming the field it cannot simulate, and
either ``histories`` (the chunk analyses them, :mod:`.chunk`) or ``run_chunk``. ``auto`` is the
vector engine whenever it can simulate the model (:func:`choose_engine`), else the SimPy engine;
``docs/engines.md`` says what each engine does and what the vector engine refuses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..model.history import HistoryBatch
from ..model.trial_model import TrialModel
from .chunk import run_chunk
from .contract import (
    ChunkEngine,
    Engine,
    EngineError,
    HistoryEngine,
    ReplicateEngine,
    ReplicateFunction,
    RunPlan,
    as_engine,
    refuse,
    replicate_seeds,
)

__all__ = [
    "AUTO_ENGINE",
    "AutoEngine",
    "ChunkEngine",
    "DEFAULT_ENGINE",
    "ENGINES",
    "Engine",
    "EngineError",
    "HistoryEngine",
    "ReplicateEngine",
    "ReplicateFunction",
    "RunPlan",
    "as_engine",
    "choose_engine",
    "refuse",
    "replicate_seeds",
    "resolve_engine",
    "run_chunk",
]

DEFAULT_ENGINE = "des"

ENGINES: dict[str, tuple[str, str]] = {
    "des": ("sim.engines.des", "DES_ENGINE"),
    "vector": ("sim.engines.vector", "VECTOR_ENGINE"),
    "reference": ("sim.engines.reference", "REFERENCE_ENGINE"),
    "auto": ("sim.engines", "AUTO_ENGINE"),
}
"""Each engine's name and where it lives (module, attribute), imported only when asked for."""


def resolve_engine(engine: str | Engine | ReplicateFunction) -> Engine:
    """The engine named ``engine`` (one of :data:`ENGINES`), or ``engine`` itself (a function made an engine)."""
    if not isinstance(engine, str):
        return as_engine(engine)
    if engine not in ENGINES:
        raise EngineError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    module, attribute = ENGINES[engine]
    found: Engine = getattr(importlib.import_module(module), attribute)
    return found


def choose_engine(model: TrialModel) -> str:
    """``vector`` when the vector engine can simulate ``model`` (forecasts included), else ``des``."""
    return "des" if resolve_engine("vector").unsupported(model) is not None else "vector"


@dataclass(frozen=True)
class AutoEngine:
    """A history engine that simulates each chunk with :func:`choose_engine`'s engine for the model.

    The choice depends on the model alone, which the checkpoint fingerprint holds, so ``auto``
    names its results as surely as ``vector`` or ``des`` would.
    """

    name: str = "auto"
    forecasts: bool = True

    def unsupported(self, model: TrialModel) -> str | None:
        """None: the SimPy engine takes whatever the vector engine cannot."""
        return None

    def engine_for(self, model: TrialModel) -> str:
        """The engine's name that simulates ``model`` (:func:`choose_engine`)."""
        return choose_engine(model)

    def histories(self, model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
        """Replicates ``start..stop-1`` from the engine chosen for ``model``."""
        chosen = resolve_engine(self.engine_for(model))
        assert isinstance(chosen, HistoryEngine)  # des and vector both hand back histories
        return chosen.histories(model, seed, start, stop)


AUTO_ENGINE = AutoEngine()
"""The ``auto`` engine."""
