"""The SimPy engine: one environment per replicate, simulating the trial in calendar time.

Only events that change the trial's state are scheduled: screening arrivals, enrollment decisions,
the day a patient's evaluability is known (which may call for a replacement) and interim looks. Everything a
patient's body and the scan schedule decide is computed in one vectorised pass per block of
patients (:mod:`sim.model.patient_model`, :mod:`sim.model.journey`), which is what keeps the engine fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import simpy
from numpy.typing import NDArray

from ..model.conditioning import draw_given_status
from ..model.history import HistoryBatch, TrialHistory
from ..model.journey import PatientJourneys, plan_journeys
from ..model.monitoring import Look, LookTrigger, judged_days, monitor_process
from ..model.patient_model import PatientDraws, PatientModel, outcomes_under
from ..model.recruitment import arrival_days, delayed_activation, screening_arrivals, site_rates
from ..model.trial_model import TrialModel
from ..model.trial_state import TrialState
from .contract import replicate_seeds
from .des_start import first_doses, patients_in_screening

__all__ = ["DES_ENGINE", "DesEngine", "simulate_trial", "simulate_trials"]


class _PatientPool:
    """Latent outcomes and journeys drawn in fixed-size blocks, handed out in enrollment order.

    A forecast's enrolled patients come first (``known``, already drawn given their status);
    ``known`` may also be the first block, already drawn from ``rng`` (see :func:`simulate_trials`).
    """

    def __init__(
        self, model: PatientModel, rng: np.random.Generator, block: int, known: PatientJourneys | None = None
    ) -> None:
        self._model, self._rng, self._block = model, rng, block
        self._parts: list[PatientJourneys] = [] if known is None else [known]
        self._size = 0 if known is None else known.size
        self._all: PatientJourneys | None = None

    def _draw_until(self, n: int) -> PatientJourneys:
        while self._size < n or not self._parts:
            self._parts.append(plan_journeys(self._model, self._model.draw(self._rng, self._block)))
            self._size += self._block
            self._all = None
        if self._all is None:
            self._all = self._parts[0] if len(self._parts) == 1 else PatientJourneys.concatenate(self._parts)
        return self._all

    def evaluability(self, i: int) -> tuple[bool, float]:
        """Whether patient ``i`` reaches a post-baseline scan, and the day (from first dose) it is known."""
        j = self._draw_until(i + 1)
        return bool(j.evaluable[i]), float(j.evaluability_day[i])

    def response_days(self, n: int, trigger: LookTrigger) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Days from first dose on which the first ``n`` patients are judged for a look, and their confirmations."""
        j = self._draw_until(n).take(slice(0, n))
        return judged_days(j, trigger), j.confirmation_day

    def journeys(self, n: int) -> PatientJourneys:
        """The first ``n`` patients' journeys."""
        return self._draw_until(n).take(np.arange(n))


class _Enrollment:
    """The trial's enrollment log and the rule that stops and reopens screening.

    Screened patients need no process of their own: their screening outcome and delays are drawn
    up front (one row per arrival, in arrival order) and their enrollment decision is a timeout
    with a callback, which is several times cheaper than a SimPy process.
    """

    def __init__(
        self,
        env: simpy.Environment,
        model: TrialModel,
        rng: np.random.Generator,
        pool: _PatientPool,
        max_arrivals: int,
        failure_probability: float | None = None,
    ) -> None:
        self.env, self.model, self.pool = env, model, pool
        rec = model.scenario.recruitment
        failing = rec.screen_failure_probability if failure_probability is None else failure_probability
        self.fails = (rng.random(max_arrivals) < failing).tolist()
        low, high = rec.screening_days
        self.screening_days = rng.integers(low, high + 1, max_arrivals).tolist()
        low, high = rec.enrollment_to_first_dose_days
        self.dose_days = rng.integers(low, high + 1, max_arrivals).tolist()
        self.replace = model.scenario.trial.replace_non_evaluable
        self.target = model.scenario.trial.sample_size
        self.n_screened = self.n_failed = self.n_turned_away = 0
        self.site: list[int] = []
        self.consent: list[float] = []
        self.enrolled: list[float] = []
        self.first_dose: list[float] = []
        self.complete_day = math.nan
        self.held = self.closed = False
        self.looks: list[Look] = []
        self.as_of = -math.inf
        self._drawn = 0
        self._reopened: simpy.Event | None = None
        self._count_reached: dict[int, simpy.Event] = {}

    def _open(self) -> bool:
        return not (self.held or self.closed) and len(self.enrolled) < self.target

    def paused(self) -> simpy.Event | None:
        """An event that fires when screening may resume, or None while it is open."""
        if self._open():
            return None
        if self._reopened is None or self._reopened.triggered:
            self._reopened = self.env.event()
        return self._reopened

    def _resume(self) -> None:
        if self._open() and self._reopened is not None and not self._reopened.triggered:
            self._reopened.succeed()

    def hold(self, on: bool) -> None:
        """Pause (or resume) enrollment while an interim look waits for its patients' responses."""
        self.held = on
        self._resume()

    def close(self) -> None:
        """Stop recruitment for good (a futility stop)."""
        self.closed = True

    def enrolled_event(self, n: int) -> simpy.Event | None:
        """An event that fires when the n-th patient is enrolled, or None if that has happened."""
        if len(self.enrolled) >= n:
            return None
        return self._count_reached.setdefault(n, self.env.event())

    def response_days(self, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Judgement and confirmation days (from study start) of the first ``n`` patients."""
        judged, confirmed = self.pool.response_days(n, self.model.look_trigger)
        dose = np.asarray(self.first_dose[:n])
        return dose + judged, dose + confirmed

    def start_from(self, state: TrialState, first_dose: NDArray[np.float64]) -> None:
        """Enroll a forecast's patients as the data have them, and replace those already known non-evaluable."""
        self.as_of = state.as_of_day
        self.site = state.site.tolist()
        self.consent = [math.nan] * state.n_enrolled
        self.enrolled = state.enrollment_day.tolist()
        self.first_dose = first_dose.tolist()
        self.complete_day = state.enrollment_complete_day
        if not self.replace:
            return
        for index in range(state.n_enrolled):
            evaluable, known_after = self.pool.evaluability(index)
            known = first_dose[index] + known_after
            if evaluable or known >= self.model.close_day:
                continue
            if known < self.as_of:
                self.target += 1
            else:
                self.env.timeout(known).callbacks.append(self._replace)

    def add_pending(self, site: int, consent: float, ends: float, dose_delay: int) -> None:
        """A forecast's eligible patient still in screening at the as-of date: decided when screening ends."""
        index = len(self.dose_days)
        self.dose_days.append(dose_delay)
        self.n_screened += 1
        decision = self.env.timeout(ends, value=(site, index, consent))
        decision.callbacks.append(self._decide)

    def on_arrival(self, site: int, day: float) -> None:
        """A patient consents to screening on ``day`` (now, or before anything else happens); a screen
        failure is known when screening ends.

        In a forecast, an arrival before the as-of date counts only if still in screening then:
        one that failed or finished screening before it is already in the data.
        """
        i = self._drawn
        self._drawn += 1
        if day < self.as_of and (self.fails[i] or day + self.screening_days[i] < self.as_of):
            return
        self.n_screened += 1
        if self.fails[i]:
            self.n_failed += 1
            return
        ahead = max(day - self.env.now, 0.0)  # 0 on the day itself (the clock may be an ulp past it)
        decision = self.env.timeout(self.screening_days[i] + ahead, value=(site, i, day))
        decision.callbacks.append(self._decide)

    def _decide(self, event: simpy.Event) -> None:
        """End of screening for an eligible patient: enroll if a place is free and recruitment open."""
        site, i, consent = cast(tuple[int, int, float], event.value)
        now = self.env.now
        if not self._open() or now >= self.model.close_day:
            self.n_turned_away += 1
            return
        index = len(self.enrolled)
        self.site.append(site)
        self.consent.append(consent)
        self.enrolled.append(now)
        self.first_dose.append(now + self.dose_days[i])
        if len(self.enrolled) == self.target:
            self.complete_day = now
        reached = self._count_reached.pop(len(self.enrolled), None)
        if reached is not None:
            reached.succeed()
        if self.replace:
            evaluable, known_after = self.pool.evaluability(index)
            if not evaluable:
                known = self.env.timeout(self.dose_days[i] + known_after)
                known.callbacks.append(self._replace)

    def _replace(self, event: simpy.Event) -> None:
        """Raise the target by one so that a new patient takes the non-evaluable one's place.

        Only while recruitment is open: after it closes, or after a futility stop, nobody can be replaced.
        """
        if self.closed or self.env.now >= self.model.close_day:
            return
        self.target += 1
        self.complete_day = math.nan
        self._resume()


@dataclass(frozen=True)
class DesEngine:
    """The SimPy engine as a history engine: every replicate from its own seed child; it starts forecasts."""

    name: str = "des"
    forecasts: bool = True

    def unsupported(self, model: TrialModel) -> str | None:
        """None: this engine simulates every model the scenario can state."""
        return None

    def histories(self, model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
        """Replicates ``start..stop-1`` of the run with root ``seed`` (:func:`simulate_trials`), stacked."""
        return HistoryBatch.from_histories(simulate_trials(model, replicate_seeds(seed, start, stop)))


DES_ENGINE = DesEngine()
"""The SimPy engine (``engine="des"``, the default)."""


def simulate_trial(model: TrialModel, seed: np.random.SeedSequence) -> TrialHistory:
    """Simulate one replicate from recruitment opening (or a forecast's as-of date) to the study end."""
    return simulate_trials(model, [seed])[0]


def simulate_trials(model: TrialModel, seeds: Sequence[np.random.SeedSequence]) -> list[TrialHistory]:
    """:func:`simulate_trial` of each seed, with the first block of every replicate's patients planned at once.

    Each replicate draws its patients from a stream of its own, so drawing every replicate's first
    block before any simulation changes no draw; turning the random numbers into outcomes and
    planning their journeys in one call each (both are computed patient by patient) saves numpy's
    fixed cost per call, most of a replicate's drawing and planning time. A forecast's replicates,
    whose first patients are the trial's own, plan one at a time.
    """
    streams = [_Streams(*seed.spawn(4)) for seed in seeds]
    patients = [_replicate_patients(model, s.start) for s in streams]
    firsts: list[PatientJourneys | None] = [None] * len(seeds)
    if model.start is None and seeds:
        block = model.scenario.trial.sample_size
        draws = [p.random_numbers(s.patients, block) for p, s in zip(patients, streams)]
        if all(p is model.patients for p in patients):  # one model: its outcomes in one call, too
            latent = model.patients.outcomes(PatientDraws.concatenate(draws))
        else:
            latent = outcomes_under(patients, [block] * len(draws), PatientDraws.concatenate(draws))
        planned = plan_journeys(model.patients, latent)
        firsts = [planned.take(slice(r * block, (r + 1) * block)) for r in range(len(seeds))]
    return [_simulate(model, s, p, first) for s, p, first in zip(streams, patients, firsts)]


class _Streams:
    """A replicate's four random streams, spawned from its seed: sites, screening, patients, and its start.

    The start stream draws the replicate's true ORR first (when a prior or a forecast's posterior
    gives one), then a forecast's start state.
    """

    def __init__(self, *seeds: np.random.SeedSequence) -> None:
        self.site_seed, self.screening_seed = seeds[0], seeds[1]
        self.patients = np.random.default_rng(seeds[2])
        self.start = np.random.default_rng(seeds[3])


def _simulate(
    model: TrialModel, streams: _Streams, patients: PatientModel, first: PatientJourneys | None
) -> TrialHistory:
    """One replicate from its streams and patient model (``first``: its first block of patients, already drawn)."""
    state = model.start
    known, first_dose = first, np.zeros(0)
    start_rng = streams.start
    if state is not None:
        first_dose = first_doses(model, state, start_rng)
        known = draw_given_status(
            patients, state.outcomes, first_dose, state.as_of_day, start_rng, state.patient_id
        )
    arrivals = _arrivals(model, streams.site_seed)
    pool = _PatientPool(patients, streams.patients, model.scenario.trial.sample_size, known)
    env = simpy.Environment()
    failing = model.scenario.recruitment.screen_failure_probability
    if state is not None and state.screen_failure is not None:
        failing = float(start_rng.beta(*state.screen_failure))
    desk = _Enrollment(
        env, model, np.random.default_rng(streams.screening_seed), pool, sum(a.size for a in arrivals), failing
    )
    if state is not None:
        desk.start_from(state, first_dose)
        for pending in patients_in_screening(model, state, start_rng):
            desk.add_pending(*pending)
    for index, days in enumerate(arrivals):
        env.process(screening_arrivals(env, days, index, desk.paused, desk.on_arrival))
    if model.rule.look_sizes:
        env.process(
            monitor_process(
                env,
                model.rule,
                model.scenario.monitoring.pause_enrollment,
                desk.enrolled_event,
                desk.response_days,
                desk.hold,
                desk.close,
                desk.looks.append,
            )
        )
    env.run(until=model.horizon_day)
    n = len(desk.enrolled)
    return TrialHistory(
        sample_size=model.scenario.trial.sample_size,
        enrollment_target=desk.target,
        n_screened=desk.n_screened,
        n_screen_failed=desk.n_failed,
        n_turned_away=desk.n_turned_away,
        site=np.asarray(desk.site, dtype=np.int64),
        consent_day=np.asarray(desk.consent, dtype=float),
        enrollment_day=np.asarray(desk.enrolled, dtype=float),
        first_dose_day=np.asarray(desk.first_dose, dtype=float),
        journeys=pool.journeys(n),
        enrollment_complete_day=desk.complete_day if n >= desk.target else math.nan,
        true_orr=patients.efficacy.orr,
        looks=tuple(desk.looks),
    )


def _arrivals(model: TrialModel, seed: np.random.SeedSequence) -> list[NDArray[np.float64]]:
    """Each site's screening arrivals, from opening or from a forecast's resume day, with its posterior rate."""
    rec, state = model.scenario.recruitment, model.start
    out = []
    for index, (site, site_rng) in enumerate(zip(rec.sites, map(np.random.default_rng, seed.spawn(len(rec.sites))))):
        posterior = None if state is None else (float(state.rates.shape[index]), float(state.rates.rate[index]))
        rates = site_rates(
            site, index, model.scenario.trial.study_start, model.open_day, rec.rate_cv, site_rng, posterior
        )
        if state is not None:  # a site still to open in a forecast may open late (forecast.activation_delay_days)
            rates = delayed_activation(rates, state.as_of_day, state.activation_delay_days, site_rng)
        start = -math.inf if state is None else state.resume_day
        if state is not None and state.pending is not None and state.pending[index] >= 0:
            start = state.as_of_day  # its patients in screening are known: see patients_in_screening
        out.append(arrival_days(rates, model.calendar, model.close_day, site_rng, start))
    return out


def _replicate_patients(model: TrialModel, rng: np.random.Generator) -> PatientModel:
    """A replicate's patient model: its true ORR drawn from the forecast's posterior or the scenario's prior.

    Without either the ORR is the scenario's point value and nothing is drawn. A forecast that
    learns hazards then draws them, and one that learns the PFS its hazard ratio given the ORR
    (after the ORR, so nothing else moves without them).
    """
    state = model.start
    law = model.orr_prior if state is None else state.orr_posterior
    patients = model.patients
    if law is not None:
        ceiling = model.orr_ceiling if state is None else state.orr_ceiling
        patients = model.with_orr(float(law.draw(rng.random(), ceiling)))
    if state is not None and state.hazards is not None:
        patients = state.hazards.draw(rng, patients)
    if state is not None and state.pfs_hazard is not None:
        patients = state.pfs_hazard.draw(rng, patients)
    return patients
