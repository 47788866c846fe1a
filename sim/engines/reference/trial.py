"""The trial in calendar time: sites screening, the enrollment desk, interim looks (docs/model.md).

One SimPy environment per replicate, its clock in days from the study start, run to the study end:

* each site is a process: a Poisson stream of screened patients at the site's rate (calendar
  factors, ramp-up, the replicate's Gamma multiplier), drawn candidate by candidate by thinning
  at the peak rate; a site stops screening while enrollment is full or paused, and starts again
  when it reopens (the stream is memoryless, so nothing is lost by restarting it);
* each screened patient is a process: consent, screening, and the enrollment decision at its end;
* an enrolled patient lives through the protocol (:mod:`.patient`) from their first dose; the
  desk hears of them when it happens: a patient who leaves never scanned (a replacement), a
  response judged (an interim look);
* the interim looks are a process that waits for the n-th enrollment and for those n patients'
  responses to be judged, then applies the design's futility rule.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from ...model.patient_model import LatentOutcomes, PatientModel
from ...model.trial_model import TrialModel
from ...scenario.model import Scenario, Site
from ...units import DAYS_PER_MONTH, day_number
from .database import EnrolledPatient
from .patient import PatientCourse, Protocol, follow_patient

__all__ = ["InterimLook", "TrialLog", "run_trial"]

Process = Generator[simpy.Event, Any, None]


@dataclass(frozen=True)
class InterimLook:
    """One interim look: its day, the patients it judges, their confirmed responders, and the verdict."""

    day: float
    patients: int
    responders: int
    stopped: bool


@dataclass
class TrialLog:
    """What happened in one replicate, up to the study end (days from study start)."""

    n_screened: int = 0
    n_screen_failed: int = 0
    n_turned_away: int = 0
    enrollment_target: int = 0
    enrollment_complete_day: float = math.nan
    patients: list[EnrolledPatient] = field(default_factory=list)
    looks: list[InterimLook] = field(default_factory=list)

    @property
    def stop_day(self) -> float:
        """The day an interim look stopped the trial for futility, NaN if none did."""
        return next((look.day for look in self.looks if look.stopped), math.nan)


@dataclass(frozen=True)
class SiteRate:
    """One site's screening rate in this replicate: per day at full rate, from when, ramping from when."""

    per_day: float
    screens_from: float
    ramp_from: float
    ramp_days: float

    def at(self, day: float, periods: list[tuple[float, float, float]]) -> float:
        """Screened patients per day on ``day``: full rate times the ramp and every calendar factor in force."""
        ramp = 1.0 if self.ramp_days <= 0 else min(max((day - self.ramp_from) / self.ramp_days, 0.0), 1.0)
        factor = math.prod(f for start, end, f in periods if start <= day < end)
        return self.per_day * ramp * factor


class PatientSupply:
    """Latent courses in enrollment order, drawn in blocks of ``sample_size`` from the patients' stream."""

    def __init__(self, model: PatientModel, rng: np.random.Generator, block: int) -> None:
        self.model, self.rng, self.block = model, rng, block
        self.courses: list[PatientCourse] = []

    def course(self, index: int) -> PatientCourse:
        """The latent course of the ``index``-th enrolled patient (from 0)."""
        while len(self.courses) <= index:
            latent: LatentOutcomes = self.model.draw(self.rng, self.block)
            self.courses += [PatientCourse.of(latent, i) for i in range(latent.size)]
        return self.courses[index]


class EnrollmentDesk:
    """The enrollment log and its rules: the target, recruitment close, pauses for looks, a futility stop."""

    def __init__(
        self, env: simpy.Environment, model: TrialModel, rng: np.random.Generator, supply: PatientSupply
    ) -> None:
        self.env, self.model, self.rng, self.supply = env, model, rng, supply
        s = model.scenario
        self.protocol = Protocol.from_schedule(s.schedule, s.monitoring)
        self.log = TrialLog(enrollment_target=s.trial.sample_size)
        self.held = self.closed = False
        self.reopened = env.event()
        self.judged: list[simpy.Event] = []
        self.enrolled_count: dict[int, simpy.Event] = {}

    def is_open(self) -> bool:
        """Enrollment takes patients: not paused, not stopped, and short of the target."""
        return not (self.held or self.closed) and len(self.log.patients) < self.log.enrollment_target

    def wake_sites(self) -> None:
        """Tell waiting sites that enrollment is open again."""
        if self.is_open() and not self.reopened.triggered:
            self.reopened.succeed()
            self.reopened = self.env.event()

    def nth_enrolled(self, n: int) -> simpy.Event:
        """An event that fires when the n-th patient is enrolled (already fired if they are)."""
        event = self.enrolled_count.setdefault(n, self.env.event())
        if len(self.log.patients) >= n and not event.triggered:
            event.succeed()
        return event

    def screened_patient(self, site: int) -> Process:
        """A patient consents at a site; a screen failure ends here, an eligible patient waits for the decision."""
        rec = self.model.scenario.recruitment
        consent = self.env.now
        self.log.n_screened += 1
        fails = self.rng.random() < rec.screen_failure_probability
        screening_days = int(self.rng.integers(rec.screening_days[0], rec.screening_days[1] + 1))
        dose_after = int(
            self.rng.integers(rec.enrollment_to_first_dose_days[0], rec.enrollment_to_first_dose_days[1] + 1)
        )
        if fails:
            self.log.n_screen_failed += 1
            return
        yield self.env.timeout(screening_days)
        if not self.is_open() or self.env.now >= self.model.close_day:
            self.log.n_turned_away += 1
            return
        self.enroll(site, consent, dose_after)

    def enroll(self, site: int, consent: float, dose_after: int) -> None:
        """Enroll a patient: they follow the protocol from first dose; the desk hears back on their milestones."""
        now = self.env.now
        first_dose = now + dose_after
        index = len(self.log.patients)
        record = follow_patient(self.supply.course(index), self.protocol, self.model.horizon_day - first_dose)
        self.log.patients.append(EnrolledPatient(site, consent, now, first_dose, record))
        if len(self.log.patients) == self.log.enrollment_target:
            self.log.enrollment_complete_day = now
        waiting = self.enrolled_count.get(len(self.log.patients))
        if waiting is not None and not waiting.triggered:
            waiting.succeed()
        self.judged.append(self.env.timeout(first_dose + record.judged_day - now))
        if self.model.scenario.trial.replace_non_evaluable and math.isfinite(record.left_without_scan_day):
            self.env.process(self.replace_later(first_dose + record.left_without_scan_day - now))

    def replace_later(self, delay: float) -> Process:
        """When a patient is known to have left before any scan, raise the target, while recruitment is open."""
        yield self.env.timeout(delay)
        if self.env.now < self.model.close_day and not self.closed:
            self.log.enrollment_target += 1
            self.log.enrollment_complete_day = math.nan
            self.wake_sites()

    def hold(self, on: bool) -> None:
        """Pause (or resume) enrollment while a look waits for its patients' responses."""
        self.held = on
        self.wake_sites()

    def confirmed_by(self, n: int, day: float) -> int:
        """Responses among the first ``n`` patients confirmed on or before ``day``."""
        return sum(p.visible(p.record.confirmation_day, day) for p in self.log.patients[:n])


def site_rate(site: Site, scenario: Scenario, open_day: float, rng: np.random.Generator) -> SiteRate:
    """The site's rate in this replicate: a Gamma(mean 1, CV ``rate_cv``) multiplier when ``rate_cv`` > 0."""
    cv = scenario.recruitment.rate_cv
    multiplier = 1.0
    if cv > 0:
        multiplier = float(rng.gamma(1.0 / cv**2, cv**2))
    activation = day_number(site.activation, scenario.trial.study_start)
    return SiteRate(
        per_day=site.screened_per_month / DAYS_PER_MONTH * multiplier,
        screens_from=max(activation, open_day),
        ramp_from=activation,
        ramp_days=site.ramp_up_months * DAYS_PER_MONTH,
    )


def site_screening(
    env: simpy.Environment,
    rate: SiteRate,
    periods: list[tuple[float, float, float]],
    desk: EnrollmentDesk,
    screen: Callable[[], Process],
    rng: np.random.Generator,
) -> Process:
    """A site's screened patients until recruitment closes: Poisson arrivals, by thinning at the peak rate."""
    peak = rate.per_day * math.prod(max(f, 1.0) for _, _, f in periods)
    if peak <= 0:
        return
    yield env.timeout(max(rate.screens_from - env.now, 0.0))
    while True:
        if not desk.is_open():
            yield desk.reopened
            continue
        day = env.now + rng.exponential(1.0 / peak)
        if day >= desk.model.close_day:
            return
        yield env.timeout(day - env.now)
        if rng.random() * peak < rate.at(day, periods) and desk.is_open():
            env.process(screen())


def interim_looks(env: simpy.Environment, desk: EnrollmentDesk) -> Process:
    """The design's interim looks, in calendar time; a futility stop closes recruitment."""
    rule, pause = desk.model.rule, desk.model.scenario.monitoring.pause_enrollment
    for n in rule.look_sizes:
        yield desk.nth_enrolled(n)
        if pause:
            desk.hold(True)
        yield simpy.AllOf(env, desk.judged[:n])
        # The look is on the day its last patient is judged; count on the calendar, like a cutoff.
        day = max(p.first_dose_day + p.record.judged_day for p in desk.log.patients[:n])
        responders = desk.confirmed_by(n, day)
        stop = rule.stops(responders, n)  # the design rule is part of the specification (module docstring)
        desk.log.looks.append(InterimLook(day, n, responders, stop))
        if pause:
            desk.hold(False)
        if stop:
            desk.closed = True
            return


def calendar_periods(scenario: Scenario) -> list[tuple[float, float, float]]:
    """Calendar periods as (first day, day after the last, factor), days from study start."""
    start = scenario.trial.study_start
    return [
        (day_number(p.start, start), day_number(p.end, start) + 1.0, p.rate_factor)
        for p in scenario.recruitment.periods
    ]


def run_trial(model: TrialModel, seed: np.random.SeedSequence) -> TrialLog:
    """Simulate one replicate from the study start to its end.

    The seed is spawned into the sites' streams, the screening stream and the patients' stream
    (latent courses in blocks of ``sample_size``, in enrollment order).
    """
    site_seed, screening_seed, patient_seed = seed.spawn(3)
    s = model.scenario
    env = simpy.Environment()
    supply = PatientSupply(model.patients, np.random.default_rng(patient_seed), s.trial.sample_size)
    desk = EnrollmentDesk(env, model, np.random.default_rng(screening_seed), supply)
    periods = calendar_periods(s)
    for index, (site, ss) in enumerate(zip(s.recruitment.sites, site_seed.spawn(len(s.recruitment.sites)))):
        rng = np.random.default_rng(ss)
        rate = site_rate(site, s, model.open_day, rng)
        env.process(site_screening(env, rate, periods, desk, functools.partial(desk.screened_patient, index), rng))
    if model.rule.look_sizes:
        env.process(interim_looks(env, desk))
    env.run(until=model.horizon_day)
    return desk.log
