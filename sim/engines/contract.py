"""The engine contract: what every replicate of a run shares, and the two shapes an engine takes.

A *history engine* simulates a span of replicates into a :class:`~sim.model.history.HistoryBatch`
(``histories(model, seed, start, stop)``); :mod:`.chunk` then analyses and tabulates it, the same
code for every such engine (SimPy, vector). A *chunk engine* does the whole span itself, its own
analysis included, and hands back the tables (``run_chunk(plan, start, stop)``): the reference
engine, whose independence requires it. Either way an engine has a ``name`` (what checkpoints and
the summary call it), says whether it can start from a forecast's trial state (``forecasts``) and
says why it cannot simulate a model (``unsupported``) before anything is dispatched or written.
Replicate ``i`` draws only from :func:`replicate_seeds`'s child ``i`` (or from a seed layout the
engine documents that does not depend on the chunking).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ..analysis.batch import response_test
from ..analysis.records import ChunkTables
from ..errors import TrialsimError
from ..model.history import HistoryBatch, TrialHistory
from ..model.trial_model import TrialModel
from ..stats.proportions import ResponseRateTest

__all__ = [
    "ChunkEngine",
    "Engine",
    "EngineError",
    "HistoryEngine",
    "ReplicateEngine",
    "ReplicateFunction",
    "RunPlan",
    "as_engine",
    "most_analysed",
    "refuse",
    "replicate_seeds",
]


class EngineError(ValueError, TrialsimError):
    """An engine was asked for by a name no engine has, or cannot run this model (the field named)."""


@runtime_checkable
class HistoryEngine(Protocol):
    """Simulates a span of replicates; the chunk analyses what it hands back."""

    @property
    def name(self) -> str:
        """What checkpoints, the summary and ``--engine`` call the engine."""
        ...

    @property
    def forecasts(self) -> bool:
        """Whether it starts from a forecast's trial state (``model.start``)."""
        ...

    def unsupported(self, model: TrialModel) -> str | None:
        """Why this engine cannot simulate ``model``, naming the field, or None when it can."""
        ...

    def histories(self, model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
        """Replicates ``start..stop-1`` of the run with root ``seed``, stacked."""
        ...


@runtime_checkable
class ChunkEngine(Protocol):
    """Simulates and analyses a span of replicates itself."""

    @property
    def name(self) -> str:
        """What checkpoints, the summary and ``--engine`` call the engine."""
        ...

    @property
    def forecasts(self) -> bool:
        """Whether it starts from a forecast's trial state (``model.start``)."""
        ...

    def unsupported(self, model: TrialModel) -> str | None:
        """Why this engine cannot simulate ``model``, naming the field, or None when it can."""
        ...

    def run_chunk(self, plan: RunPlan, start: int, stop: int) -> ChunkTables:
        """The conformed tables of replicates ``start..stop-1`` (see :mod:`sim.analysis.records`)."""
        ...


Engine = HistoryEngine | ChunkEngine
"""Either engine shape; :func:`sim.engines.resolve_engine` also takes an engine's name."""

ReplicateFunction = Callable[[TrialModel, np.random.SeedSequence], TrialHistory]
"""A function that simulates one replicate from its seed; :class:`ReplicateEngine` makes it an engine."""


@dataclass(frozen=True)
class ReplicateEngine:
    """A history engine from a function that simulates one replicate (a user's variant of the model).

    It is named by the callable's own ``name`` attribute when it has one (so two variants of one
    class tell themselves apart), else by its import path (a ``functools.partial`` by its function
    and arguments), so checkpoints never mix two engines; the SimPy engine's own
    :func:`~sim.engines.des.simulate_trial` is ``des``, whose replicates it draws. It starts no
    forecast.
    """

    simulate: ReplicateFunction

    @property
    def name(self) -> str:
        """The callable's ``name``, else its import path with a partial's arguments."""
        return _function_name(self.simulate)

    @property
    def forecasts(self) -> bool:
        """False: a function handed a forecast's model would ignore the trial's state."""
        return False

    def unsupported(self, model: TrialModel) -> str | None:
        """A replicate function is handed every model; it cannot start a forecast (it would ignore the state)."""
        if model.start is not None:
            return f"the engine {self.name} cannot start from a forecast's trial state; use the des engine"
        return None

    def histories(self, model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
        """Each replicate's history from its own seed, stacked."""
        return HistoryBatch.from_histories([self.simulate(model, s) for s in replicate_seeds(seed, start, stop)])


def as_engine(engine: Engine | ReplicateFunction) -> Engine:
    """``engine`` itself when it keeps the contract, else a function made a :class:`ReplicateEngine`."""
    if isinstance(engine, (HistoryEngine, ChunkEngine)):
        return engine
    if callable(engine):
        return ReplicateEngine(engine)
    raise EngineError(f"an engine must have name, forecasts, unsupported and histories or run_chunk; got {engine!r}")


def refuse(engine: Engine, model: TrialModel) -> None:
    """Raise :class:`EngineError` with the engine's reason when it cannot simulate ``model``."""
    reason = engine.unsupported(model)
    if reason is not None:
        raise EngineError(reason)


_REGISTERED = {"sim.engines.des.simulate_trial": "des"}
"""Functions that draw exactly what a registered engine draws, by that engine's name."""


def _function_name(function: Callable[..., object]) -> str:
    """A callable's ``name`` attribute, else its import path (a partial's with its arguments)."""
    given = getattr(function, "name", None)
    if isinstance(given, str) and given:
        return given
    if isinstance(function, functools.partial):
        return f"{_function_name(function.func)}{function.args!r}{sorted(function.keywords.items())!r}"
    named = function if hasattr(function, "__qualname__") else type(function)
    path = f"{named.__module__}.{named.__qualname__}"
    return _REGISTERED.get(path, path)


MOST_TABULATED = 100
"""The largest count a run's driver tabulates the test for: about 5,000 (k, n) pairs, 140 kB in every task
sent to a worker. A larger trial's chunks compute their counts' values themselves."""


@dataclass(frozen=True)
class RunPlan:
    """What every replicate of a run shares: the model, the root seed, the engine and what to keep.

    ``driver`` is the process that dispatches the chunks; workers watch it (see
    :func:`sim.runs.dispatch.watch_parent`). ``response_test`` is the analysis's test; with the
    exact interval the driver tabulates it for every count a replicate can analyse
    (:func:`most_analysed`, at most :data:`MOST_TABULATED`), so that the workers read every
    p-value and interval from its tables and never import ``scipy.stats``. The other intervals
    cost a root search per (k, n), too many to tabulate ahead: each chunk tabulates the counts it meets.
    """

    model: TrialModel
    seed: int
    engine: Engine
    keep_patients: bool = False
    driver: int = field(default_factory=os.getpid)
    response_test: ResponseRateTest = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        test = response_test(self.model.scenario.analysis)
        if test.method == "exact":  # one call of each kernel; other intervals solve for each (k, n) alone
            test.tabulate_through(min(most_analysed(self.model), MOST_TABULATED))
        object.__setattr__(self, "response_test", test)

    def fingerprint(self, chunk_size: int) -> str:
        """Identifies the settings a checkpoint folder's chunks were computed with."""
        text = repr((self.model.identity, self.seed, chunk_size, self.keep_patients, self.engine.name))
        return hashlib.sha256(text.encode()).hexdigest()


def most_analysed(model: TrialModel) -> int:
    """The most patients a replicate usually analyses: the sample size, twice it when losses are replaced.

    Twice is what the vector engine draws up front; either engine may replace beyond it, rarely,
    and such a count is computed where it occurs (:func:`sim.stats.proportions_batch.response_tests`).
    """
    trial = model.scenario.trial
    return trial.sample_size * (2 if trial.replace_non_evaluable else 1)


def replicate_seeds(seed: int, start: int, stop: int) -> list[np.random.SeedSequence]:
    """The seeds of replicates ``start..stop-1``: child ``i`` of ``SeedSequence(seed)``.

    Equal to ``SeedSequence(seed).spawn(stop)[start:stop]`` without spawning the ones before.
    """
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key + (i,)) for i in range(start, stop)]
