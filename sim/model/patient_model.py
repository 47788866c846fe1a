"""Each patient's latent outcomes, drawn up front, before any scheduling.

This module is the patient model both engines share: it says what *would* happen to a patient
(when the tumour progresses, whether and when it responds, when the patient dies, when adverse
events strike), never when anything is observed. Observation belongs to :mod:`sim.model.journey` and
:mod:`sim.model.observe`.

The joint model, in days from first dose (see docs/model.md for the derivation):

* ``U ~ Uniform(0, 1)`` and the latent PFS event time is ``T = F^{-1}(U)``, so the PFS
  marginal is exactly the scenario's distribution ``F`` whatever else is drawn.
* Responders (probability ``orr``) take ``U`` from a density ``g_R`` on ``[u_L, 1]``, where
  ``u_L = F(L)`` and ``L`` is the latest day a response present from the first scan is surely
  confirmed; non-responders take ``U`` from ``(1 - orr g_R) / (1 - orr)``. The mixture is
  Uniform(0, 1), so ``F`` and ``orr`` both hold exactly; ``g_R`` blends "any PFS long enough to
  confirm" (association 0) with "the longest PFS" (association 1).
* A responder's onset ``tau`` follows the time-to-response distribution truncated so that the
  confirmation scan falls before ``T``: a responder never progresses before confirmation.
* The PFS event is a death with probability ``death_without_progression_share``; otherwise a
  progression followed by post-progression survival. Hence PFS <= OS always.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..distributions import SurvivalDistribution
from ..scenario.model import Efficacy, Safety, Schedule
from ..units import DAYS_PER_MONTH
from .latent import COURSE, LatentOutcomes, PatientDraws
from .post_progression import ModelError, solve_post_progression_survival
from .recist import confirmation_lag_scans, earliest_sure_confirmation_day

__all__ = [
    "COURSE",
    "PatientModel",
    "PatientDraws",
    "LatentOutcomes",
    "ModelError",
    "outcomes_under",
    "solve_post_progression_survival",
]


def _cdf_at_knots(mass: NDArray[np.float64]) -> NDArray[np.float64]:
    """The CDF at the knots of a density constant between them, from the mass of each piece."""
    cdf = np.concatenate(([0.0], np.cumsum(mass)))
    return cdf / cdf[-1]


@dataclass(frozen=True)
class PatientModel:
    """The scenario's latent model, with derived constants computed once per run."""

    efficacy: Efficacy
    safety: Safety
    schedule: Schedule
    post_progression_survival: SurvivalDistribution
    max_cycles: int
    max_scans: int
    planned_days: float = math.inf

    @classmethod
    def from_scenario(cls, efficacy: Efficacy, safety: Safety, schedule: Schedule, horizon_days: float) -> PatientModel:
        """Check the efficacy numbers fit together and derive what every draw needs."""
        pps = efficacy.post_progression_survival
        if pps is None:
            assert efficacy.os_median_months is not None
            pps = solve_post_progression_survival(
                efficacy.pfs, efficacy.os_median_months, efficacy.death_without_progression_share
            )
        confirm_day = earliest_sure_confirmation_day(schedule)
        still_free = float(efficacy.pfs.sf(confirm_day / DAYS_PER_MONTH))
        if efficacy.orr > 0 and efficacy.orr >= still_free:
            raise ModelError(
                "efficacy.orr",
                f"({efficacy.orr:g}) must be below the share of patients still "
                f"progression-free on day {confirm_day:g}, when a response seen at the first scan is "
                f"surely confirmed ({still_free:.3f}); lower efficacy.orr, lengthen "
                "efficacy.pfs.median_months or shorten schedule.scan_interval_days",
            )
        max_cycles = max(1, int(schedule.max_treatment_months * DAYS_PER_MONTH // schedule.cycle_days))
        max_scans = int(math.ceil((horizon_days + schedule.scan_window_days) / schedule.scan_interval_days)) + 1
        return cls(efficacy, safety, schedule, pps, max_cycles, max_scans)

    def windowed(self, days: float) -> PatientModel:
        """This model planning only the cycles and scans that can start within ``days`` of first dose, and a scan more.

        A status ``days`` after first dose is the same under both (``tests/test_windowed_journeys.py``):
        a later cycle or scan, a stop for AE or maximum duration at the end of a later cycle, are
        all after it; the one scan more is the one an unscheduled assessment can move into the
        window. Only what falls within the window is the patient's: the stop for maximum duration
        it plans at the end of its own last cycle lies beyond. It turns the full model's draws
        cut to its widths (:meth:`PatientDraws.first`) and never draws itself. Nothing cut, it is
        this model.
        """
        sc = self.schedule
        cycles = min(self.max_cycles, max(0, math.floor(days / sc.cycle_days)) + 1)
        scans = min(self.max_scans, max(0, math.floor((days + sc.scan_window_days) / sc.scan_interval_days)) + 1)
        if (cycles, scans) == (self.max_cycles, self.max_scans):
            return self
        return dataclasses.replace(self, max_cycles=cycles, max_scans=scans, planned_days=min(days, self.planned_days))

    @property
    def pfs_u_lower(self) -> float:
        """u_L: the PFS quantile below which nobody can be a confirmed responder."""
        return float(self.efficacy.pfs.cdf(earliest_sure_confirmation_day(self.schedule) / DAYS_PER_MONTH))

    @cached_property
    def _pfs_mixture(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """The knots of g_R and g_N (module doc) and the CDF of each at them, computed once per model."""
        orr = self.efficacy.orr
        a = self.efficacy.response_pfs_association
        u_l = self.pfs_u_lower
        knots = np.array([0.0, u_l, 1.0 - orr, 1.0])
        widths = np.diff(knots)
        g_r = np.zeros(3)
        if orr > 0:
            base = (1.0 - a) / (1.0 - u_l)
            g_r = np.array([0.0, base, base + a / orr])
        g_n = (1.0 - orr * g_r) / (1.0 - orr)
        non_responders = _cdf_at_knots(g_n * widths)
        responders = _cdf_at_knots(g_r * widths) if orr > 0 else non_responders  # nobody responds at 0
        return knots, responders, non_responders

    @cached_property
    def _ae_per_cycle(self) -> NDArray[np.float64]:
        """Each cycle's AE probability, the last given repeating to ``max_cycles``."""
        probs = np.asarray(self.safety.ae_probability_by_cycle, dtype=float)
        return np.concatenate((probs, np.full(max(0, self.max_cycles - probs.size), probs[-1])))[: self.max_cycles]

    def _pfs_uniforms(self, uniforms: NDArray[np.float64], responder: NDArray[np.bool_]) -> NDArray[np.float64]:
        """U for each patient from g_R (responders) or g_N (the rest), as set out in the module doc.

        Each uniform goes through the inverse CDF of its own density (piecewise linear between the knots).
        """
        knots, responders, non_responders = self._pfs_mixture
        return np.where(responder, np.interp(uniforms, responders, knots), np.interp(uniforms, non_responders, knots))

    def _response_onset(self, uniforms: NDArray[np.float64], pfs_day: NDArray[np.float64]) -> NDArray[np.float64]:
        """Onset day truncated so that a confirmation scan surely precedes the PFS event."""
        s = self.schedule
        lag = confirmation_lag_scans(s)
        last_scan = np.ceil((pfs_day - s.scan_window_days) / s.scan_interval_days) - 1 - lag
        latest_onset = np.maximum(last_scan, 1) * s.scan_interval_days - s.scan_window_days
        ttr = self.efficacy.time_to_response
        reach = ttr.cdf(latest_onset / DAYS_PER_MONTH)
        return ttr.quantile(uniforms * reach) * DAYS_PER_MONTH

    def _exit_day(self, uniforms: NDArray[np.float64], per_month: float) -> NDArray[np.float64]:
        """Exponential time to withdrawal or loss to follow-up, by inversion; never when the rate is zero."""
        if per_month <= 0:
            return np.full(uniforms.shape, np.inf)
        draws = -np.log1p(-uniforms)
        return draws / per_month * DAYS_PER_MONTH

    def draw(self, rng: np.random.Generator, n: int) -> LatentOutcomes:
        """Draw ``n`` patients' latent outcomes; the order of draws is fixed for reproducibility."""
        return self.outcomes(self.random_numbers(rng, n))

    def random_numbers(self, rng: np.random.Generator, n: int) -> PatientDraws:
        """The random numbers of ``n`` patients (:class:`PatientDraws`), in a fixed order, from ``rng``.

        The few calls are what a small block costs (the SimPy engine draws a replicate's patients as a
        block); cycles and scans are drawn one after another for all patients, column-major as drawn.
        """
        if self.planned_days < math.inf:
            raise ValueError("a windowed patient model turns the full model's draws (PatientDraws.first), never draws")
        uniforms = rng.random((8, n))
        cycles = rng.random((self.max_cycles, n)).T
        w = self.schedule.scan_window_days
        offsets = rng.integers(-w, w + 1, (self.max_scans, n)).T
        deviations = rng.spawn(1)[0]
        missed = self._missed_scans(deviations, n)
        rows = 5 if self.schedule.unscheduled_progression_share > 0 else 3  # the first three rows are the same
        return PatientDraws(uniforms, cycles, offsets, missed, deviations.random((rows, n)))

    def outcomes(self, draws: PatientDraws) -> LatentOutcomes:
        """The latent outcomes the random numbers ``draws`` give under this model (module doc); nothing is drawn."""
        return LatentOutcomes(**self.efficacy_outcomes(draws), **self.course(draws))

    def efficacy_outcomes(self, draws: PatientDraws) -> dict[str, NDArray[Any]]:
        """The latent outcomes that depend on the efficacy: response, PFS and death (all but :data:`COURSE`).

        With :meth:`course`, what :meth:`outcomes` gives; apart, so that models sharing their
        safety and schedule turn the course of a set of draws once (:func:`outcomes_under`).
        """
        u = draws.uniforms
        responder = u[0] < self.efficacy.orr
        return self._efficacy_given(draws, responder, self._pfs_uniforms(u[1], responder))

    def _efficacy_given(
        self, draws: PatientDraws, responder: NDArray[np.bool_], pfs_uniforms: NDArray[np.float64]
    ) -> dict[str, NDArray[Any]]:
        """:meth:`efficacy_outcomes` given who responds and each patient's PFS uniform (after the mixture)."""
        e = self.efficacy
        u = draws.uniforms
        pfs_day = e.pfs.quantile(pfs_uniforms) * DAYS_PER_MONTH
        death_first = u[4] < e.death_without_progression_share
        pps_day = self.post_progression_survival.quantile(u[5]) * DAYS_PER_MONTH
        return {
            "pfs_event_day": pfs_day,
            "death_first": death_first,
            "death_day": np.where(death_first, pfs_day, pfs_day + pps_day),
            "responder": responder,
            "complete_response": responder & (u[3] < e.complete_response_share),
            "response_onset_day": np.where(responder, self._response_onset(u[2], pfs_day), np.inf),
            # a transient response is for patients without a confirmed one
            "transient_response": ~responder & (draws.deviations[0] < e.unconfirmed_response_share),
        }

    def course(self, draws: PatientDraws) -> dict[str, NDArray[Any]]:
        """The latent outcomes (:data:`COURSE`) that depend only on the safety and the schedule."""
        sa, u = self.safety, draws.uniforms
        ae_occurs, interrupts, discontinues, interruption_days = self._adverse_events(draws.cycles)
        unscheduled, fraction = self._unscheduled_progressions(draws.deviations)
        return {
            "withdrawal_day": self._exit_day(u[6], sa.withdrawal_per_month),
            "lost_to_follow_up_day": self._exit_day(u[7], sa.loss_to_follow_up_per_month),
            "ae_occurs": ae_occurs,
            "ae_interrupts": interrupts,
            "ae_discontinues": discontinues,
            "interruption_days": interruption_days,
            "scan_offset_days": draws.offsets,
            "scan_missed": draws.missed,
            "new_therapy_delay_days": self._new_therapy(draws.deviations),
            "unscheduled_progression": unscheduled,
            "unscheduled_fraction": fraction,
        }

    def _adverse_events(
        self, u: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]]:
        """Each cycle's grade >= 3 AE, whether it interrupts or discontinues, and the delay it causes.

        One uniform ``u`` per cycle decides all three: with the cycle's probability ``p`` and the
        shares ``d`` (discontinuation) and ``i`` (interruption), an AE is ``u < p``; it discontinues
        when ``u < p d`` and interrupts when ``p d <= u < p (d + i)``, so given an AE each happens
        in its share; given an interruption, ``(u - p d) / (p i)`` is uniform again and picks the
        delay among the whole days of ``safety.interruption_days``.
        """
        sa, p = self.safety, self._ae_per_cycle
        d, i = sa.ae_discontinuation_share, sa.ae_interruption_share
        discontinues = u < p * d
        interrupts = (u < p * min(d + i, 1.0)) ^ discontinues  # u < p d implies u < p (d + i)
        days = np.zeros(u.shape, dtype=np.int64, order="F")
        rows, cycles = np.nonzero(interrupts)
        if rows.size:
            low, high = sa.interruption_days
            share = (u[rows, cycles] - p[cycles] * d) / (p[cycles] * i)
            days[rows, cycles] = low + np.minimum(share * (high - low + 1), high - low).astype(np.int64)
        return u < p, interrupts, discontinues, days

    def _missed_scans(self, rng: np.random.Generator, n: int) -> NDArray[np.bool_]:
        """Which scheduled scans each patient misses: the first draws of ``rng``, a fresh stream.

        When scans are never missed, the stream is advanced past the uniforms instead of drawing
        them: a fresh PCG64 stream has nothing buffered, and each uniform takes one 64-bit step, so
        every later draw is the same as if they had been drawn (other generators draw them).
        """
        p = self.schedule.missed_scan_probability
        if p > 0 or not isinstance(rng.bit_generator, np.random.PCG64 | np.random.PCG64DXSM):
            return rng.random((self.max_scans, n)).T < p
        rng.bit_generator.advance(n * self.max_scans)
        return np.zeros((n, self.max_scans), dtype=bool, order="F")

    def _new_therapy(self, deviations: NDArray[np.float64]) -> NDArray[np.float64]:
        """The delay to new anticancer therapy, uniform on the whole days of ``safety.new_therapy_days``.

        From the deviations stream (spawned from the block's, after the missed scans; its first row
        decides a transient response), so scenarios without it draw everything else exactly as
        before. It counts from a treatment end that is not progression or death, and is infinite
        for a patient who never starts one.
        """
        sa = self.safety
        low, high = sa.new_therapy_days
        days = low + np.minimum(deviations[2] * (high - low + 1), high - low).astype(np.int64)
        return np.where(deviations[1] < sa.new_therapy_probability, days, np.inf)

    def _unscheduled_progressions(
        self, deviations: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Whose progression an unscheduled assessment finds, and where between progression and the next scan.

        The last rows of the deviations, drawn only when the share is above 0, so a scenario without
        unscheduled assessments draws everything exactly as before.
        """
        share = self.schedule.unscheduled_progression_share
        if share <= 0:
            n = deviations.shape[1]
            return np.zeros(n, dtype=bool), np.zeros(n)
        return deviations[3] < share, deviations[4]


def outcomes_under(models: Sequence[PatientModel], sizes: Sequence[int], draws: PatientDraws) -> LatentOutcomes:
    """The draws turned block by block, the first ``sizes[0]`` rows under ``models[0]`` and so on.

    Always the blocks' own :meth:`PatientModel.outcomes`, stacked, value for value; computed
    patient by patient, most of it at once: the course when the models share their safety and
    schedule (one scenario's replicates), and the efficacy too, but for the response mixture,
    when they differ only in their ORR (a prior's, or a posterior's, draws).
    """
    first = models[0]
    if len(models) == 1:
        return first.outcomes(draws)
    ends = np.cumsum(sizes)
    blocks = [draws.rows(int(e - k), int(e)) for e, k in zip(ends, sizes)]
    course = (first.safety, first.schedule, first.max_cycles, first.max_scans)
    if any((m.safety, m.schedule, m.max_cycles, m.max_scans) != course for m in models):
        return LatentOutcomes.concatenate([m.outcomes(d) for m, d in zip(models, blocks)])
    if all(_same_but_orr(m, first) for m in models):
        u = draws.uniforms
        responder = u[0] < np.repeat([m.efficacy.orr for m in models], sizes)
        starts = ends - np.asarray(sizes)
        mixed = [m._pfs_uniforms(u[1, a:e], responder[a:e]) for m, a, e in zip(models, starts, ends)]
        efficacy = first._efficacy_given(draws, responder, np.concatenate(mixed))
    else:
        parts = [m.efficacy_outcomes(d) for m, d in zip(models, blocks)]
        efficacy = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    return LatentOutcomes(**efficacy, **first.course(draws))


def _same_but_orr(model: PatientModel, other: PatientModel) -> bool:
    """Whether the two models differ at most in their ORR (its mixture's knots follow it)."""
    if model is other:
        return True
    same_efficacy = dataclasses.replace(model.efficacy, orr=other.efficacy.orr) == other.efficacy
    return same_efficacy and model.post_progression_survival == other.post_progression_survival
