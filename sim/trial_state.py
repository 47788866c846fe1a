"""A running trial as it stands at its as-of date: the state a forecast starts the engine from.

Pure data, built by :mod:`sim.forecast` from the observed patients; the SimPy engine reads it
(:func:`sim.engine.simulate_trial`) and :mod:`sim.conditioning` draws each enrolled patient's
future given what is known of them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TrialState"]


@dataclass(frozen=True)
class TrialState:
    """The trial at ``as_of_day`` (days from the study start)."""

    as_of_day: float

    @property
    def identity(self) -> str:
        """Everything the forecast's replicates depend on, as text (for checkpoints)."""
        return repr(self)
