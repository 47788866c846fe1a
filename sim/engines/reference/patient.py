"""One patient on the protocol, as a SimPy process living through it day by day (docs/model.md).

The protocol's schedule of assessments counts study days from first dose, so each patient lives
in an environment whose clock is their own study day: day 0 is the first dose, cycles and scans
fall on whole days, and the same-day rules below hold exactly, with no doubt from calendar
arithmetic. The trial (:mod:`.trial`) learns what it needs of a patient at the calendar date it
happens: the first dose day plus the study day.

The patient's body is the latent course drawn by :meth:`sim.model.patient_model.PatientModel.draw`;
the protocol only ever asks it about the present (is the tumour progressing today, is the patient
alive today). What the protocol records goes into the patient's :class:`PatientRecord`, the trial
database; what a data cutoff shows of it is :mod:`.database`'s job.

Same-day rules (docs/model.md, "The journey"):

* death, withdrawal or loss to follow-up on a scan's day: the scan is not done, and a cycle due
  that day is not given (the patient leaves first);
* a scan and a dosing decision on the same day: the scan is read first, so progression found
  that day ends treatment before the cycle is given, and is the reason even when an AE or the
  maximum duration would have ended treatment that day;
* the end of follow-up on a scan's day: the scan is done first.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from ...model.patient_model import LatentOutcomes
from ...scenario.model import Monitoring, Schedule
from ...units import DAYS_PER_MONTH

__all__ = ["Cycle", "PatientCourse", "PatientRecord", "Protocol", "Scan", "follow_patient"]

CR, PR, SD, PD = "CR", "PR", "SD", "PD"

Process = Generator[simpy.Event, Any, None]


@dataclass(frozen=True)
class Protocol:
    """The schedule of assessments, in study days from first dose."""

    cycle_days: int
    max_cycles: int
    scan_interval_days: int
    confirmation_required: bool
    confirmation_min_days: int
    follow_up_days: float
    judgement_days: float
    look_trigger: str = "assessments"
    look_scans: int = 2
    await_confirmation: bool = True

    @classmethod
    def from_schedule(cls, schedule: Schedule, monitoring: Monitoring) -> Protocol:
        """The protocol of a scenario's schedule, with its interim looks' trigger from ``monitoring``.

        Treatment lasts at most ``max_treatment_months`` of whole cycles, and at least one cycle.
        """
        whole_cycles = math.floor(schedule.max_treatment_months * DAYS_PER_MONTH / schedule.cycle_days)
        return cls(
            cycle_days=schedule.cycle_days,
            max_cycles=max(1, whole_cycles),
            scan_interval_days=schedule.scan_interval_days,
            confirmation_required=schedule.confirmation_required,
            confirmation_min_days=schedule.confirmation_min_days,
            follow_up_days=schedule.survival_follow_up_months * DAYS_PER_MONTH,
            judgement_days=float(monitoring.window_days),
            look_trigger=monitoring.look_trigger,
            look_scans=monitoring.scans_per_look,
            await_confirmation=monitoring.awaits_confirmation,
        )


@dataclass(frozen=True)
class PatientCourse:
    """One patient's latent course (their body, and the chance events of the protocol), in study days."""

    progression_day: float
    death_day: float
    responder: bool
    complete_response: bool
    response_onset_day: float
    pfs_event_day: float
    withdrawal_day: float
    lost_to_follow_up_day: float
    ae_occurs: tuple[bool, ...]
    ae_interrupts: tuple[bool, ...]
    ae_discontinues: tuple[bool, ...]
    interruption_days: tuple[int, ...]
    scan_offset_days: tuple[int, ...]
    scan_missed: tuple[bool, ...]
    transient_response: bool
    new_therapy_delay_days: float
    unscheduled_progression: bool
    unscheduled_fraction: float

    @classmethod
    def of(cls, latent: LatentOutcomes, i: int) -> PatientCourse:
        """Patient ``i`` of a block of latent outcomes; progression never comes when the PFS event is death."""
        return cls(
            progression_day=math.inf if latent.death_first[i] else float(latent.pfs_event_day[i]),
            death_day=float(latent.death_day[i]),
            responder=bool(latent.responder[i]),
            complete_response=bool(latent.complete_response[i]),
            response_onset_day=float(latent.response_onset_day[i]),
            pfs_event_day=float(latent.pfs_event_day[i]),
            withdrawal_day=float(latent.withdrawal_day[i]),
            lost_to_follow_up_day=float(latent.lost_to_follow_up_day[i]),
            ae_occurs=tuple(bool(x) for x in latent.ae_occurs[i]),
            ae_interrupts=tuple(bool(x) for x in latent.ae_interrupts[i]),
            ae_discontinues=tuple(bool(x) for x in latent.ae_discontinues[i]),
            interruption_days=tuple(int(x) for x in latent.interruption_days[i]),
            scan_offset_days=tuple(int(x) for x in latent.scan_offset_days[i]),
            scan_missed=tuple(bool(x) for x in latent.scan_missed[i]),
            transient_response=bool(latent.transient_response[i]),
            new_therapy_delay_days=float(latent.new_therapy_delay_days[i]),
            unscheduled_progression=bool(latent.unscheduled_progression[i]),
            unscheduled_fraction=float(latent.unscheduled_fraction[i]),
        )

    def leaving(self) -> tuple[float, str]:
        """The day the patient leaves the study and why: death, withdrawal or loss, the first in that order on a tie."""
        return min(
            (self.death_day, "death"),
            (self.withdrawal_day, "withdrawal"),
            (self.lost_to_follow_up_day, "lost_to_follow_up"),
            key=lambda pair: pair[0],
        )

    def tumour_at(self, day: float) -> str:
        """The tumour's true state on ``day``: PD once progressed, CR/PR while responding, else SD."""
        if day >= self.progression_day:
            return PD
        if self.responder and self.response_onset_day <= day < self.pfs_event_day:
            return CR if self.complete_response else PR
        return SD


@dataclass(frozen=True)
class Scan:
    """A tumour assessment done: its study day and RECIST reading."""

    day: float
    reading: str


@dataclass(frozen=True)
class Cycle:
    """A treatment cycle given: its study day and whether a grade >= 3 TRAE occurred in it."""

    day: float
    grade3_ae: bool


@dataclass
class PatientRecord:
    """What the trial database holds for one patient, every entry dated in study days (inf: never)."""

    cycles: list[Cycle] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)
    missed_scans: list[float] = field(default_factory=list)
    confirmation_day: float = math.inf
    progression_day: float = math.inf
    treatment_end_day: float = math.inf
    treatment_end_reason: str = "ongoing"
    death_day: float = math.inf
    contact_end_day: float = math.inf
    new_therapy_day: float = math.inf
    judged_day: float = math.inf
    left_without_scan_day: float = math.inf


class PatientOnProtocol:
    """A patient's processes: leaving the study, treatment cycles, tumour assessments, follow-up.

    Create it in a fresh environment whose time 0 is the first dose; ``record`` fills as the
    environment runs.
    """

    def __init__(self, env: simpy.Environment, course: PatientCourse, protocol: Protocol) -> None:
        self.env, self.course, self.protocol = env, course, protocol
        self.record = PatientRecord()
        self.in_contact = True
        self.first_response_day = math.inf
        self.transient_pending = course.transient_response
        self.scans_done = 0
        # Leaving is scheduled first, so on a tie it comes before anything else that day.
        env.process(self.leaving())
        self.treatment = env.process(self.treatment_cycles())
        self.imaging = env.process(self.tumour_assessments())
        if protocol.look_trigger == "judgement_window":
            env.process(self.response_window())

    @property
    def on_treatment(self) -> bool:
        """Whether treatment is still going on."""
        return self.record.treatment_end_reason == "ongoing"

    def settle(self) -> simpy.Event:
        """Wait for the rest of today's already scheduled events: a scan due today is read first."""
        return self.env.timeout(0)

    def leaving(self) -> Process:
        """Death, withdrawal or loss to follow-up: the patient leaves, and every other process stops."""
        day, reason = self.course.leaving()
        if not math.isfinite(day):
            return
        yield self.env.timeout(day)
        if not self.in_contact:
            return  # already out of follow-up: the database never hears of it
        if reason == "death":
            self.record.death_day = day
        self.end_treatment(reason)
        self.end_contact()

    def treatment_cycles(self) -> Process:
        """Cycles every ``cycle_days``; an AE delays the next cycle or ends treatment when it would start."""
        p, c = self.protocol, self.course
        try:
            for cycle in range(p.max_cycles):
                yield self.settle()
                self.record.cycles.append(Cycle(self.env.now, c.ae_occurs[cycle]))
                yield self.env.timeout(p.cycle_days)
                if c.ae_discontinues[cycle]:
                    yield self.settle()
                    self.end_treatment("adverse_event")
                    return
                if c.ae_interrupts[cycle] and cycle + 1 < p.max_cycles:
                    yield self.env.timeout(c.interruption_days[cycle])
            yield self.settle()
            self.end_treatment("max_duration")
        except simpy.Interrupt:
            return  # progression or leaving ended treatment

    def tumour_assessments(self) -> Process:
        """Scans on the grid ``k * scan_interval_days`` from first dose, each moved by its offset, until PD.

        For a patient whose progression symptoms reveal, the first scan due on or after it is done early.
        """
        p, c = self.protocol, self.course
        try:
            for k, (offset, missed) in enumerate(zip(c.scan_offset_days, c.scan_missed), start=1):
                day = k * p.scan_interval_days + offset
                if c.unscheduled_progression and day >= c.progression_day:
                    # symptoms bring this assessment forward, to a day between progression and the scan
                    day = math.ceil(c.progression_day + c.unscheduled_fraction * (day - c.progression_day))
                    missed = False
                yield self.env.timeout(day - self.env.now)
                if missed:
                    self.record.missed_scans.append(day)
                    continue
                reading = self.read_scan(day)
                self.record.scans.append(Scan(day, reading))
                if reading == PD:
                    self.record.progression_day = day
                    self.end_treatment("progression")
                    self.judge()
                    return
                if reading in (CR, PR):
                    self.responding_scan(day)
                self.assessed(day)
        except simpy.Interrupt:
            return  # the patient left or follow-up ended

    def read_scan(self, day: float) -> str:
        """RECIST reading: the tumour's state, except that a transient response reads PR at the first SD scan."""
        reading = self.course.tumour_at(day)
        if reading == SD and self.transient_pending:
            self.transient_pending = False
            return PR
        return reading

    def responding_scan(self, day: float) -> None:
        """A CR or PR scan: the first one, or the later one at least ``confirmation_min_days`` on that confirms it."""
        p = self.protocol
        if math.isinf(self.first_response_day):
            self.first_response_day = day
        confirms = not p.confirmation_required or (
            day > self.first_response_day and day - self.first_response_day >= p.confirmation_min_days
        )
        if confirms and math.isinf(self.record.confirmation_day):
            self.record.confirmation_day = day
            if p.look_trigger == "judgement_window":
                self.judge()

    def assessed(self, day: float) -> None:
        """A scan done: with the ``assessments`` trigger, the ``look_scans``-th one judges the patient for a look.

        Unless a CR/PR seen so far awaits confirmation and the protocol waits for it: then the
        confirmation scan (the first one at least ``confirmation_min_days`` after that response),
        confirming or not, judges the patient.
        """
        p = self.protocol
        self.scans_done += 1
        if p.look_trigger != "assessments" or self.scans_done < p.look_scans:
            return
        first = self.first_response_day
        awaiting = (
            p.await_confirmation
            and p.confirmation_required
            and math.isfinite(first)
            and math.isinf(self.record.confirmation_day)
            and not (day > first and day - first >= p.confirmation_min_days)
        )
        if not awaiting:
            self.judge()

    def end_treatment(self, reason: str) -> None:
        """Record the end of treatment (once); an AE or maximum-duration stop may lead to new therapy."""
        if not self.on_treatment:
            return
        self.record.treatment_end_day = self.env.now
        self.record.treatment_end_reason = reason
        if self.treatment.is_alive and self.env.active_process is not self.treatment:
            self.treatment.interrupt()
        if reason in ("adverse_event", "max_duration"):
            self.env.process(self.new_therapy())
        if reason not in ("death", "withdrawal", "lost_to_follow_up"):
            self.env.process(self.survival_follow_up())

    def survival_follow_up(self) -> Process:
        """Scans and survival follow-up go on ``survival_follow_up_months`` after treatment ends."""
        yield self.env.timeout(self.protocol.follow_up_days)
        yield self.settle()
        if self.in_contact:
            self.end_contact()

    def new_therapy(self) -> Process:
        """New anticancer therapy starts the drawn delay after the end of treatment, if the patient starts one."""
        delay = self.course.new_therapy_delay_days
        if not math.isfinite(delay):
            return
        yield self.env.timeout(delay)
        if self.in_contact:
            self.record.new_therapy_day = self.env.now

    def response_window(self) -> Process:
        """The protocol's response-evaluation window: the response is judged at its end at the latest."""
        yield self.env.timeout(self.protocol.judgement_days)
        self.judge()

    def judge(self) -> None:
        """The patient is judged for interim looks (the first time only): assessed, ruled out, or the window is over."""
        if math.isinf(self.record.judged_day):
            self.record.judged_day = self.env.now

    def end_contact(self) -> None:
        """Follow-up ends: no more scans, no more news; a patient never scanned is known non-evaluable now."""
        self.in_contact = False
        self.record.contact_end_day = self.env.now
        if not self.record.scans:
            self.record.left_without_scan_day = self.env.now
        self.judge()
        if self.imaging.is_alive and self.env.active_process is not self.imaging:
            self.imaging.interrupt()


def follow_patient(course: PatientCourse, protocol: Protocol, until_day: float) -> PatientRecord:
    """Run one patient's study days from first dose to ``until_day`` (or the end of follow-up) and return the record."""
    env = simpy.Environment()
    patient = PatientOnProtocol(env, course, protocol)
    env.run(until=max(until_day, 0.0) + 1.0)
    return patient.record

