"""What a data cutoff shows (:mod:`sim.model.observe`), pinned on hand-built journeys.

Each hand-built patient is scanned on days 42, 84, 126 and 168 from first dose, has four cycles
starting on days 0, 21, 42 and 63 and is followed until day 1000, unless given otherwise.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from sim.model.history import TrialHistory
from sim.model.journey import END_REASONS, PatientJourneys
from sim.model.observe import cutoff_day, observe
from sim.model.recist import Response
from sim.model.trial_model import TrialModel
from sim.scenario.model import Cutoff
from sim.units import DAYS_PER_MONTH
from tests.helpers import hand_built_journeys as journeys
from tests.helpers import journey_patient as patient

CR, PR, SD, PD, NE, NO_SCAN = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE, Response.NO_SCAN
INF = math.inf
SD_MIN_DAYS = 35


def _observe(j: PatientJourneys, dose: list[float], day: float, sd_min_days: float = SD_MIN_DAYS, censoring: str = "treatment_policy"):
    return observe(j, np.array(dose, dtype=float), day, sd_min_days, censoring)


def test_pfs_is_censored_at_the_last_known_scan_not_at_the_cutoff() -> None:
    j = journeys(patient(scan_status=[SD, SD, SD, NO_SCAN]))
    # dosed on day 10: scans on study days 52, 94, 136 (the fourth was never done)
    for day, last_scan in ((10 + 100, 84), (10 + 126, 126), (10 + 400, 126), (10 + 125.5, 84)):
        obs = _observe(j, [10.0], day)
        assert not obs.pfs_event[0]
        assert obs.pfs_months[0] == last_scan / DAYS_PER_MONTH, day
    # before the first scan: censored on day 0, not evaluable, best response NE
    obs = _observe(j, [10.0], 10 + 41)
    assert obs.pfs_months[0] == 0.0 and not obs.pfs_event[0] and not obs.evaluable[0]
    assert obs.best_overall_response[0] == NE
    np.testing.assert_array_equal(obs.known_scans[0], [False] * 4)


def test_os_is_censored_at_the_earlier_of_the_cutoff_and_the_end_of_contact() -> None:
    j = journeys(
        patient(follow_up_end_day=300.0),
        patient(follow_up_end_day=150.0),
        patient(follow_up_end_day=150.0, death_day=250.0),   # dies after contact ended: never seen
        patient(follow_up_end_day=300.0, death_day=180.0),
    )
    obs = _observe(j, [0.0] * 4, 200.0)
    np.testing.assert_array_equal(obs.os_event, [False, False, False, True])
    np.testing.assert_allclose(obs.os_months * DAYS_PER_MONTH, [200, 150, 150, 180], rtol=1e-12)
    late = _observe(j, [0.0] * 4, 400.0)
    np.testing.assert_array_equal(late.os_event, [False, False, False, True])
    np.testing.assert_array_equal(late.pfs_event, [False, False, False, True])
    np.testing.assert_allclose(late.os_months * DAYS_PER_MONTH, [300, 150, 150, 180], rtol=1e-12)


def test_a_cutoff_on_an_event_day_sees_the_event() -> None:
    j = journeys(patient(scan_status=[SD, PD, NO_SCAN, NO_SCAN], progression_day=84.0, death_day=130.0))
    on_pd, before_pd = _observe(j, [10.0], 10 + 84), _observe(j, [10.0], 10 + 83.5)
    assert on_pd.pfs_event[0] and on_pd.pfs_months[0] == 84 / DAYS_PER_MONTH
    assert on_pd.best_overall_response[0] == SD  # the day-42 scan is stable disease at >= 35 days
    assert not before_pd.pfs_event[0] and before_pd.pfs_months[0] == 42 / DAYS_PER_MONTH
    on_death, before_death = _observe(j, [10.0], 10 + 130), _observe(j, [10.0], 10 + 129.5)
    assert on_death.os_event[0] and on_death.os_months[0] == 130 / DAYS_PER_MONTH
    assert not before_death.os_event[0] and before_death.os_months[0] == pytest.approx(129.5 / DAYS_PER_MONTH)
    # A cutoff set at an event's own calendar day sees it, even where (dose + day) - dose < day
    # in floating point: 0.2 + 0.5 - 0.2 is 0.49999999999999994.
    assert (0.2 + 0.5) - 0.2 < 0.5
    died = journeys(patient(death_day=0.5, follow_up_end_day=0.5))
    obs = _observe(died, [0.2], 0.2 + 0.5)
    assert obs.os_event[0] and obs.pfs_event[0] and obs.os_months[0] == 0.5 / DAYS_PER_MONTH
    scanned = journeys(patient(scan_day=[0.5, 42, 84, 126], scan_status=[PD, NO_SCAN, NO_SCAN, NO_SCAN], progression_day=0.5))
    obs = _observe(scanned, [0.2], 0.2 + 0.5)
    assert obs.known_scans[0, 0] and obs.pfs_event[0] and obs.best_overall_response[0] == PD


def test_patients_not_dosed_by_the_cutoff_are_left_out() -> None:
    j = journeys(*(patient() for _ in range(4)))
    obs = _observe(j, [10.0, 50.0, 50.5, 5.0], 50.0)
    np.testing.assert_array_equal(obs.patient, [0, 1, 3])
    assert obs.n_treated == 3 and obs.pfs_months.shape == (3,)
    assert _observe(j, [10.0, 50.0, 50.5, 5.0], math.nan).n_treated == 0


def test_best_overall_response_sees_only_what_is_known_by_the_cutoff() -> None:
    j = journeys(patient(scan_status=[PR, PR, PR, SD], confirmation_day=84.0))
    assert _observe(j, [0.0], 84.0).best_overall_response[0] == PR
    # the confirming scan is after the cutoff: an unconfirmed response counts as SD
    assert _observe(j, [0.0], 83.5).best_overall_response[0] == SD
    # ... provided the scan is at least sd_min_days after first dose
    assert _observe(j, [0.0], 83.5, sd_min_days=43).best_overall_response[0] == NE
    assert _observe(j, [0.0], 83.5, sd_min_days=42).best_overall_response[0] == SD


def test_treatment_and_safety_records_at_the_cutoff() -> None:
    j = journeys(
        patient(
            cycle_start_day=[0.0, 21.0, 42.0, INF],
            ae_in_cycle=[False, True, True, False],
            treatment_end_day=63.0,
            treatment_end_reason=END_REASONS.index("adverse_event"),
        )
    )
    expected = {  # cutoff day (dose on day 0): cycles, AEs, on treatment, AE discontinuation
        20.5: (1, 0, True, False),
        21.0: (2, 1, True, False),
        62.5: (3, 2, True, False),
        63.0: (3, 2, False, True),
    }
    for day, (cycles, aes, on, stopped) in expected.items():
        obs = _observe(j, [0.0], day)
        assert (obs.cycles_received[0], obs.ae_count[0], obs.on_treatment[0], obs.ae_discontinued[0]) == (
            cycles, aes, on, stopped
        ), day


# Cutoff rules, on a hand-built history: three patients dosed on study days 10, 30 and 20.
DOSE = [10.0, 30.0, 20.0]


def _history(j: PatientJourneys, dose: list[float]) -> TrialHistory:
    n = len(dose)
    first_dose = np.array(dose, dtype=float)
    return TrialHistory(
        sample_size=n, enrollment_target=n, n_screened=n, n_screen_failed=0, n_turned_away=0,
        site=np.zeros(n, np.int64), consent_day=first_dose - 5, enrollment_day=first_dose - 2,
        first_dose_day=first_dose, journeys=j, enrollment_complete_day=float(first_dose.max() - 2) if n else math.nan, true_orr=0.15,
    )


@pytest.fixture(scope="module")
def trial(base) -> TrialModel:
    model = TrialModel.from_scenario(base)
    # study 2025-11-01 to 2028-10-31: 365 + 365 + 366 - 1 days
    assert model.horizon_day == 1095.0
    return model


def test_cutoff_after_the_last_first_dose(trial) -> None:
    history = _history(journeys(*(patient() for _ in DOSE)), DOSE)
    rule = Cutoff("after_last_first_dose", months=2.0)
    assert cutoff_day(rule, history, trial) == 30 + 2 * DAYS_PER_MONTH
    assert cutoff_day(Cutoff("after_last_first_dose", months=100.0), history, trial) == 1095.0


def test_events_cutoff_counts_only_deaths_that_follow_up_captures(trial) -> None:
    history = _history(
        journeys(
            patient(death_day=100.0, follow_up_end_day=200.0),   # study day 110
            patient(death_day=40.0, follow_up_end_day=30.0),     # study day 70, after contact ended
            patient(death_day=500.0, follow_up_end_day=500.0),   # study day 520, on the last contact day
        ),
        DOSE,
    )
    assert cutoff_day(Cutoff("os_events", events=1), history, trial) == 110.0
    assert cutoff_day(Cutoff("os_events", events=2), history, trial) == 520.0
    # too few deaths: the study end
    assert cutoff_day(Cutoff("os_events", events=3), history, trial) == 1095.0


def test_date_cutoff_and_an_empty_trial(trial) -> None:
    empty = _history(journeys(patient()).take(np.zeros(0, np.intp)), [])
    rule = Cutoff("date", date=dt.date(2026, 1, 1))  # 30 days of November and 31 of December
    assert cutoff_day(rule, empty, trial) == 61.0
    assert cutoff_day(Cutoff("date", date=dt.date(2030, 1, 1)), empty, trial) == 1095.0
    assert math.isnan(cutoff_day(Cutoff("after_last_first_dose", months=2.0), empty, trial))
    assert math.isnan(cutoff_day(Cutoff("os_events", events=1), empty, trial))


def test_fda_censoring_after_new_anticancer_therapy() -> None:
    # progression at the fourth scan (day 168); new therapy starts on day 100, after the scan of day 84
    j = journeys(patient(scan_status=[SD, SD, SD, PD], progression_day=168.0, new_therapy_day=100.0))
    policy = _observe(j, [0.0], 500)
    assert policy.pfs_event[0] and policy.pfs_months[0] == 168 / DAYS_PER_MONTH
    fda = _observe(j, [0.0], 500, censoring="fda")
    assert not fda.pfs_event[0] and fda.pfs_months[0] == 84 / DAYS_PER_MONTH
    # a scan on the day therapy starts still counts; therapy after the event changes nothing
    on_the_day = _observe(journeys(patient(scan_status=[SD, SD, SD, PD], progression_day=168.0, new_therapy_day=126.0)), [0.0], 500, censoring="fda")
    assert on_the_day.pfs_months[0] == 126 / DAYS_PER_MONTH and not on_the_day.pfs_event[0]
    after = _observe(journeys(patient(scan_status=[SD, SD, SD, PD], progression_day=168.0, new_therapy_day=168.0)), [0.0], 500, censoring="fda")
    assert after.pfs_event[0] and after.pfs_months[0] == 168 / DAYS_PER_MONTH
    # therapy that starts after the cutoff is not known at the cutoff
    early_cut = _observe(journeys(patient(new_therapy_day=150.0)), [0.0], 140, censoring="fda")
    assert early_cut.pfs_months[0] == 126 / DAYS_PER_MONTH


def test_fda_censoring_after_two_missed_scans() -> None:
    two = patient(scan_status=[SD, NO_SCAN, NO_SCAN, PD], scan_missed=[False, True, True, False], progression_day=168.0)
    one = patient(scan_status=[SD, SD, NO_SCAN, PD], scan_missed=[False, False, True, False], progression_day=168.0)
    death = patient(scan_status=[SD, NO_SCAN, NO_SCAN, NO_SCAN], scan_missed=[False, True, True, False], death_day=150.0)
    j = journeys(two, one, death)
    fda = _observe(j, [0.0, 0.0, 0.0], 500, censoring="fda")
    np.testing.assert_array_equal(fda.pfs_event, [False, True, False])
    np.testing.assert_array_equal(fda.pfs_months * DAYS_PER_MONTH, [42.0, 168.0, 42.0])
    policy = _observe(j, [0.0, 0.0, 0.0], 500)
    np.testing.assert_array_equal(policy.pfs_event, [True, True, True])
    np.testing.assert_array_equal(policy.pfs_months * DAYS_PER_MONTH, [168.0, 168.0, 150.0])


def test_unconfirmed_responses_count_in_any_response_only() -> None:
    transient = patient(scan_status=[SD, PR, SD, SD])
    confirmed = patient(scan_status=[PR, PR, SD, SD], confirmation_day=84.0)
    obs = _observe(journeys(transient, confirmed, patient()), [0.0, 0.0, 0.0], 500)
    np.testing.assert_array_equal(obs.best_overall_response, [SD, PR, SD])
    np.testing.assert_array_equal(obs.any_response, [True, True, False])
    before_the_response_scan = _observe(journeys(transient), [0.0], 83)
    assert not before_the_response_scan.any_response[0]


def test_fda_censoring_needs_the_missed_scans_in_a_row_just_before_the_event() -> None:
    five = {"scan_day": [42.0, 84.0, 126.0, 168.0, 210.0], "progression_day": 210.0}
    apart = patient(  # two missed scans with an adequate scan between them
        scan_status=[NO_SCAN, SD, NO_SCAN, SD, PD], scan_missed=[True, False, True, False, False], **five
    )
    earlier = patient(  # two missed scans in a row, then adequate scans before progression
        scan_status=[NO_SCAN, NO_SCAN, SD, SD, PD], scan_missed=[True, True, False, False, False], **five
    )
    three = patient(  # three in a row just before progression: censored at the last adequate scan
        scan_status=[SD, NO_SCAN, NO_SCAN, NO_SCAN, PD], scan_missed=[False, True, True, True, False], **five
    )
    fda = _observe(journeys(apart, earlier, three), [0.0] * 3, 500, censoring="fda")
    np.testing.assert_array_equal(fda.pfs_event, [True, True, False])
    np.testing.assert_array_equal(fda.pfs_months * DAYS_PER_MONTH, [210.0, 210.0, 42.0])


def test_fda_censoring_takes_the_earlier_day_when_both_rules_apply() -> None:
    # new therapy on day 60 (last scan before it: day 42) and two missed scans before progression on
    # day 210 (last adequate scan: day 84): censored on day 42
    both = patient(
        scan_day=[42.0, 84.0, 126.0, 168.0, 210.0],
        scan_status=[SD, SD, NO_SCAN, NO_SCAN, PD],
        scan_missed=[False, False, True, True, False],
        progression_day=210.0,
        new_therapy_day=60.0,
    )
    misses_only = {**both, "new_therapy_day": INF}
    fda = _observe(journeys(both, misses_only), [0.0, 0.0], 500, censoring="fda")
    np.testing.assert_array_equal(fda.pfs_event, [False, False])
    np.testing.assert_array_equal(fda.pfs_months * DAYS_PER_MONTH, [42.0, 84.0])
