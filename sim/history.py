"""What one simulated trial did, up to the study end: the record an engine hands to the cutoffs.

An engine (the SimPy one in :mod:`sim.engine`, or any other with its signature) returns a
:class:`TrialHistory`; :mod:`sim.observe` then shows what the database holds at each cutoff.
Patient arrays are in enrollment order; days count from the study start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .journey import PatientJourneys
from .monitoring import Look

__all__ = ["TrialHistory"]


@dataclass(frozen=True)
class TrialHistory:
    """Everything that happened in one replicate up to the study end, before any cutoff."""

    sample_size: int
    enrollment_target: int
    n_screened: int
    n_screen_failed: int
    n_turned_away: int
    site: NDArray[np.int64]
    consent_day: NDArray[np.float64]
    enrollment_day: NDArray[np.float64]
    first_dose_day: NDArray[np.float64]
    journeys: PatientJourneys
    enrollment_complete_day: float
    true_orr: float
    looks: tuple[Look, ...] = ()

    @property
    def n_enrolled(self) -> int:
        """Patients enrolled by the study end."""
        return int(self.enrollment_day.shape[0])

    @property
    def stop_day(self) -> float:
        """The day an interim look stopped the trial, NaN if none did."""
        return next((look.day for look in self.looks if look.stop), math.nan)
