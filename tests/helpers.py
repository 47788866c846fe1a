"""Constants and hand-built records shared by the tests (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.decisions import DecisionFigures
from sim.model.journey import END_REASONS, PatientJourneys
from sim.model.recist import Response
from sim.model.trial_state import KnownOutcomes
from sim.scenario.model import Schedule
from sim.stats.mcse import Estimate

__all__ = [
    "BASE_SCHEDULE",
    "CROSS_MACHINE_RTOL",
    "IDEAL",
    "SIMON_29",
    "assert_same_seeded_output",
    "hand_built_journeys",
    "journey_patient",
    "point_decisions",
]

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


# Simon's optimal design for p0 0.10 against p1 0.30 (stop at 1 of 10, success above 5 of 29), as overrides.
SIMON_29 = (
    "trial.sample_size=29",
    "monitoring.rule='simon'",
    "monitoring.stage1_patients=10",
    "monitoring.stage1_max_responders=1",
    "monitoring.final_max_responders=5",
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


def point_decisions(power: Estimate, p0: float = 0.1) -> DecisionFigures:
    """The decision figures of a hand-built summary with a point ORR: assurance is the power, no prior."""
    none = Estimate(0.0, 0.0, power.n)
    return DecisionFigures(
        prior=None, prior_kept=1.0, orr_ceiling=0.5, p0=p0, p1=None, assurance=power, positive_and_effective=None,
        false_go=none, false_stop=None, true_orr_if_positive={}, true_orr_if_negative={}, stop_at_look=(),
    )


# How far a float of seeded output may move between machines. numpy picks SIMD kernels for log, exp
# and power by CPU (AVX-512, AVX2 or the baseline), and those kernels differ by a few units in the
# last place (numpy documents up to 4 ULP); after the chains of arithmetic behind a median or a
# month count this was seen as 1.8e-14 absolute on values of 1 to 50 months, a relative error of
# ~1e-15. 1e-12 leaves room for two orders of magnitude more rounding drift, while any change to the
# model or its draws moves these values by far more (a day is 0.03 months).
CROSS_MACHINE_RTOL = 1e-12


def assert_same_seeded_output(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float = CROSS_MACHINE_RTOL) -> None:
    """Equal as "the same scenario and seed give the same results" promises across machines.

    Columns, dtypes, integers, booleans, dates, labels and lists of them exactly; float columns to
    ``rtol`` with NaN and infinities in the same places (docs/design.md, "Reproducible by construction").
    """
    pd.testing.assert_index_equal(actual.columns, expected.columns)
    assert actual.dtypes.to_dict() == expected.dtypes.to_dict()
    floats = [c for c in expected.columns if pd.api.types.is_float_dtype(expected[c].dtype)]
    exact = [c for c in expected.columns if c not in floats]
    pd.testing.assert_frame_equal(actual[exact], expected[exact], check_exact=True)
    pd.testing.assert_frame_equal(actual[floats], expected[floats], check_exact=False, rtol=rtol, atol=0.0)


def stable_patients(n: int, last_scan_day: float | None = None) -> KnownOutcomes:
    """``n`` patients in stable disease, on treatment, no response or progression; the last scan dated if given."""
    return KnownOutcomes(
        np.full(n, Response.SD, np.int8),
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.full(n, -1, np.int8),
        last_scan_day=np.full(n, np.nan if last_scan_day is None else last_scan_day),
    )


def assert_figures_agree(des: dict[str, Estimate], vector: dict[str, Estimate], same_reach: bool = True) -> int:
    """Each figure of the two engines within 4 combined MCSE; returns how many were compared.

    A figure not finite on either side (a quantile never reached) is skipped; with ``same_reach``
    it must then be not finite on both.
    """
    compared = 0
    for figure, a in des.items():
        b = vector[figure]
        if not (math.isfinite(a.value) and math.isfinite(b.value)):
            assert not same_reach or math.isfinite(a.value) == math.isfinite(b.value), figure
            continue
        bound = 4 * math.hypot(a.mcse, b.mcse)
        assert abs(a.value - b.value) <= bound, f"{figure}: des {a.value:.4f} vs vector {b.value:.4f} (4 MCSE {bound:.4f})"
        compared += 1
    return compared
