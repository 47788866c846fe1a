"""Constants shared by the tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

__all__ = ["IDEAL"]

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
