"""What one simulated trial did, up to the study end: the record an engine hands to the cutoffs.

An engine (the SimPy one in :mod:`sim.engines.des`, or any other with its signature) returns a
:class:`TrialHistory`; :mod:`sim.model.observe` then shows what the database holds at each cutoff.
Patient arrays are in enrollment order; days count from the study start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from .journey import PatientJourneys
from .monitoring import Look

__all__ = ["HistoryBatch", "TrialHistory"]

Item = TypeVar("Item", bound=np.generic)


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



@dataclass(frozen=True)
class HistoryBatch:
    """The histories of many replicates: patients stacked by replicate, in enrollment order.

    Per-patient arrays have one entry per enrolled patient; per-replicate arrays one per replicate;
    the ``look_*`` arrays one per interim look, in replicate then calendar order.
    """

    patients: NDArray[np.int64]
    journeys: PatientJourneys
    site: NDArray[np.int64]
    consent_day: NDArray[np.float64]
    enrollment_day: NDArray[np.float64]
    first_dose_day: NDArray[np.float64]
    n_screened: NDArray[np.int64]
    n_screen_failed: NDArray[np.int64]
    n_turned_away: NDArray[np.int64]
    enrollment_target: NDArray[np.int64]
    enrollment_complete_day: NDArray[np.float64]
    true_orr: NDArray[np.float64]
    look_replicate: NDArray[np.int64]
    look_day: NDArray[np.float64]
    look_patients: NDArray[np.int64]
    look_responders: NDArray[np.int64]
    look_stop: NDArray[np.bool_]

    @property
    def n_replicates(self) -> int:
        """Replicates in the batch."""
        return int(self.patients.shape[0])

    @property
    def replicate(self) -> NDArray[np.intp]:
        """Each patient's replicate (position in the batch)."""
        return np.repeat(np.arange(self.n_replicates), self.patients)

    @property
    def offsets(self) -> NDArray[np.int64]:
        """Where each replicate's patients start in the stacked arrays."""
        return np.cumsum(self.patients) - self.patients

    @property
    def look_wait(self) -> NDArray[np.float64]:
        """Days each look waited after its n-th patient's enrollment (:func:`tests.replicate_analysis.look_waits`)."""
        nth = self.offsets[self.look_replicate] + self.look_patients - 1
        return self.look_day - self.enrollment_day[nth]

    @property
    def stop_day(self) -> NDArray[np.float64]:
        """The day a look stopped each replicate, NaN where none did."""
        out = np.full(self.n_replicates, np.nan)
        stopped = np.flatnonzero(self.look_stop)
        replicate, first = np.unique(self.look_replicate[stopped], return_index=True)
        out[replicate] = self.look_day[stopped][first]
        return out

    @classmethod
    def from_histories(cls, histories: Sequence[TrialHistory]) -> HistoryBatch:
        """Stack replicate histories (an empty sequence gives an empty batch)."""
        looks = [(r, look) for r, h in enumerate(histories) for look in h.looks]
        parts = [h.journeys for h in histories]
        return cls(
            patients=np.array([h.n_enrolled for h in histories], dtype=np.int64),
            journeys=PatientJourneys.concatenate(parts) if parts else _no_journeys(),
            site=_stack([h.site for h in histories], np.int64),
            consent_day=_stack([h.consent_day for h in histories], np.float64),
            enrollment_day=_stack([h.enrollment_day for h in histories], np.float64),
            first_dose_day=_stack([h.first_dose_day for h in histories], np.float64),
            n_screened=np.array([h.n_screened for h in histories], dtype=np.int64),
            n_screen_failed=np.array([h.n_screen_failed for h in histories], dtype=np.int64),
            n_turned_away=np.array([h.n_turned_away for h in histories], dtype=np.int64),
            enrollment_target=np.array([h.enrollment_target for h in histories], dtype=np.int64),
            enrollment_complete_day=np.array([h.enrollment_complete_day for h in histories], dtype=float),
            true_orr=np.array([h.true_orr for h in histories], dtype=float),
            look_replicate=np.array([r for r, _ in looks], dtype=np.int64),
            look_day=np.array([look.day for _, look in looks], dtype=float),
            look_patients=np.array([look.patients for _, look in looks], dtype=np.int64),
            look_responders=np.array([look.responders for _, look in looks], dtype=np.int64),
            look_stop=np.array([look.stop for _, look in looks], dtype=bool),
        )

    def span(self, first: int, last: int) -> HistoryBatch:
        """Replicates ``first..last-1`` of the batch, numbered from 0."""
        ends = np.concatenate(([0], np.cumsum(self.patients)))
        rows = slice(int(ends[first]), int(ends[last]))
        looks = (self.look_replicate >= first) & (self.look_replicate < last)
        return HistoryBatch(
            patients=self.patients[first:last],
            journeys=self.journeys.take(rows),
            site=self.site[rows],
            consent_day=self.consent_day[rows],
            enrollment_day=self.enrollment_day[rows],
            first_dose_day=self.first_dose_day[rows],
            n_screened=self.n_screened[first:last],
            n_screen_failed=self.n_screen_failed[first:last],
            n_turned_away=self.n_turned_away[first:last],
            enrollment_target=self.enrollment_target[first:last],
            enrollment_complete_day=self.enrollment_complete_day[first:last],
            true_orr=self.true_orr[first:last],
            look_replicate=self.look_replicate[looks] - first,
            look_day=self.look_day[looks],
            look_patients=self.look_patients[looks],
            look_responders=self.look_responders[looks],
            look_stop=self.look_stop[looks],
        )

    def history(self, r: int, sample_size: int) -> TrialHistory:
        """Replicate ``r`` as a :class:`TrialHistory` (for its patient table)."""
        start = int(self.offsets[r])
        rows = np.arange(start, start + int(self.patients[r]))
        mine = np.flatnonzero(self.look_replicate == r)
        return TrialHistory(
            sample_size=sample_size,
            enrollment_target=int(self.enrollment_target[r]),
            n_screened=int(self.n_screened[r]),
            n_screen_failed=int(self.n_screen_failed[r]),
            n_turned_away=int(self.n_turned_away[r]),
            site=self.site[rows],
            consent_day=self.consent_day[rows],
            enrollment_day=self.enrollment_day[rows],
            first_dose_day=self.first_dose_day[rows],
            journeys=self.journeys.take(rows),
            enrollment_complete_day=float(self.enrollment_complete_day[r]),
            true_orr=float(self.true_orr[r]),
            looks=tuple(
                Look(
                    float(self.look_day[k]),
                    int(self.look_patients[k]),
                    int(self.look_responders[k]),
                    bool(self.look_stop[k]),
                )
                for k in mine
            ),
        )


def _stack(arrays: list[NDArray[Item]], dtype: type[Item]) -> NDArray[Item]:
    """One array of the per-replicate arrays, one after another."""
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype=dtype)


_JOURNEY_MATRICES = {"scan_day", "scan_status", "cycle_start_day", "ae_in_cycle", "scan_missed"}


_JOURNEY_DTYPES = {
    "scan_status": np.int8,
    "treatment_end_reason": np.int8,
    "ae_in_cycle": bool,
    "evaluable": bool,
    "scan_missed": bool,
}


def _no_journeys() -> PatientJourneys:
    """The journeys of no patients (only a batch of no replicates has them)."""
    return PatientJourneys(
        **{
            f.name: np.zeros((0, 0) if f.name in _JOURNEY_MATRICES else (0,), dtype=_JOURNEY_DTYPES.get(f.name, float))
            for f in fields(PatientJourneys)
        }
    )
