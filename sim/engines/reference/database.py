"""What the trial database holds at a data cutoff, and when the cutoffs fall (docs/model.md, "At a data cutoff").

An entry of a patient's record is visible at a cutoff when its calendar day, the first dose day
plus its study day, is on or before the cutoff's day. Best overall response, PFS and OS are
derived from the visible entries only, by the rules written out in each function below.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ...scenario.model import Cutoff
from ...units import DAYS_PER_MONTH, day_number
from .patient import CR, PD, PR, Cycle, PatientRecord, Scan

__all__ = ["EnrolledPatient", "PatientAtCutoff", "at_cutoff", "cutoff_day"]


@dataclass(frozen=True)
class EnrolledPatient:
    """An enrolled patient: where and when (days from study start) they came in, and their record."""

    site: int
    consent_day: float
    enrollment_day: float
    first_dose_day: float
    record: PatientRecord

    def visible(self, study_day: float, cutoff: float) -> bool:
        """Whether an entry dated ``study_day`` is in the database at the cutoff (on the calendar)."""
        return self.first_dose_day + study_day <= cutoff


@dataclass(frozen=True)
class PatientAtCutoff:
    """One treated patient as the database shows them at a cutoff (days from first dose)."""

    scans: tuple[Scan, ...]
    best_overall_response: str
    any_response: bool
    pfs_days: float
    pfs_event: bool
    os_days: float
    os_event: bool
    cycles: tuple[Cycle, ...]
    treatment_end_reason: str
    treatment_end_day: float

    @property
    def evaluable(self) -> bool:
        """At least one post-baseline scan."""
        return bool(self.scans)

    @property
    def responder(self) -> bool:
        """Confirmed CR or PR: the ORR numerator."""
        return self.best_overall_response in (CR, PR)

    @property
    def disease_controlled(self) -> bool:
        """CR, PR or SD: the DCR numerator."""
        return self.best_overall_response in (CR, PR, "SD")

    @property
    def grade3_ae_count(self) -> int:
        """Grade >= 3 TRAEs in the cycles given by the cutoff."""
        return sum(c.grade3_ae for c in self.cycles)

    @property
    def ae_discontinued(self) -> bool:
        """Treatment ended for an AE by the cutoff."""
        return self.treatment_end_reason == "adverse_event"


def best_overall_response(scans: Sequence[Scan], confirmed: bool, sd_min_days: float) -> str:
    """RECIST 1.1: a confirmed response (CR if any scan read CR); else SD, PD or NE."""
    if confirmed:
        return CR if any(s.reading == CR for s in scans) else PR
    if any(s.reading != PD and s.day >= sd_min_days for s in scans):
        return "SD"
    if any(s.reading == PD for s in scans):
        return PD
    return "NE"


def _last_scan_day(scans: Sequence[Scan], before: float = math.inf, inclusive: bool = False) -> float:
    """Day of the last scan before ``before`` (on or before it when ``inclusive``), 0 if none."""
    days = [s.day for s in scans if s.day < before or (inclusive and s.day == before)]
    return max(days, default=0.0)


def fda_pfs(
    patient: EnrolledPatient, scans: Sequence[Scan], cutoff: float, pfs_days: float, event: bool
) -> tuple[float, bool]:
    """PFS censored by FDA's rules on top of the treatment-policy PFS.

    Censored at the last adequate scan before an event that follows two or more missed scans,
    and at the last scan on or before new anticancer therapy that starts before any event; the
    earlier applies when both do.
    """
    r = patient.record
    event_day = pfs_days if event else math.inf
    last_adequate = _last_scan_day(scans, before=event_day)
    missed = [d for d in r.missed_scans if patient.visible(d, cutoff) and last_adequate < d < event_day]
    censor_at = math.inf
    if event and len(missed) >= 2:
        censor_at = last_adequate
    if patient.visible(r.new_therapy_day, cutoff) and r.new_therapy_day < event_day:
        censor_at = min(censor_at, _last_scan_day(scans, before=r.new_therapy_day, inclusive=True))
    if math.isinf(censor_at):
        return pfs_days, event
    return censor_at, False


def at_cutoff(patient: EnrolledPatient, cutoff: float, sd_min_days: float, pfs_censoring: str) -> PatientAtCutoff:
    """What the database shows of a patient dosed by the cutoff."""
    r = patient.record

    def seen(study_day: float) -> bool:
        return patient.visible(study_day, cutoff)

    scans = tuple(s for s in r.scans if seen(s.day))
    bor = best_overall_response(scans, seen(r.confirmation_day), sd_min_days)
    # PFS: progression dated at its scan, else a death seen, else censored at the last scan.
    if seen(r.progression_day):
        pfs_days, pfs_event = r.progression_day, True
    elif seen(r.death_day):
        pfs_days, pfs_event = r.death_day, True
    else:
        pfs_days, pfs_event = _last_scan_day(scans), False
    if pfs_censoring == "fda":
        pfs_days, pfs_event = fda_pfs(patient, scans, cutoff, pfs_days, pfs_event)
    # OS: a death seen, else censored at the cutoff or the end of contact, the earlier.
    os_event = seen(r.death_day)
    os_days = r.death_day if os_event else min(cutoff - patient.first_dose_day, r.contact_end_day)
    ended = seen(r.treatment_end_day)
    return PatientAtCutoff(
        scans=scans,
        best_overall_response=bor,
        any_response=any(s.reading in (CR, PR) for s in scans),
        pfs_days=pfs_days,
        pfs_event=pfs_event,
        os_days=os_days,
        os_event=os_event,
        cycles=tuple(c for c in r.cycles if seen(c.day)),
        treatment_end_reason=r.treatment_end_reason if ended else "ongoing",
        treatment_end_day=r.treatment_end_day if ended else math.nan,
    )


def cutoff_day(rule: Cutoff, patients: Sequence[EnrolledPatient], study_start: dt.date, horizon: float) -> float:
    """The cutoff's day (from study start), never after the study end; NaN when nobody was enrolled.

    ``date``: the date itself. ``after_last_first_dose``: ``months`` after the last enrolled
    patient's first dose. ``os_events``: the day the ``events``-th death is in the database, or the
    study end if that never happens.
    """
    if rule.rule == "date":
        assert rule.date is not None
        return min(day_number(rule.date, study_start), horizon)
    if not patients:
        return math.nan
    if rule.rule == "after_last_first_dose":
        assert rule.months is not None
        return min(max(p.first_dose_day for p in patients) + rule.months * DAYS_PER_MONTH, horizon)
    assert rule.events is not None
    deaths = sorted(p.first_dose_day + p.record.death_day for p in patients if math.isfinite(p.record.death_day))
    return min(deaths[rule.events - 1], horizon) if len(deaths) >= rule.events else horizon

