"""Recorded dates in a forecast: the last scan and progression days held exactly, deaths on their day, bad dates refused."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.engines.vector.conditioned import conditioned_journeys
from sim.forecast import ObservedError, parse_observed
from sim.model.conditioning import draw_given_status
from sim.model.journey import END_REASONS
from sim.model.recist import Response
from sim.model.trial_model import TrialModel
from sim.model.trial_state import KnownOutcomes
from sim.scenario import load_scenario
from sim.units import DAYS_PER_MONTH
from tests.helpers import stable_patients
from tests.test_forecast_input import AS_OF, EXAMPLE, _edited

# No response, no death before progression or soon after it, no AE or dropout: the next progression
# of a patient still progression-free has the closed form of the PFS alone.
PFS_ONLY = (
    "efficacy.orr=0.0",
    "efficacy.death_without_progression_share=0.0",
    "efficacy.os_median_months=500.0",
    "safety.ae_probability_by_cycle=[0.0]",
    "safety.withdrawal_per_month=0.0",
    "safety.loss_to_follow_up_per_month=0.0",
)
DOSE = 100.0
LAST_SCAN = 3 * 42 + 5  # the third scan, five days late
AS_OF_DAY = DOSE + 150.0  # before the fourth scan can happen (168 - 7 days)


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_a_dated_last_scan_gives_the_next_progression_its_closed_form(engine: str) -> None:
    """Given T > the last scan (day 131), progression is read at the fourth scan, 168 + o with o uniform on [-7, 7]:

    P(read on day 168 + o) = (1/15) (F(168 + o) - F(131)) / (1 - F(131)), each within 4 binomial SE. On the
    vector engine, 6000 replicates of one patient share one stream of candidates (:mod:`sim.engines.vector.conditioned`).
    """
    model = TrialModel.from_scenario(load_scenario("base", list(PFS_ONLY)))
    n = 6000
    rng = np.random.default_rng(2)
    if engine == "des":
        drawn = draw_given_status(
            model.patients, stable_patients(n, DOSE + LAST_SCAN), np.full(n, DOSE), AS_OF_DAY, rng
        )
    else:
        models = [model.patients] * n
        drawn = conditioned_journeys(
            models, stable_patients(1, DOSE + LAST_SCAN), np.full((n, 1), DOSE), AS_OF_DAY, rng
        )
    assert np.all(drawn.scan_day[:, 2] == LAST_SCAN)
    pfs = model.patients.efficacy.pfs

    def cdf(day: float) -> float:
        return float(pfs.cdf(day / DAYS_PER_MONTH))

    survived = 1.0 - cdf(LAST_SCAN)
    for o in range(-7, 8):
        exact = (cdf(168 + o) - cdf(LAST_SCAN)) / survived / 15
        seen = np.mean(drawn.progression_day == 168 + o)
        assert abs(seen - exact) <= 4 * math.sqrt(exact * (1 - exact) / n)


def test_without_the_date_the_last_scan_falls_anywhere_in_its_window() -> None:
    """The status alone leaves the third scan's day free: what the dated scan pins down."""
    model = TrialModel.from_scenario(load_scenario("base", list(PFS_ONLY)))
    drawn = draw_given_status(
        model.patients, stable_patients(2000), np.full(2000, DOSE), AS_OF_DAY, np.random.default_rng(3)
    )
    assert len(np.unique(drawn.scan_day[:, 2])) == 15


def test_recorded_progression_and_death_days_are_kept_in_every_draw() -> None:
    """A patient who progressed at the second scan and died later: every draw has those days."""
    model = TrialModel.from_scenario(load_scenario("base"))
    n = 300
    progression, death = DOSE + 84 + 3, DOSE + 160
    wanted = KnownOutcomes(
        np.full(n, Response.SD, np.int8),  # stable at the first scan, progression read at the second
        np.zeros(n, bool),
        np.ones(n, bool),
        np.ones(n, bool),
        np.full(n, END_REASONS.index("progression"), np.int8),
        last_scan_day=np.full(n, progression),
        progression_day=np.full(n, progression),
        death_day=np.full(n, death),
    )
    drawn = draw_given_status(model.patients, wanted, np.full(n, DOSE), DOSE + 200.0, np.random.default_rng(4))
    assert np.all(DOSE + drawn.progression_day == progression)
    assert np.all(np.floor(DOSE + drawn.death_day) == death)
    assert np.all(DOSE + drawn.treatment_end_day == progression)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


# (description, row (0-based), cells to set, the message's row and column, words it must hold)
BAD_DATES = [
    (
        "progression off the scan schedule",
        2,
        {"progression_date": "2026-06-20"},
        "row 3 (patient MADE-UP-03), column progression_date",
        "not a scan day",
    ),
    (
        "a scan after progression",
        3,
        {"last_scan_date": "2026-10-29"},
        "row 4 (patient MADE-UP-04), column last_scan_date",
        "differs from the progression date 2026-09-17",
    ),
    (
        "treatment ended for progression on another day",
        4,
        {"treatment_end_date": "2026-07-20"},
        "row 5 (patient MADE-UP-05), column treatment_end_date",
        "treatment ended for progression",
    ),
    (
        "a scan after death",
        6,
        {"death_date": "2026-07-30"},
        "row 7 (patient MADE-UP-07), column last_scan_date",
        "after the death date 2026-07-30",
    ),
]


@pytest.mark.parametrize(("what", "row", "cells", "where", "words"), BAD_DATES, ids=[b[0] for b in BAD_DATES])
def test_inconsistent_dates_are_refused_naming_the_patient_and_column(frame, what, row, cells, where, words) -> None:
    with pytest.raises(ObservedError) as caught:
        parse_observed(_edited(frame, row, **cells), load_scenario("base"), AS_OF, "observed file f.csv")
    message = str(caught.value)
    assert where in message and words in message and "\n" not in message


def test_the_made_up_file_is_consistent_and_dated() -> None:
    observed = parse_observed(pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False), load_scenario("base"), AS_OF, "f")
    assert sum(p.progression_date is not None for p in observed.patients) >= 4
    assert sum(p.death_date is not None for p in observed.patients) >= 2


def test_with_unscheduled_assessments_a_progression_between_scans_is_accepted(frame) -> None:
    """schedule.unscheduled_progression_share > 0: a progression may be found on any day, so the row is read."""
    day = "2026-08-20"  # 99 days after the first dose: between the second and third scans' windows
    edited = _edited(frame, 3, last_scan_date=day, progression_date=day, treatment_end_date=day)
    with pytest.raises(ObservedError, match="not a scan day"):
        parse_observed(edited, load_scenario("base"), AS_OF, "f")
    scenario = load_scenario("base", ["schedule.unscheduled_progression_share=0.3"])
    patient = parse_observed(edited, scenario, AS_OF, "f").patients[3]
    assert patient.progression_date is not None and patient.progression_date.isoformat() == day


def _progressed(n: int, day: float) -> KnownOutcomes:
    """``n`` patients stable at a first scan, then progressed on ``day`` (from dose), treatment ended by it."""
    return KnownOutcomes(
        np.full(n, Response.SD, np.int8),
        np.zeros(n, bool),
        np.ones(n, bool),
        np.zeros(n, bool),
        np.full(n, END_REASONS.index("progression"), np.int8),
        last_scan_day=np.full(n, DOSE + day),
        progression_day=np.full(n, DOSE + day),
    )


def test_with_unscheduled_assessments_a_recorded_progression_is_matched_not_forced() -> None:
    """Progression recorded on day 60 with a share of 0.5: the draws keep the day, and the scans keep their law.

    The dated draw must agree with brute force (the undated status, kept when progression fell on
    day 60): the first scan's mean day within 4 SE of the difference. Forcing the scan nearest day
    60 (the first) to it, as a scheduled-only schedule does, would put every first scan on day 60.
    """
    model = TrialModel.from_scenario(
        load_scenario("base", [*PFS_ONLY, "schedule.unscheduled_progression_share=0.5"])
    )
    n, as_of = 200, DOSE + 100.0
    dated = draw_given_status(model.patients, _progressed(n, 60.0), np.full(n, DOSE), as_of, np.random.default_rng(4))
    assert np.all(dated.progression_day == 60.0)
    undated = _progressed(40 * n, 60.0)
    undated = KnownOutcomes(*(getattr(undated, f) for f in ("best_scan", "confirmed", "progressed", "dead", "end_reason")))
    brute = draw_given_status(model.patients, undated, np.full(40 * n, DOSE), as_of, np.random.default_rng(5))
    kept = brute.scan_day[brute.progression_day == 60.0, 0]
    first = dated.scan_day[:, 0]
    assert kept.size > 50 and np.all(first < 60.0)
    se = math.hypot(first.std() / math.sqrt(n), kept.std() / math.sqrt(kept.size))
    assert abs(first.mean() - kept.mean()) <= 4 * se
