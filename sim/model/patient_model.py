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

    def _pfs_uniforms(self, rng: np.random.Generator, responder: NDArray[np.bool_]) -> NDArray[np.float64]:
        """U for each patient from g_R (responders) or g_N (the rest), as set out in the module doc.

        Each uniform goes through the inverse CDF of its own density (piecewise linear between the knots).
        """
        knots, responders, non_responders = self._pfs_mixture
        uniforms = rng.random(size=(responder.shape[0],))
        return np.where(
            responder, np.interp(uniforms, responders, knots), np.interp(uniforms, non_responders, knots)
        )

    def _response_onset(self, rng: np.random.Generator, pfs_day: NDArray[np.float64]) -> NDArray[np.float64]:
        """Onset day truncated so that a confirmation scan surely precedes the PFS event."""
        s = self.schedule
        lag = confirmation_lag_scans(s)
        last_scan = np.ceil((pfs_day - s.scan_window_days) / s.scan_interval_days) - 1 - lag
        latest_onset = np.maximum(last_scan, 1) * s.scan_interval_days - s.scan_window_days
        ttr = self.efficacy.time_to_response
        reach = ttr.cdf(latest_onset / DAYS_PER_MONTH)
        return ttr.quantile(rng.random(pfs_day.shape[0]) * reach) * DAYS_PER_MONTH

    def _exit_day(self, rng: np.random.Generator, per_month: float, n: int) -> NDArray[np.float64]:
        """Exponential time to withdrawal or loss to follow-up; never when the rate is zero."""
        draws = rng.exponential(1.0, n)
        if per_month <= 0:
            return np.full(n, np.inf)
        return draws / per_month * DAYS_PER_MONTH

    def draw(self, rng: np.random.Generator, n: int) -> LatentOutcomes:
        """Draw ``n`` patients' latent outcomes; the order of draws is fixed for reproducibility."""
        e, sa, sc = self.efficacy, self.safety, self.schedule
        responder = rng.random(n) < e.orr
        u = self._pfs_uniforms(rng, responder)
        pfs_day = e.pfs.quantile(u) * DAYS_PER_MONTH
        onset = np.where(responder, self._response_onset(rng, pfs_day), np.inf)
        complete = responder & (rng.random(n) < e.complete_response_share)
        death_first = rng.random(n) < e.death_without_progression_share
        pps_day = self.post_progression_survival.sample(rng, n) * DAYS_PER_MONTH
        death_day = np.where(death_first, pfs_day, pfs_day + pps_day)
        withdrawal = self._exit_day(rng, sa.withdrawal_per_month, n)
        lost = self._exit_day(rng, sa.loss_to_follow_up_per_month, n)

        ae_occurs, interrupts, discontinues, interruption_days = self._adverse_events(rng, n)
        w = sc.scan_window_days
        offsets = rng.integers(-w, w + 1, (self.max_scans, n)).T  # column-major as drawn (sim.arrays)
        deviations = rng.spawn(1)[0]
        missed, transient, new_therapy = self._protocol_deviations(deviations, responder)
        unscheduled, fraction = self._unscheduled_progressions(deviations, n)
        return LatentOutcomes(
            pfs_event_day=pfs_day,
            death_first=death_first,
            death_day=death_day,
            responder=responder,
            complete_response=complete,
            response_onset_day=onset,
            withdrawal_day=withdrawal,
            lost_to_follow_up_day=lost,
            ae_occurs=ae_occurs,
            ae_interrupts=interrupts,
            ae_discontinues=discontinues,
            interruption_days=interruption_days,
            scan_offset_days=offsets,
            scan_missed=missed,
            transient_response=transient,
            new_therapy_delay_days=new_therapy,
            unscheduled_progression=unscheduled,
            unscheduled_fraction=fraction,
        )

    def _adverse_events(
        self, rng: np.random.Generator, n: int
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.int64]]:
        """Each cycle's grade >= 3 AE, whether it interrupts or discontinues, and the delay it causes.

        One uniform ``u`` per cycle decides all three: with the cycle's probability ``p`` and the
        shares ``d`` (discontinuation) and ``i`` (interruption), an AE is ``u < p``; it discontinues
        when ``u < p d`` and interrupts when ``p d <= u < p (d + i)``, so given an AE each happens
        in its share; given an interruption, ``(u - p d) / (p i)`` is uniform again and picks the
        delay among the whole days of ``safety.interruption_days``. Drawn cycle by cycle for all
        patients, so the matrices are column-major as drawn (:mod:`sim.arrays`), with no copy.
        """
        sa, p = self.safety, self._ae_per_cycle
        d, i = sa.ae_discontinuation_share, sa.ae_interruption_share
        u = rng.random((self.max_cycles, n)).T
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
        self, rng: np.random.Generator, responder: NDArray[np.bool_]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float64]]:
        """Missed scans, transient (never confirmed) responses and the delay to new anticancer therapy.

        Drawn from their own stream (spawned from the block's), so scenarios without them draw
        everything else exactly as before. A transient response is for patients without a
        confirmed one; the new-therapy delay counts from a treatment end that is not progression
        or death, infinite when the patient never starts one.
        """
        n = responder.shape[0]
        sa, e = self.safety, self.efficacy
        missed = self._missed_scans(rng, n)
        transient = ~responder & (rng.random(n) < e.unconfirmed_response_share)
        starts = rng.random(n) < sa.new_therapy_probability
        low, high = sa.new_therapy_days
        delay = np.where(starts, rng.integers(low, high + 1, n), np.inf).astype(float)
        return missed, transient, delay

    def _unscheduled_progressions(
        self, rng: np.random.Generator, n: int
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
        """Whose progression an unscheduled assessment finds, and where between progression and the next scan.

        The last draws of the deviations stream, and none when the share is 0, so a scenario without
        unscheduled assessments draws everything exactly as before.
        """
        share = self.schedule.unscheduled_progression_share
        if share <= 0:
            return np.zeros(n, dtype=bool), np.zeros(n)
        return rng.random(n) < share, rng.random(n)
