"""The vectorised engine: recruitment, enrollment, interim looks and analysis of many replicates in numpy.

The SimPy engine runs one replicate at a time, event by event. Everything that interacts in a
trial can also be computed for a whole chunk of replicates at once, with the SimPy engine's rules:

* **Arrivals** (:mod:`.arrivals`): each site's screening arrivals by thinning, with the SimPy
  engine's rate pieces, and the screening draws of each arrival.
* **Enrollment to a fixed target and interim looks** (:mod:`.enrollment`), in closed form: the
  first ``sample_size`` eligible decisions while recruitment is open; looks in order, each
  changing only what comes after it (a futility stop closes recruitment, a paused look skips what
  arrives and is decided during the pause).
* **Replacement of non-evaluable patients** (:mod:`.replacement`): the target moves with each loss,
  so replicates take their k-th enrollment together, step by step; interim looks are settled in
  the same steps (:mod:`.lockstep_looks`).
* **Patients**: the latent model (:mod:`sim.model.patient_model`) and the journey (:mod:`sim.model.journey`)
  are the SimPy engine's own, and so is the analysis: the chunk analyses every engine's batch
  (:mod:`sim.engines.chunk`).

What it cannot express it refuses with an :class:`EngineError` naming the field
(:mod:`.refusals`). The seed layout, and the one under which it reproduces the SimPy engine's
histories replicate by replicate, are in :mod:`.layout`; ``docs/engines.md`` has both.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...model.history import HistoryBatch
from ...model.trial_model import TrialModel
from .layout import SEED_BLOCK, VECTOR_STREAM, des_seeded_histories, simulate_histories
from .refusals import unsupported

__all__ = [
    "SEED_BLOCK",
    "VECTOR_ENGINE",
    "VECTOR_STREAM",
    "VectorEngine",
    "des_seeded_histories",
    "simulate_histories",
    "unsupported",
]


@dataclass(frozen=True)
class VectorEngine:
    """A history engine that simulates a span of replicates together in numpy (module docstring)."""

    name: str = "vector"
    forecasts: bool = True

    def unsupported(self, model: TrialModel) -> str | None:
        """Why this engine cannot simulate ``model`` (:func:`.refusals.unsupported`), or None."""
        return unsupported(model)

    def histories(self, model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
        """Replicates ``start..stop-1``, stacked (the seed layout of :mod:`.layout`)."""
        return simulate_histories(model, seed, start, stop)


VECTOR_ENGINE = VectorEngine()
"""The vector engine, as ``sim.engines`` names it ("vector")."""
