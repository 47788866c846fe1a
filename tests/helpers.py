"""Constants shared by the tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from sim.scenario.model import Schedule

__all__ = ["BASE_SCHEDULE", "IDEAL"]

# A trial stripped to its primary endpoint: no dropout, no AEs, fast full enrollment, responses
# present at the first scan, and a primary cutoff late enough to confirm every response.
IDEAL = (
    "safety.withdrawal_per_month=0",
    "safety.loss_to_follow_up_per_month=0",
    "safety.ae_probability_by_cycle=[0.0]",
    "recruitment.rate_cv=0",
    "recruitment.periods=[]",
    "recruitment.sites.0.ramp_up_months=0",
    "recruitment.sites.0.screened_per_month=20",
    "efficacy.time_to_response={family='exponential', median_months=0.01}",
    "efficacy.death_without_progression_share=0",
    "analysis.primary_cutoff.months=9",
)


# The base scenario's schedule, written out: 6-weekly scans +/- 7 days, confirmation >= 28 days.
BASE_SCHEDULE = Schedule(
    cycle_days=21,
    max_treatment_months=24.0,
    scan_interval_days=42,
    scan_window_days=7,
    confirmation_required=True,
    confirmation_min_days=28,
    sd_min_days=35,
    survival_follow_up_months=36.0,
)
