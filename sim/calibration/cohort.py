"""The synthetic cohort a calibration reads its statistics from, seen on the source's scan grid.

The cohort is drawn by the project's own patient model, journey rules and observation code
(:mod:`sim.model.patient_model`, :mod:`sim.model.journey`, :mod:`sim.model.observe`), so a calibrated efficacy block
reproduces in the simulator exactly what it was fitted to. Everyone starts on day 0, nobody drops
out, no adverse events stop treatment and follow-up runs to a long horizon: what is left is the
efficacy model seen through the assessment schedule. A fixed seed gives common random numbers, so
the statistics are deterministic functions of the parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from ..model.journey import plan_journeys
from ..model.observe import observe
from ..model.patient_model import PatientModel
from ..model.recist import disease_controlled, responded
from ..runs.runner import DEFAULT_SEED
from ..scenario.model import Efficacy, Scenario
from ..stats.survival import KaplanMeier, kaplan_meier
from ..units import DAYS_PER_MONTH, day_number
from .medians import (
    expected_km_median,
    expected_km_median_se,
    interpolated_median,
    interpolated_median_se,
    interpolated_survival,
)

__all__ = [
    "DEFAULT_COHORT_SIZE",
    "DEFAULT_SEED",
    "MIN_HORIZON_MONTHS",
    "CohortStatistics",
    "horizon_months",
    "observe_cohort",
    "source_scenario",
]

DEFAULT_COHORT_SIZE = 40_000
MIN_HORIZON_MONTHS = 60.0


def horizon_months(longest_target_months: float) -> float:
    """Follow-up of the cohort: five years, or three times the longest target time if that is later."""
    return max(MIN_HORIZON_MONTHS, 3.0 * longest_target_months)


def source_scenario(
    template: Scenario,
    efficacy: Efficacy,
    scan_interval_days: int,
    confirmed: bool,
    follow_up_months: float,
    unscheduled_progression: float = 0.0,
) -> Scenario:
    """The template scenario turned into the source study's assessment schedule, without dropout or AEs.

    No scan is missed and nobody starts new therapy: a published figure is read as the source's
    patients were assessed.

    Scans every ``scan_interval_days`` from first dose with the template's window (narrowed to
    below half the interval if needed); SD counts from the first scan. Treatment is one cycle long
    because in this model treatment does not change efficacy and scanning continues to progression.
    A share ``unscheduled_progression`` of progressions is found at an unscheduled assessment.
    """
    sc = template.schedule
    window = min(sc.scan_window_days, (scan_interval_days - 1) // 2)
    schedule = dataclasses.replace(
        sc,
        scan_interval_days=scan_interval_days,
        scan_window_days=window,
        confirmation_required=confirmed,
        sd_min_days=scan_interval_days - window,
        max_treatment_months=sc.cycle_days / DAYS_PER_MONTH,
        survival_follow_up_months=follow_up_months,
        missed_scan_probability=0.0,
        unscheduled_progression_share=unscheduled_progression,
    )
    safety = dataclasses.replace(
        template.safety,
        ae_probability_by_cycle=(0.0,),
        withdrawal_per_month=0.0,
        loss_to_follow_up_per_month=0.0,
        new_therapy_probability=0.0,
    )
    if not confirmed:  # without confirmation every responding scan is a response: no transient ones
        efficacy = dataclasses.replace(efficacy, unconfirmed_response_share=0.0)
    end = template.trial.study_start + dt.timedelta(days=math.ceil(follow_up_months * DAYS_PER_MONTH))
    trial = dataclasses.replace(template.trial, study_end=end)
    return dataclasses.replace(template, trial=trial, schedule=schedule, safety=safety, efficacy=efficacy)


@dataclass(frozen=True)
class CohortStatistics:
    """What a study of the cohort's patients reports, in months: best-response rates and KM curves.

    Each statistic has its Monte Carlo standard error as an estimate from ``size`` patients: binomial
    for a share, Greenwood's for a KM rate, and those of :mod:`sim.calibration.medians` for medians.
    """

    size: int
    orr: float
    dcr: float
    pfs: KaplanMeier
    os: KaplanMeier
    orr_unconfirmed: float = 0.0

    def curve(self, endpoint: str) -> KaplanMeier:
        """The KM curve of ``"pfs"`` or ``"os"``."""
        return self.pfs if endpoint == "pfs" else self.os

    def median(self, endpoint: str, source_n: int | None) -> float:
        """Expected KM median in a study of ``source_n`` patients, or the large-study median if None."""
        fit = self.curve(endpoint)
        return interpolated_median(fit) if source_n is None else expected_km_median(fit, source_n)

    def median_se(self, endpoint: str, source_n: int | None) -> float:
        """MCSE of :meth:`median` on this cohort."""
        fit = self.curve(endpoint)
        return interpolated_median_se(fit) if source_n is None else expected_km_median_se(fit, source_n)

    def rate_at(self, endpoint: str, months: float) -> float:
        """KM event-free rate at ``months``."""
        return self.curve(endpoint).survival_at(months).estimate

    def rate_se(self, endpoint: str, months: float) -> float:
        """Greenwood standard error of :meth:`rate_at` (0 before the first event, NaN beyond follow-up)."""
        fit = self.curve(endpoint)
        if math.isnan(self.rate_at(endpoint, months)):
            return math.nan
        index = int(np.searchsorted(fit.time, months, side="right")) - 1
        return 0.0 if index < 0 else float(fit.std_err[index])

    def share_se(self, share: float) -> float:
        """Binomial standard error of a share of this cohort's patients (ORR, DCR)."""
        return math.sqrt(share * (1.0 - share) / self.size)

    def joined_rate_at(self, endpoint: str, months: float) -> float:
        """The KM curve joined linearly between its event times, at ``months``."""
        return interpolated_survival(self.curve(endpoint), months)


def observe_cohort(scenario: Scenario, size: int, seed: int, not_assessed: float = 0.0) -> CohortStatistics:
    """Draw ``size`` patients with ``seed``, schedule their scans and observe them at the horizon.

    The first ``round(not_assessed * size)`` patients (a random subset: patients are drawn alike)
    leave the day after first dose, never assessed: in the ORR and DCR denominators, censored at
    baseline for PFS. Raises the model's ModelError when the efficacy numbers cannot hold together.
    """
    t = scenario.trial
    horizon = day_number(t.study_end, t.study_start)
    patients = PatientModel.from_scenario(scenario.efficacy, scenario.safety, scenario.schedule, horizon)
    latent = patients.draw(np.random.default_rng(seed), size)
    leaving = np.arange(size) < round(not_assessed * size)
    if leaving.any():
        latent = dataclasses.replace(latent, withdrawal_day=np.where(leaving, 1.0, latent.withdrawal_day))
    journeys = plan_journeys(patients, latent)
    seen = observe(journeys, np.zeros(size), horizon, scenario.schedule.sd_min_days)
    bor = seen.best_overall_response
    responders = responded(bor)
    return CohortStatistics(
        size=size,
        orr=float(responders.mean()),
        dcr=float(disease_controlled(bor).mean()),
        pfs=kaplan_meier(seen.pfs_months, seen.pfs_event),
        os=kaplan_meier(seen.os_months, seen.os_event),
        orr_unconfirmed=float(seen.any_response.mean()),
    )
