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

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy import integrate, optimize

from ..distributions import Exponential, SurvivalDistribution
from ..scenario.model import Efficacy, Safety, Schedule
from ..units import DAYS_PER_MONTH
from .recist import confirmation_lag_scans, earliest_sure_confirmation_day

__all__ = [
    "PatientModel",
    "PatientDraws",
    "LatentOutcomes",
    "ModelError",
    "solve_post_progression_survival",
]

class ModelError(ValueError):
    """The scenario's efficacy numbers cannot hold together: ``field`` and what is wrong with it.

    The message is ``"{field} {detail}"``; the trial model turns it into a ScenarioError as it is.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field} {detail}")
        self.field = field
        self.detail = detail


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


def _overall_survival_sf(pfs: SurvivalDistribution, pps: SurvivalDistribution, death_share: float, t: float) -> float:
    """P(OS > t) when OS = T for deaths first and T + PPS otherwise (months).

    The convolution is integrated over u = F(s), which needs only the PFS quantile function.
    """
    if t <= 0:
        return 1.0
    reach = float(pfs.cdf(t))
    conv, _ = integrate.quad(lambda u: float(pps.sf(t - float(pfs.quantile(u)))), 0.0, reach, limit=200)
    return float(pfs.sf(t)) + (1.0 - death_share) * conv


def solve_post_progression_survival(
    pfs: SurvivalDistribution, os_median_months: float, death_share: float
) -> SurvivalDistribution:
    """The exponential post-progression survival that makes the OS median exactly ``os_median_months``."""
    if os_median_months <= pfs.median:
        raise ModelError(
            "efficacy.os_median_months",
            f"({os_median_months:g}) must exceed the PFS median "
            f"({pfs.median:g}): OS includes PFS"
        )
    if death_share >= 1.0:
        raise ModelError(
            "efficacy.os_median_months",
            "cannot be met when death_without_progression_share is 1 "
            "(then OS equals PFS); lower the share or give post_progression_survival"
        )

    def gap(log_median: float) -> float:
        pps = Exponential(math.exp(log_median))
        return _overall_survival_sf(pfs, pps, death_share, os_median_months) - 0.5

    lo, hi = math.log(1e-3), math.log(1e3)
    if gap(lo) > 0 or gap(hi) < 0:
        raise ModelError(
            "efficacy.os_median_months",
            f"({os_median_months:g}) cannot be reached by any post-progression survival with this PFS and "
            "death_without_progression_share; lower the share or change efficacy.os_median_months"
        )
    return Exponential(math.exp(optimize.brentq(gap, lo, hi, xtol=1e-12)))


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
                "efficacy.pfs.median_months or shorten schedule.scan_interval_days"
            )
        max_cycles = max(1, int(schedule.max_treatment_months * DAYS_PER_MONTH // schedule.cycle_days))
        max_scans = int(math.ceil((horizon_days + schedule.scan_window_days) / schedule.scan_interval_days)) + 1
        return cls(efficacy, safety, schedule, pps, max_cycles, max_scans)

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
        return np.where(
            responder, np.interp(uniforms, responders, knots), np.interp(uniforms, non_responders, knots)
        )

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
        e, sa = self.efficacy, self.safety
        u = draws.uniforms
        responder = u[0] < e.orr
        pfs_day = e.pfs.quantile(self._pfs_uniforms(u[1], responder)) * DAYS_PER_MONTH
        onset = np.where(responder, self._response_onset(u[2], pfs_day), np.inf)
        complete = responder & (u[3] < e.complete_response_share)
        death_first = u[4] < e.death_without_progression_share
        pps_day = self.post_progression_survival.quantile(u[5]) * DAYS_PER_MONTH
        death_day = np.where(death_first, pfs_day, pfs_day + pps_day)
        ae_occurs, interrupts, discontinues, interruption_days = self._adverse_events(draws.cycles)
        transient, new_therapy = self._protocol_deviations(draws.deviations, responder)
        unscheduled, fraction = self._unscheduled_progressions(draws.deviations)
        return LatentOutcomes(
            pfs_event_day=pfs_day,
            death_first=death_first,
            death_day=death_day,
            responder=responder,
            complete_response=complete,
            response_onset_day=onset,
            withdrawal_day=self._exit_day(u[6], sa.withdrawal_per_month),
            lost_to_follow_up_day=self._exit_day(u[7], sa.loss_to_follow_up_per_month),
            ae_occurs=ae_occurs,
            ae_interrupts=interrupts,
            ae_discontinues=discontinues,
            interruption_days=interruption_days,
            scan_offset_days=draws.offsets,
            scan_missed=draws.missed,
            transient_response=transient,
            new_therapy_delay_days=new_therapy,
            unscheduled_progression=unscheduled,
            unscheduled_fraction=fraction,
        )

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

    def _protocol_deviations(
        self, deviations: NDArray[np.float64], responder: NDArray[np.bool_]
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Transient (never confirmed) responses and the delay to new anticancer therapy.

        From their own stream (spawned from the block's, after the missed scans), so scenarios
        without them draw everything else exactly as before. A transient response is for patients
        without a confirmed one; the new-therapy delay, uniform on the whole days of
        ``safety.new_therapy_days``, counts from a treatment end that is not progression or death,
        infinite when the patient never starts one.
        """
        sa, e = self.safety, self.efficacy
        transient = ~responder & (deviations[0] < e.unconfirmed_response_share)
        low, high = sa.new_therapy_days
        days = low + np.minimum(deviations[2] * (high - low + 1), high - low).astype(np.int64)
        return transient, np.where(deviations[1] < sa.new_therapy_probability, days, np.inf)

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
