"""The engines a run can use, by name: ``des`` (the SimPy engine, the default), ``vector`` and ``reference``."""

from __future__ import annotations

import importlib

from .run_plan import Engine

__all__ = ["DEFAULT_ENGINE", "ENGINES", "EngineError", "resolve_engine"]

DEFAULT_ENGINE = "des"

ENGINES: dict[str, tuple[str, str]] = {
    "des": ("sim.engine", "simulate_trial"),
    "vector": ("sim.vector_engine", "VECTOR_ENGINE"),
    "reference": ("sim.reference_engine", "REFERENCE_ENGINE"),
}
"""Each engine's name and where it lives (module, attribute), imported only when asked for."""


class EngineError(ValueError):
    """An engine was asked for by a name no engine has, or cannot run this model."""


def resolve_engine(engine: str | Engine) -> Engine:
    """The engine named ``engine`` (one of :data:`ENGINES`), or ``engine`` itself when it is one."""
    if not isinstance(engine, str):
        return engine
    if engine not in ENGINES:
        raise EngineError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    module, attribute = ENGINES[engine]
    found: Engine = getattr(importlib.import_module(module), attribute)
    return found
