"""Progression dated as a protocol dates it: at the scan that finds it, or earlier at an unscheduled assessment.

With exponential PFS (rate lam), scans exactly every S = 42 days and a share q of progressions found at an
unscheduled assessment on day ceil(L + U (s - L)) (L the progression, s the next scan, U uniform), the
observed progression day D has, for a whole day t with a = S floor(t / S):

    P(D <= t) = F(a) + q * integral_a^t (t - L) / (a + S - L) lam exp(-lam L) dL

(a progression before the last scan on or before t is found by then; one after it is found by t only at an
unscheduled assessment whose day is at most t). Death after progression is made negligible (a post-progression
survival of 10,000 months) and nobody leaves, so every progression is found.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import integrate

from sim.distributions import Exponential
from sim.model.journey import plan_journeys
from sim.model.patient_model import PatientModel
from sim.units import DAYS_PER_MONTH

PATIENTS = 40_000
SCAN = 42
MEDIAN_MONTHS = 3.0
SETTINGS = (
    "efficacy.pfs={family='exponential', median_months=3.0}",
    "efficacy.death_without_progression_share=0",
    "schedule.scan_window_days=0",
    "safety.withdrawal_per_month=0",
    "safety.loss_to_follow_up_per_month=0",
)


def closed_form(t: int, share: float) -> float:
    """P(D <= t) of the module docstring."""
    lam = math.log(2.0) / (MEDIAN_MONTHS * DAYS_PER_MONTH)
    a = SCAN * (t // SCAN)
    found_by_scan = 1.0 - math.exp(-lam * a)
    if t == a:
        return found_by_scan
    early, _ = integrate.quad(lambda s: (t - s) / (a + SCAN - s) * lam * math.exp(-lam * s), a, t)
    return found_by_scan + share * early


@pytest.mark.parametrize("share", [1.0, 0.4, 0.0])
def test_progression_days_follow_the_closed_form(scenario_with, share: float) -> None:
    scenario = scenario_with(*SETTINGS, f"schedule.unscheduled_progression_share={share}")
    model = replace(
        PatientModel.from_scenario(scenario.efficacy, scenario.safety, scenario.schedule, 2_000.0),
        post_progression_survival=Exponential(10_000.0),
    )
    journeys = plan_journeys(model, model.draw(np.random.default_rng(17), PATIENTS))
    days = journeys.progression_day
    for t in (10, 41, 42, 60, 83, 84, 100, 125):
        expected = closed_form(t, share)
        se = math.sqrt(expected * (1 - expected) / PATIENTS)
        assert abs(np.mean(days <= t) - expected) <= 4 * se, (t, np.mean(days <= t), expected)
    assert np.all(days[np.isfinite(days)] == np.round(days[np.isfinite(days)]))  # assessments fall on whole days
