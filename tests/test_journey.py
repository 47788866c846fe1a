"""The protocol rules of :mod:`sim.model.journey`, pinned on hand-built latent outcomes.

Every hand-built patient follows the base schedule written out below: 21-day cycles (eight at
most, so treatment ends by day 168), scans every 42 days (five at most; offsets zero unless given), confirmation >= 28 days.
"""

from __future__ import annotations

import math
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest

from sim.distributions import Exponential
from sim.model.journey import END_REASONS, plan_journeys
from sim.model.patient_model import LatentOutcomes, PatientModel
from sim.model.recist import Response
from sim.model.trial_model import TrialModel
from sim.units import DAYS_PER_MONTH
from tests.helpers import BASE_SCHEDULE

CR, PR, SD, PD, NO_SCAN = Response.CR, Response.PR, Response.SD, Response.PD, Response.NO_SCAN
INF = math.inf
CYCLES, SCANS = 8, 5

SCHEDULE = BASE_SCHEDULE


@pytest.fixture(scope="module")
def model(base) -> PatientModel:
    return PatientModel(base.efficacy, base.safety, SCHEDULE, Exponential(6.0), max_cycles=CYCLES, max_scans=SCANS)


def _with_follow_up(model: PatientModel, months: float) -> PatientModel:
    return replace(model, schedule=replace(SCHEDULE, survival_follow_up_months=months))


def patient(**given: Any) -> dict[str, Any]:
    """One patient's latent outcomes: progression and death far beyond the scans unless given."""
    row: dict[str, Any] = {
        "pfs_event_day": 5000.0,
        "death_first": False,
        "death_day": 6000.0,
        "responder": False,
        "complete_response": False,
        "response_onset_day": INF,
        "withdrawal_day": INF,
        "lost_to_follow_up_day": INF,
        "ae_occurs": [False] * CYCLES,
        "ae_interrupts": [False] * CYCLES,
        "ae_discontinues": [False] * CYCLES,
        "interruption_days": [0] * CYCLES,
        "scan_offset_days": [0] * SCANS,
        "scan_missed": [False] * SCANS,
        "transient_response": False,
        "new_therapy_delay_days": INF,
        "unscheduled_progression": False,
        "unscheduled_fraction": 0.0,
    }
    assert set(given) <= set(row), set(given) - set(row)
    row.update(given)
    return row


def interrupted(cycle: int, days: int) -> dict[str, Any]:
    """AE columns of an AE in ``cycle`` that delays the next cycle by ``days``."""
    hit = [c == cycle for c in range(CYCLES)]
    return {"ae_occurs": hit, "ae_interrupts": hit, "interruption_days": [days if h else 0 for h in hit]}


def discontinued(cycle: int) -> dict[str, Any]:
    """AE columns of an AE in ``cycle`` that ends treatment."""
    hit = [c == cycle for c in range(CYCLES)]
    return {"ae_occurs": hit, "ae_discontinues": hit}


def latent(*patients: dict[str, Any]) -> LatentOutcomes:
    """Stack hand-built patients into a block, with the dtypes PatientModel.draw gives."""
    dtypes = {"death_first": bool, "responder": bool, "complete_response": bool, "ae_occurs": bool,
              "ae_interrupts": bool, "ae_discontinues": bool, "interruption_days": np.int64,
              "scan_offset_days": np.int64, "scan_missed": bool, "transient_response": bool,
              "unscheduled_progression": bool}
    return LatentOutcomes(
        **{name: np.array([p[name] for p in patients], dtype=dtypes.get(name, float)) for name in patients[0]}
    )


def _reasons(journeys) -> list[str]:
    return [END_REASONS[r] for r in journeys.treatment_end_reason]


def test_latent_blocks_from_the_model_have_the_hand_built_shape(base) -> None:
    """The hand-built blocks have the fields, dtypes and shapes PatientModel.draw gives."""
    drawn = replace(TrialModel.from_scenario(base).patients, max_cycles=CYCLES, max_scans=SCANS).draw(
        np.random.default_rng(0), 2
    )
    built = latent(patient(), patient())
    for field in fields(LatentOutcomes):
        a, b = getattr(drawn, field.name), getattr(built, field.name)
        assert (a.shape, a.dtype) == (b.shape, b.dtype), field.name


def test_max_duration_ends_at_the_end_of_the_last_cycle(model) -> None:
    j = plan_journeys(model, latent(patient(), patient(**interrupted(1, 10)), patient(**interrupted(CYCLES - 1, 10))))
    on_time = 21.0 * np.arange(CYCLES)
    delayed = on_time + np.where(np.arange(CYCLES) >= 2, 10, 0)
    np.testing.assert_array_equal(j.cycle_start_day, [on_time, delayed, on_time])
    # eight cycles of 21 days: the last starts on day 147 and ends on day 168; a delay after the
    # second cycle moves the end by 10 days, a delay after the last moves nothing
    np.testing.assert_array_equal(j.treatment_end_day, [168, 178, 168])
    assert _reasons(j) == ["max_duration"] * 3
    np.testing.assert_array_equal(j.ae_in_cycle[1], on_time == 21)
    np.testing.assert_array_equal(j.ae_in_cycle[2], on_time == 147)


def test_ae_discontinuation_ends_treatment_when_the_next_cycle_would_start(model) -> None:
    twice = discontinued(1)
    twice["ae_discontinues"] = twice["ae_occurs"] = [c in (1, 2) for c in range(CYCLES)]
    delayed = interrupted(0, 5)
    delayed["ae_occurs"] = [c in (0, 2) for c in range(CYCLES)]
    delayed["ae_discontinues"] = [c == 2 for c in range(CYCLES)]
    j = plan_journeys(model, latent(patient(**twice), patient(**delayed), patient(**discontinued(0))))
    # cycle 2 starts on day 21 and would be followed by cycle 3 on day 42; the first such AE counts
    # second patient: cycles start on days 0, 26 (delayed 5 days) and 47, so treatment ends on day 68
    np.testing.assert_array_equal(j.treatment_end_day, [42, 68, 21])
    assert _reasons(j) == ["adverse_event"] * 3
    never = [INF] * (CYCLES - 3)
    np.testing.assert_array_equal(j.cycle_start_day, [[0, 21, INF, *never], [0, 26, 47, *never], [0, INF, INF, *never]])
    # only cycles received can show an AE
    np.testing.assert_array_equal(j.ae_in_cycle[0], [c == 1 for c in range(CYCLES)])


def test_progression_is_dated_at_the_first_scan_on_or_after_the_latent_day(model) -> None:
    early = [0, -3, 0, 0, 0]  # the second scan falls on day 81
    j = plan_journeys(
        model,
        latent(
            patient(pfs_event_day=84.0),
            patient(pfs_event_day=83.5),
            patient(pfs_event_day=84.5),
            patient(pfs_event_day=81.0, scan_offset_days=early),
            patient(pfs_event_day=82.0, scan_offset_days=early),
        ),
    )
    np.testing.assert_array_equal(j.progression_day, [84, 84, 126, 81, 126])
    np.testing.assert_array_equal(j.treatment_end_day, j.progression_day)
    assert _reasons(j) == ["progression"] * 5
    # SD until the PD scan, and no scan after it
    np.testing.assert_array_equal(j.scan_status[0], [SD, PD, NO_SCAN, NO_SCAN, NO_SCAN])
    np.testing.assert_array_equal(j.scan_status[2], [SD, SD, PD, NO_SCAN, NO_SCAN])
    np.testing.assert_array_equal(j.scan_day[3], [42, 81, 126, 168, 210])


def test_scans_continue_after_a_stop_other_than_progression_until_follow_up_ends(model) -> None:
    months = 3.0  # follow-up ends 91.3 days after treatment ends
    j = plan_journeys(
        _with_follow_up(model, months),
        latent(
            patient(**discontinued(0)),                         # treatment ends day 21: scans to day 112.3
            patient(pfs_event_day=150.0, **discontinued(3)),    # treatment ends day 84: scans to day 175.3
            patient(pfs_event_day=120.0, **discontinued(0)),    # progression after follow-up ends
        ),
    )
    np.testing.assert_array_equal(j.treatment_end_day, [21, 84, 21])
    assert _reasons(j) == ["adverse_event"] * 3
    np.testing.assert_allclose(j.follow_up_end_day, np.array([21, 84, 21]) + months * DAYS_PER_MONTH, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(
        j.scan_status,
        [[SD, SD, NO_SCAN, NO_SCAN, NO_SCAN], [SD, SD, SD, PD, NO_SCAN], [SD, SD, NO_SCAN, NO_SCAN, NO_SCAN]],
    )
    # progression after treatment ends is still found by the scans of follow-up, but not after it
    np.testing.assert_array_equal(j.progression_day, [INF, 168, INF])


def test_each_end_reason(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(pfs_event_day=30.0),                                     # PD at the day-42 scan
            patient(pfs_event_day=50.0, death_first=True, death_day=50.0),   # dies before progression
            patient(**discontinued(1)),                                      # AE in cycle 2, ends day 42
            patient(withdrawal_day=60.0),
            patient(lost_to_follow_up_day=70.0),
            patient(),                                                       # eight cycles, ends day 168
        ),
    )
    assert _reasons(j) == list(END_REASONS)
    np.testing.assert_array_equal(j.treatment_end_day, [42, 50, 42, 60, 70, 168])
    # a death first is no progression; withdrawal and loss end follow-up on their day
    np.testing.assert_array_equal(j.progression_day, [42, INF, INF, INF, INF, INF])
    np.testing.assert_array_equal(j.follow_up_end_day[3:5], [60, 70])
    # no scan after death, withdrawal or loss
    np.testing.assert_array_equal(j.scan_status[1:5, :2], [[SD, NO_SCAN], [SD, SD], [SD, NO_SCAN], [SD, NO_SCAN]])
    # no new response after progression, death or exit, nor after follow-up ends (36 months)
    np.testing.assert_allclose(j.response_closed_day[:5], [42, 50, 42 + 36 * DAYS_PER_MONTH, 60, 70], rtol=1e-15)


def test_responses_are_read_from_onset_until_the_pfs_event(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(responder=True, response_onset_day=30.0, pfs_event_day=150.0),
            patient(responder=True, complete_response=True, response_onset_day=84.0, pfs_event_day=150.0),
            patient(responder=True, response_onset_day=84.5, pfs_event_day=150.0),
        ),
    )
    np.testing.assert_array_equal(
        j.scan_status,
        [[PR, PR, PR, PD, NO_SCAN], [SD, CR, CR, PD, NO_SCAN], [SD, SD, PR, PD, NO_SCAN]],
    )
    # confirmed by the next responding scan >= 28 days later; a single responding scan never is
    np.testing.assert_array_equal(j.confirmation_day, [84, 126, INF])


def test_evaluability(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(),
            patient(scan_offset_days=[5, 0, 0, 0, 0]),
            patient(pfs_event_day=30.0, death_first=True, death_day=30.0),
            patient(withdrawal_day=40.0),
        ),
    )
    np.testing.assert_array_equal(j.evaluable, [True, True, False, False])
    # known at the first scan, or the day the patient leaves before it
    np.testing.assert_array_equal(j.evaluability_day, [42, 47, 30, 40])


# Moved from tests/test_patient_model.py: the patient model's promise that a responder never
# progresses before confirmation, as the scan schedule realises it.
N = 60_000


def _draw(scenario, seed: int = 1):
    model = TrialModel.from_scenario(scenario).patients
    return model, model.draw(np.random.default_rng(seed), N)


def test_every_latent_responder_is_confirmed_without_dropout(scenario_with) -> None:
    scenario = scenario_with("safety.withdrawal_per_month=0", "safety.loss_to_follow_up_per_month=0")
    model, drawn = _draw(scenario)
    journeys = plan_journeys(model, drawn)
    responding = (journeys.scan_status == 1) | (journeys.scan_status == 2)
    first = np.where(responding, journeys.scan_day, np.inf).min(axis=1)
    last = np.where(responding, journeys.scan_day, -np.inf).max(axis=1)
    confirmed = last - first >= scenario.schedule.confirmation_min_days
    np.testing.assert_array_equal(confirmed, drawn.responder)


def test_a_missed_scan_is_not_done_and_progression_waits_for_the_next_one(model) -> None:
    # latent progression on day 80: the scan of day 84 is missed, so progression is dated at day 126
    missed = [False, True, False, False, False]
    j = plan_journeys(model, latent(patient(pfs_event_day=80.0), patient(pfs_event_day=80.0, scan_missed=missed)))
    np.testing.assert_array_equal(j.progression_day, [84.0, 126.0])
    np.testing.assert_array_equal(j.scan_status[1, :3], [SD, NO_SCAN, PD])
    np.testing.assert_array_equal(j.scan_missed[1], [False, True, False, False, False])
    assert not j.scan_missed[0].any()
    # a scan missed after progression is not "missed": follow-up for PFS was over
    late = plan_journeys(model, latent(patient(pfs_event_day=30.0, scan_missed=[False, False, True, False, False])))
    assert not late.scan_missed.any()


def test_an_unscheduled_assessment_dates_progression_between_progression_and_the_next_scan(model) -> None:
    """ceil(progression + fraction * (scan - progression)): day 80 + 0.5 * (84 - 80) = 82; 80.2 + 0.25 * 3.8 -> 82."""
    found = {"unscheduled_progression": True}
    j = plan_journeys(
        model,
        latent(
            patient(pfs_event_day=80.0, unscheduled_fraction=0.5, **found),
            patient(pfs_event_day=80.2, unscheduled_fraction=0.25, **found),
            patient(pfs_event_day=80.0, unscheduled_fraction=0.0, **found),  # on the progression's own day
            patient(pfs_event_day=80.0, unscheduled_fraction=0.5),  # found at the scheduled scan
            patient(pfs_event_day=30.0, unscheduled_fraction=0.5, death_first=True, death_day=30.0, **found),
        ),
    )
    np.testing.assert_array_equal(j.progression_day, [82.0, 82.0, 80.0, 84.0, INF])
    np.testing.assert_array_equal(j.treatment_end_day[:4], [82.0, 82.0, 80.0, 84.0])
    np.testing.assert_array_equal(j.scan_status[0], [SD, PD, NO_SCAN, NO_SCAN, NO_SCAN])
    np.testing.assert_array_equal(j.scan_day[0, :3], [42.0, 82.0, 126.0])
    # a scan missed on the schedule is replaced all the same; death before the assessment hides it
    missed = [False, True, False, False, False]
    k = plan_journeys(
        model,
        latent(
            patient(pfs_event_day=80.0, unscheduled_fraction=0.5, scan_missed=missed, **found),
            patient(pfs_event_day=80.0, unscheduled_fraction=0.5, death_day=81.5, **found),
        ),
    )
    np.testing.assert_array_equal(k.progression_day, [82.0, INF])
    assert not k.scan_missed.any()
    assert _reasons(k) == ["progression", "death"]


def test_a_missed_first_scan_delays_evaluability_to_the_next(model) -> None:
    j = plan_journeys(model, latent(patient(scan_missed=[True, False, False, False, False])))
    assert j.evaluable[0] and j.evaluability_day[0] == 84.0


def test_a_transient_response_reads_pr_once_and_is_never_confirmed(model) -> None:
    j = plan_journeys(model, latent(patient(transient_response=True), patient(transient_response=True, pfs_event_day=30.0)))
    np.testing.assert_array_equal(j.scan_status[0], [PR, SD, SD, SD, SD])
    assert j.confirmation_day[0] == INF
    # progression at the first scan leaves no stable scan to show it
    assert j.scan_status[1, 0] == PD and (j.scan_status[1] != PR).all()


def test_new_therapy_starts_only_after_an_ae_or_maximum_duration_stop(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(new_therapy_delay_days=20.0, **discontinued(0)),
            patient(new_therapy_delay_days=20.0),
            patient(new_therapy_delay_days=20.0, pfs_event_day=80.0),
            patient(**discontinued(0)),
        ),
    )
    assert _reasons(j) == ["adverse_event", "max_duration", "progression", "adverse_event"]
    np.testing.assert_array_equal(j.new_therapy_day, [21.0 + 20.0, 168.0 + 20.0, INF, INF])


# Boundaries of the journey's rules, each on a hand-built patient (issue 15): the exact day an
# inequality flips, and every tie between treatment-end reasons.


def test_a_scan_due_on_the_day_of_death_withdrawal_or_loss_is_not_done(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(pfs_event_day=84.0, death_first=True, death_day=84.0),  # dies on the day of the second scan
            patient(withdrawal_day=84.0),
            patient(lost_to_follow_up_day=126.0),
            patient(withdrawal_day=84.5),                                   # half a day later: the scan is done
        ),
    )
    np.testing.assert_array_equal(
        j.scan_status[:, :3], [[SD, NO_SCAN, NO_SCAN], [SD, NO_SCAN, NO_SCAN], [SD, SD, NO_SCAN], [SD, SD, NO_SCAN]]
    )
    assert _reasons(j) == ["death", "withdrawal", "lost_to_follow_up", "withdrawal"]
    np.testing.assert_array_equal(j.treatment_end_day, [84, 84, 126, 84.5])


def test_a_scan_on_the_last_day_of_follow_up_is_done_and_shows_progression(model) -> None:
    # No follow-up after treatment: follow-up ends the day treatment does, here on a scan day.
    no_follow_up = _with_follow_up(model, 0.0)
    j = plan_journeys(
        no_follow_up,
        latent(
            patient(**discontinued(1)),                     # AE stop on day 42, the day of the first scan
            patient(pfs_event_day=40.0, **discontinued(1)),  # progression found by that scan
            patient(**discontinued(0)),                     # AE stop on day 21: no scan at all
        ),
    )
    np.testing.assert_array_equal(j.follow_up_end_day, [42, 42, 21])
    np.testing.assert_array_equal(j.scan_status[:, :2], [[SD, NO_SCAN], [PD, NO_SCAN], [NO_SCAN, NO_SCAN]])
    np.testing.assert_array_equal(j.progression_day, [INF, 42, INF])
    np.testing.assert_array_equal(j.evaluable, [True, True, False])
    # the non-evaluable patient is known to be so when follow-up ends
    assert j.evaluability_day[2] == 21.0
    # progression and an AE stop on the same day: progression, the first reason in the list
    assert _reasons(j) == ["adverse_event", "progression", "adverse_event"]


def test_ties_between_end_reasons_go_to_the_first_in_the_list(model) -> None:
    last_cycle = discontinued(CYCLES - 1)  # an AE in the last cycle stops treatment when that cycle ends
    j = plan_journeys(
        model,
        latent(
            patient(**last_cycle),                                                  # AE stop = max duration, day 168
            patient(withdrawal_day=42.0, **discontinued(1)),                        # AE stop and withdrawal, day 42
            patient(withdrawal_day=100.0, lost_to_follow_up_day=100.0),             # withdrawal and loss, day 100
            patient(pfs_event_day=100.0, death_first=True, death_day=100.0, withdrawal_day=100.0),  # death and withdrawal
            patient(lost_to_follow_up_day=168.0),                                   # loss and max duration, day 168
        ),
    )
    np.testing.assert_array_equal(j.treatment_end_day, [168, 42, 100, 100, 168])
    assert _reasons(j) == ["adverse_event", "adverse_event", "withdrawal", "death", "lost_to_follow_up"]


def test_the_scan_that_finds_progression_makes_a_patient_evaluable(model) -> None:
    j = plan_journeys(model, latent(patient(pfs_event_day=10.0), patient(pfs_event_day=10.0, scan_missed=[True] + [False] * 4)))
    np.testing.assert_array_equal(j.scan_status[:, :2], [[PD, NO_SCAN], [NO_SCAN, PD]])
    np.testing.assert_array_equal(j.evaluable, [True, True])
    np.testing.assert_array_equal(j.evaluability_day, [42, 84])
    np.testing.assert_array_equal(j.progression_day, [42, 84])


def test_no_new_therapy_after_death_withdrawal_or_loss(model) -> None:
    j = plan_journeys(
        model,
        latent(
            patient(new_therapy_delay_days=20.0, pfs_event_day=50.0, death_first=True, death_day=50.0),
            patient(new_therapy_delay_days=20.0, withdrawal_day=60.0),
            patient(new_therapy_delay_days=20.0, lost_to_follow_up_day=70.0),
        ),
    )
    assert _reasons(j) == ["death", "withdrawal", "lost_to_follow_up"]
    np.testing.assert_array_equal(j.new_therapy_day, [INF, INF, INF])


def test_a_transient_response_reads_at_the_first_stable_scan_done(model) -> None:
    j = plan_journeys(model, latent(patient(transient_response=True, scan_missed=[True] + [False] * 4)))
    np.testing.assert_array_equal(j.scan_status[0], [NO_SCAN, PR, SD, SD, SD])
    assert j.confirmation_day[0] == INF


def test_cycle_delays_do_not_shift_the_scan_grid(model) -> None:
    j = plan_journeys(model, latent(patient(**interrupted(0, 14)), patient(scan_offset_days=[-7, 7, 0, 0, 0])))
    np.testing.assert_array_equal(j.cycle_start_day[0, :3], [0, 35, 56])
    np.testing.assert_array_equal(j.scan_day, [[42, 84, 126, 168, 210], [35, 91, 126, 168, 210]])
