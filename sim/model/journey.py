"""What happens to each patient after first dose: cycles, scans and how treatment ends.

Pure, vectorised rules over a block of patients, in days from first dose. Nothing here knows the
calendar or a data cutoff, so the SimPy engine and a vectorised engine can share it; what is
*seen* at a cutoff is :mod:`sim.model.observe`'s job.

Rules (RECIST 1.1 as the protocol applies it):

* Cycles start every ``cycle_days``; a grade >= 3 AE that interrupts delays the next cycle, one
  that discontinues ends treatment when the next cycle would have started.
* Scans fall on the grid ``k * scan_interval_days`` from first dose (cycle delays do not shift it),
  each moved by its own offset inside the window. Scanning goes on after treatment ends, until
  progression, death, withdrawal, loss to follow-up or the end of follow-up. Each scheduled scan
  is missed with probability ``schedule.missed_scan_probability``.
* Progression is dated at the first scan done on or after the latent progression day. For a share
  of patients (``schedule.unscheduled_progression_share``) symptoms prompt an unscheduled
  assessment that finds it first: the next scheduled scan is done early, on a whole day drawn
  uniformly between the progression and that scan's day.
* Treatment ends at the first of progression, death, AE discontinuation, withdrawal, loss to
  follow-up or the maximum number of cycles. After an AE or maximum-duration stop a patient may
  start new anticancer therapy (``safety.new_therapy_probability``); scanning goes on.
* A transient response (``efficacy.unconfirmed_response_share``) reads PR at the patient's first
  stable scan only, so it is never confirmed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from ..arrays import first_true, or_inf, or_zero, preceding_sums, take_rows
from ..units import DAYS_PER_MONTH
from .patient_model import LatentOutcomes, PatientModel
from .recist import Response, confirmation_day

__all__ = ["END_REASONS", "PatientJourneys", "plan_journeys"]

END_REASONS = ("progression", "death", "adverse_event", "withdrawal", "lost_to_follow_up", "max_duration")
_AE_STOP = END_REASONS.index("adverse_event")
_MAX_DURATION = END_REASONS.index("max_duration")


@dataclass(frozen=True)
class PatientJourneys:
    """Each patient's full course from first dose (days), one row per patient.

    ``scan_status`` holds :class:`~sim.model.recist.Response` codes, NO_SCAN where no scan was done;
    infinite days mean "never". ``confirmation_day`` is the scan that confirms a response;
    ``response_closed_day`` the day no new response can be seen (progression, death, exit);
    ``scan_missed`` marks scheduled scans the patient missed while still followed;
    ``new_therapy_day`` the start of new anticancer therapy after an AE or maximum-duration stop.
    """

    scan_day: NDArray[np.float64]
    scan_status: NDArray[np.int8]
    cycle_start_day: NDArray[np.float64]
    ae_in_cycle: NDArray[np.bool_]
    progression_day: NDArray[np.float64]
    death_day: NDArray[np.float64]
    treatment_end_day: NDArray[np.float64]
    treatment_end_reason: NDArray[np.int8]
    follow_up_end_day: NDArray[np.float64]
    evaluable: NDArray[np.bool_]
    evaluability_day: NDArray[np.float64]
    confirmation_day: NDArray[np.float64]
    response_closed_day: NDArray[np.float64]
    scan_missed: NDArray[np.bool_]
    new_therapy_day: NDArray[np.float64]

    @property
    def size(self) -> int:
        """Patients in the block."""
        return int(self.death_day.shape[0])

    def take(self, index: NDArray[np.intp] | slice) -> PatientJourneys:
        """The journeys of the patients at ``index``, in that order (matrices column-major, :mod:`sim.arrays`).

        Journeys are never changed in place, so taking every patient in order gives these back.
        """
        everyone = range(self.size)
        if isinstance(index, slice) and everyone[index] == everyone:
            return self
        if not isinstance(index, slice) and np.array_equal(index, everyone):
            return self
        return PatientJourneys(**{f.name: take_rows(getattr(self, f.name), index) for f in fields(self)})

    @staticmethod
    def concatenate(parts: list[PatientJourneys]) -> PatientJourneys:
        """Stack blocks of journeys drawn one after another."""
        return PatientJourneys(
            **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(PatientJourneys)}
        )


def plan_journeys(model: PatientModel, latent: LatentOutcomes) -> PatientJourneys:
    """Apply the schedule's rules to a block of latent outcomes."""
    sc = model.schedule
    n = latent.size
    rows = np.arange(n)

    cycle_start = preceding_sums(latent.interruption_days, sc.cycle_days)  # each gap: a cycle and its delay
    has_disc, disc_cycle = first_true(latent.ae_discontinues)
    ae_stop = np.where(has_disc, cycle_start[rows, disc_cycle] + sc.cycle_days, np.inf)
    # The last allowed cycle ends cycle_days after it starts; a delay after it starts nothing.
    max_duration_end = cycle_start[:, -1] + sc.cycle_days

    k = np.arange(1, model.max_scans + 1, dtype=float)
    scan_day = k * sc.scan_interval_days + latent.scan_offset_days
    progression_latent = np.where(latent.death_first, np.inf, latent.pfs_event_day)
    missed = latent.scan_missed
    if latent.unscheduled_progression.any():
        scan_day, missed = _unscheduled_assessments(scan_day, missed, progression_latent, latent)
    exit_day = np.minimum(latent.death_day, np.minimum(latent.withdrawal_day, latent.lost_to_follow_up_day))
    alive_scan = scan_day < exit_day[:, None]
    attended = alive_scan & ~missed
    has_pd, pd_col = first_true(attended & (scan_day >= progression_latent[:, None]))
    pd_day = np.where(has_pd, scan_day[rows, pd_col], np.inf)

    candidates = np.stack(
        [pd_day, latent.death_day, ae_stop, latent.withdrawal_day, latent.lost_to_follow_up_day, max_duration_end]
    )
    reason = candidates.argmin(axis=0).astype(np.int8)
    treatment_end = candidates[reason, rows]
    follow_up_end = np.minimum(
        np.minimum(latent.withdrawal_day, latent.lost_to_follow_up_day),
        treatment_end + sc.survival_follow_up_months * DAYS_PER_MONTH,
    )
    seen_pd = has_pd & (pd_day <= follow_up_end)
    pd_day = np.where(seen_pd, pd_day, np.inf)

    under_follow_up = alive_scan & (scan_day <= follow_up_end[:, None]) & (scan_day <= pd_day[:, None])
    performed = under_follow_up & ~missed
    responding = (
        latent.responder[:, None]
        & (scan_day >= latent.response_onset_day[:, None])
        & (scan_day < latent.pfs_event_day[:, None])
    )
    response_code = np.where(latent.complete_response, Response.CR, Response.PR).astype(np.int8)[:, None]
    sd = np.int8(Response.SD)
    status = or_zero(sd - responding * (sd - response_code), performed)  # NO_SCAN is 0
    status[rows[seen_pd], pd_col[seen_pd]] = Response.PD
    _add_transient_responses(status, latent.transient_response)

    confirmed_day = confirmation_day(scan_day, status, sc.confirmation_required, sc.confirmation_min_days)
    evaluable, first_scan = first_true(performed) if model.max_scans else (np.zeros(n, bool), np.zeros(n, np.intp))
    evaluability_day = np.where(evaluable, scan_day[rows, first_scan], np.minimum(exit_day, follow_up_end))
    discontinued = (reason == _AE_STOP) | (reason == _MAX_DURATION)
    received = cycle_start < treatment_end[:, None]
    return PatientJourneys(
        scan_day=scan_day,
        scan_status=status,
        cycle_start_day=or_inf(cycle_start, received),
        ae_in_cycle=latent.ae_occurs & received,
        progression_day=pd_day,
        death_day=latent.death_day,
        treatment_end_day=treatment_end,
        treatment_end_reason=reason,
        follow_up_end_day=follow_up_end,
        evaluable=evaluable,
        evaluability_day=evaluability_day,
        confirmation_day=confirmed_day,
        response_closed_day=np.minimum(np.minimum(pd_day, exit_day), follow_up_end),
        scan_missed=under_follow_up & missed,
        new_therapy_day=np.where(discontinued, treatment_end + latent.new_therapy_delay_days, np.inf),
    )


def _unscheduled_assessments(
    scan_day: NDArray[np.float64],
    missed: NDArray[np.bool_],
    progression_latent: NDArray[np.float64],
    latent: LatentOutcomes,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Scan days and misses with each symptom-prompted assessment in place of the next scheduled scan.

    For a patient whose progression an unscheduled assessment finds, the first scheduled scan on or
    after the progression (done or missed) is done instead on the whole day
    ``ceil(progression + fraction * (scan - progression))``: never before the progression, never after
    the scan it replaces, so scans stay in order and the rules below date progression there.
    """
    has_next, column = first_true(scan_day >= progression_latent[:, None])
    rows = np.flatnonzero(has_next & latent.unscheduled_progression)
    if rows.size == 0:
        return scan_day, missed
    columns = column[rows]
    scheduled = scan_day[rows, columns]
    start = progression_latent[rows]
    moved, missed = scan_day.copy(order="F"), missed.copy(order="F")
    moved[rows, columns] = np.ceil(start + latent.unscheduled_fraction[rows] * (scheduled - start))
    missed[rows, columns] = False
    return moved, missed


def _add_transient_responses(status: NDArray[np.integer], transient: NDArray[np.bool_]) -> None:
    """A transient response reads PR at the patient's first stable scan and never again (in place).

    A single responding scan cannot be confirmed, so it counts as SD in the best overall response
    and shows only in the unconfirmed ORR.
    """
    stable = status == Response.SD
    has_scan, column = first_true(stable)
    rows = np.flatnonzero(transient & has_scan)
    status[rows, column[rows]] = Response.PR

