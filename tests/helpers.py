"""Constants and hand-built records shared by the tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from sim.journey import END_REASONS, PatientJourneys
from sim.recist import Response
from sim.scenario.model import Schedule

__all__ = ["BASE_SCHEDULE", "IDEAL", "hand_built_journeys", "journey_patient"]

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


def journey_patient(**given: Any) -> dict[str, Any]:
    """One patient's journey (days from first dose) for :func:`hand_built_journeys`.

    Scans on days 42, 84, 126 and 168 all read SD, four cycles start on days 0, 21, 42 and 63,
    treatment stops at the maximum duration on day 84 and follow-up lasts to day 1000, unless given.
    """
    row: dict[str, Any] = {
        "scan_day": [42.0, 84.0, 126.0, 168.0],
        "scan_status": [Response.SD] * 4,
        "cycle_start_day": [0.0, 21.0, 42.0, 63.0],
        "ae_in_cycle": [False] * 4,
        "progression_day": math.inf,
        "death_day": math.inf,
        "treatment_end_day": 84.0,
        "treatment_end_reason": END_REASONS.index("max_duration"),
        "follow_up_end_day": 1000.0,
        "evaluable": True,
        "evaluability_day": 42.0,
        "confirmation_day": math.inf,
        "response_closed_day": math.inf,
        "scan_missed": [False] * 4,
        "new_therapy_day": math.inf,
    }
    assert set(given) <= set(row), set(given) - set(row)
    row.update(given)
    return row


def hand_built_journeys(*patients: dict[str, Any]) -> PatientJourneys:
    """Stack :func:`journey_patient` rows into journeys, with the dtypes ``plan_journeys`` gives."""
    dtypes = {"scan_status": np.int8, "treatment_end_reason": np.int8, "ae_in_cycle": bool, "evaluable": bool,
              "scan_missed": bool}
    return PatientJourneys(
        **{f.name: np.array([p[f.name] for p in patients], dtype=dtypes.get(f.name, float)) for f in fields(PatientJourneys)}
    )
