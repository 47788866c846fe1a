"""The records of a block of patients before any scheduling: their random numbers and their latent outcomes.

:class:`PatientDraws` holds the numbers as drawn, :class:`LatentOutcomes` what they give under a
patient model (:mod:`sim.model.patient_model`), one row per patient; matrices hold one column per
cycle or scan, column-major.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from ..arrays import take_rows

__all__ = ["COURSE", "LatentOutcomes", "PatientDraws"]


@dataclass(frozen=True)
class LatentOutcomes:
    """Latent outcomes of a block of patients (days from first dose; arrays of one row each)."""

    pfs_event_day: NDArray[np.float64]
    death_first: NDArray[np.bool_]
    death_day: NDArray[np.float64]
    responder: NDArray[np.bool_]
    complete_response: NDArray[np.bool_]
    response_onset_day: NDArray[np.float64]
    withdrawal_day: NDArray[np.float64]
    lost_to_follow_up_day: NDArray[np.float64]
    ae_occurs: NDArray[np.bool_]
    ae_interrupts: NDArray[np.bool_]
    ae_discontinues: NDArray[np.bool_]
    interruption_days: NDArray[np.int64]
    scan_offset_days: NDArray[np.int64]
    scan_missed: NDArray[np.bool_]
    transient_response: NDArray[np.bool_]
    new_therapy_delay_days: NDArray[np.float64]
    unscheduled_progression: NDArray[np.bool_]
    unscheduled_fraction: NDArray[np.float64]

    @property
    def size(self) -> int:
        """Patients in the block."""
        return int(self.pfs_event_day.shape[0])

    @staticmethod
    def concatenate(parts: Sequence[LatentOutcomes]) -> LatentOutcomes:
        """Blocks of latent outcomes one after another."""
        if len(parts) == 1:
            return parts[0]
        arrays = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(LatentOutcomes)}
        return LatentOutcomes(**arrays)

    def take(self, rows: NDArray[np.intp]) -> LatentOutcomes:
        """The patients at ``rows``, in that order (matrices column-major, :func:`sim.arrays.take_rows`)."""
        return LatentOutcomes(**{f.name: take_rows(getattr(self, f.name), rows) for f in fields(self)})

    def first(self, cycles: int, scans: int) -> LatentOutcomes:
        """The outcomes of the first ``cycles`` cycles and ``scans`` scans only (views): a windowed model's."""
        return dataclasses.replace(
            self,
            ae_occurs=self.ae_occurs[:, :cycles],
            ae_interrupts=self.ae_interrupts[:, :cycles],
            ae_discontinues=self.ae_discontinues[:, :cycles],
            interruption_days=self.interruption_days[:, :cycles],
            scan_offset_days=self.scan_offset_days[:, :scans],
            scan_missed=self.scan_missed[:, :scans],
        )


COURSE = (
    "withdrawal_day",
    "lost_to_follow_up_day",
    "ae_occurs",
    "ae_interrupts",
    "ae_discontinues",
    "interruption_days",
    "scan_offset_days",
    "scan_missed",
    "new_therapy_delay_days",
    "unscheduled_progression",
    "unscheduled_fraction",
)
"""The latent outcomes that depend only on the safety and the schedule, not on the efficacy or the response."""


@dataclass(frozen=True)
class PatientDraws:
    """The random numbers behind a block of patients' latent outcomes, as drawn (one entry per patient).

    ``uniforms`` has one row per scalar outcome (responder, PFS, onset, CR, death first, post-progression
    survival, withdrawal, loss to follow-up); ``cycles`` one uniform per cycle and ``offsets`` one per
    scan, column-major; ``missed`` and the rows of ``deviations`` (transient response, new therapy, its
    delay, then unscheduled assessment and its place when the scenario has them) come from the
    deviations stream. Turning them into outcomes (:meth:`PatientModel.outcomes`) draws nothing, so the
    SimPy engine draws each replicate's numbers from its own stream and turns them all at once.
    """

    uniforms: NDArray[np.float64]
    cycles: NDArray[np.float64]
    offsets: NDArray[np.int64]
    missed: NDArray[np.bool_]
    deviations: NDArray[np.float64]

    def rows(self, start: int, stop: int) -> PatientDraws:
        """The numbers of patients ``start..stop-1`` (views)."""
        return PatientDraws(
            uniforms=self.uniforms[:, start:stop],
            cycles=self.cycles[start:stop],
            offsets=self.offsets[start:stop],
            missed=self.missed[start:stop],
            deviations=self.deviations[:, start:stop],
        )

    @staticmethod
    def concatenate(parts: Sequence[PatientDraws]) -> PatientDraws:
        """Blocks drawn one after another (rows of ``uniforms`` and ``deviations`` are per outcome)."""
        return PatientDraws(
            uniforms=np.concatenate([p.uniforms for p in parts], axis=1),
            cycles=np.concatenate([p.cycles for p in parts]),
            offsets=np.concatenate([p.offsets for p in parts]),
            missed=np.concatenate([p.missed for p in parts]),
            deviations=np.concatenate([p.deviations for p in parts], axis=1),
        )

    def first(self, cycles: int, scans: int) -> PatientDraws:
        """The numbers of the first ``cycles`` cycles and ``scans`` scans only (views): a window's draws."""
        return dataclasses.replace(
            self, cycles=self.cycles[:, :cycles], offsets=self.offsets[:, :scans], missed=self.missed[:, :scans]
        )
