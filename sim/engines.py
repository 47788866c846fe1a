"""The engines a run can use, by name: ``des`` (the SimPy engine, the default), ``vector``, ``reference`` and ``auto``.

``auto`` is the vector engine whenever it can simulate the model (:func:`choose_engine`), else the
SimPy engine; ``trialsim oc`` and ``sweep`` use it by default, since a grid's cells may differ in
what they need. ``docs/engines.md`` says what each engine does and what the vector engine refuses.
"""

from __future__ import annotations

import dataclasses
import importlib

from .checkpoints import ChunkTables
from .chunk import run_chunk
from .run_plan import Engine, RunPlan, engine_name
from .trial_model import TrialModel
from .vector_engine import EngineError, unsupported

__all__ = [
    "AUTO_ENGINE",
    "AutoEngine",
    "DEFAULT_ENGINE",
    "ENGINES",
    "EngineError",
    "choose_engine",
    "engine_label",
    "resolve_engine",
]

DEFAULT_ENGINE = "des"

ENGINES: dict[str, tuple[str, str]] = {
    "des": ("sim.engine", "simulate_trial"),
    "vector": ("sim.vector_engine", "VECTOR_ENGINE"),
    "reference": ("sim.reference_engine", "REFERENCE_ENGINE"),
    "auto": ("sim.engines", "AUTO_ENGINE"),
}
"""Each engine's name and where it lives (module, attribute), imported only when asked for."""


def resolve_engine(engine: str | Engine) -> Engine:
    """The engine named ``engine`` (one of :data:`ENGINES`), or ``engine`` itself when it is one."""
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise EngineError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    module, attribute = ENGINES[engine]
    found: Engine = getattr(importlib.import_module(module), attribute)
    return found


def engine_label(engine: Engine) -> str:
    """The name :data:`ENGINES` gives ``engine`` (``des`` for ``simulate_trial`` itself), else :func:`engine_name`'s."""
    named = engine_name(engine)
    by_path = {f"{module}.{attribute}": name for name, (module, attribute) in ENGINES.items()}
    return by_path.get(named, named)


def choose_engine(model: TrialModel) -> str:
    """``vector`` when the vector engine can simulate ``model``, else ``des`` (replacement, a forecast's state)."""
    return "des" if unsupported(model) is not None else "vector"


@dataclasses.dataclass(frozen=True)
class AutoEngine:
    """A chunk engine that runs each chunk with :func:`choose_engine`'s engine for the plan's model.

    The choice depends on the model alone, which the checkpoint fingerprint holds, so ``auto``
    names its results as surely as ``vector`` or ``des`` would.
    """

    name: str = "auto"

    def engine_for(self, model: TrialModel) -> str:
        """The engine's name that simulates ``model`` (:func:`choose_engine`)."""
        return choose_engine(model)

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """Replicates ``start..stop-1`` from the engine chosen for ``plan.model``."""
        chosen = resolve_engine(self.engine_for(plan.model))
        return run_chunk(dataclasses.replace(plan, engine=chosen), start, stop)


AUTO_ENGINE = AutoEngine()
"""The ``auto`` engine."""
