"""Engine invariants: what must hold in every simulated trial, whatever the seed; and the enrollment
rules at their boundaries, on patients fed to the enrollment desk by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import simpy

from sim.analysis.tables import patient_table
from sim.engines.des import _Enrollment, _PatientPool, simulate_trial
from sim.model.observe import cutoff_day, observe
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds
from sim.units import DAYS_PER_MONTH, day_number


def _simulate(scenario, replicates: int, seed: int = 7):
    model = TrialModel.from_scenario(scenario)
    out = []
    for i, ss in enumerate(replicate_seeds(seed, 0, replicates)):
        history = simulate_trial(model, ss)
        tables = {}
        for name, rule in (("primary", scenario.analysis.primary_cutoff), ("final", scenario.analysis.final_cutoff)):
            obs = observe(history.journeys, history.first_dose_day, cutoff_day(rule, history, model), model.scenario.schedule.sd_min_days)
            tables[name] = patient_table(history, model, obs, i, name)
        out.append((history, tables))
    return model, out


@pytest.fixture(scope="module", params=[False, True], ids=["no-replacement", "replacement"])
def simulated(request, scenario_with):
    scenario = scenario_with(f"trial.replace_non_evaluable={str(request.param).lower()}", "safety.withdrawal_per_month=0.05")
    return scenario, *_simulate(scenario, 150)


def _all_patients(runs) -> pd.DataFrame:
    return pd.concat([t[name] for _, t in runs for name in t], ignore_index=True)


def test_enrollment_never_beyond_sample_size_or_after_close(simulated) -> None:
    scenario, model, runs = simulated
    close = np.datetime64(scenario.trial.recruitment_close, "D")
    for history, tables in runs:
        assert history.n_enrolled <= history.enrollment_target
        if not scenario.trial.replace_non_evaluable:
            assert history.n_enrolled <= scenario.trial.sample_size
        else:
            evaluable = int(history.journeys.evaluable.sum())
            assert evaluable <= scenario.trial.sample_size
            assert history.enrollment_target - scenario.trial.sample_size <= history.n_enrolled - evaluable
        assert np.all(history.enrollment_day < model.close_day)
        assert np.all(history.enrollment_day >= model.open_day)
        assert (tables["final"]["enrollment_date"].to_numpy(dtype="datetime64[D]") <= close).all()


def test_no_scan_before_first_dose_or_after_cutoff(simulated) -> None:
    _, _, runs = simulated
    patients = _all_patients(runs)
    for row in patients.itertuples():
        scans = np.array(row.scan_dates, dtype="datetime64[D]")
        assert (scans > np.datetime64(row.first_dose_date, "D")).all()
        assert (scans <= np.datetime64(row.cutoff_date, "D")).all()
        assert (np.diff(scans.astype(int)) > 0).all()


def test_pfs_never_exceeds_os(simulated) -> None:
    _, _, runs = simulated
    patients = _all_patients(runs)
    assert (patients["pfs_months"] <= patients["os_months"] + 1e-12).all()
    assert (patients["pfs_months"] >= 0).all()


def test_progression_dated_at_a_scan_or_at_death(simulated) -> None:
    _, _, runs = simulated
    patients = _all_patients(runs)
    events = patients[patients["pfs_event"]]
    assert len(events) > 500
    for row in events.itertuples():
        if "PD" in row.scan_results:
            pd_scan = np.datetime64(row.scan_dates[row.scan_results.index("PD")], "D")
            day = np.datetime64(row.first_dose_date, "D") + np.timedelta64(int(np.floor(row.pfs_months * DAYS_PER_MONTH)), "D")
            assert abs((pd_scan - day).astype(int)) <= 1
            assert row.scan_results.index("PD") == len(row.scan_results) - 1
        else:
            assert row.os_event and row.os_months == row.pfs_months


def test_responses_are_confirmed_by_a_later_scan(simulated) -> None:
    scenario, _, runs = simulated
    patients = _all_patients(runs)
    responders = patients[patients["best_overall_response"].isin(["CR", "PR"])]
    assert len(responders) > 50
    for row in responders.itertuples():
        days = [d for d, r in zip(row.scan_dates, row.scan_results) if r in ("CR", "PR")]
        assert (days[-1] - days[0]).days >= scenario.schedule.confirmation_min_days


def test_treatment_and_safety_records_are_consistent(simulated) -> None:
    scenario, _, runs = simulated
    patients = _all_patients(runs)
    assert (patients["grade3_ae_count"] <= patients["cycles_received"]).all()
    assert (patients["cycles_received"] >= 1).all()
    ended = patients[patients["treatment_end_reason"] != "ongoing"]
    assert (ended["treatment_end_date"].notna()).all()
    assert set(patients["treatment_end_reason"]) <= {
        "ongoing", "progression", "death", "adverse_event", "withdrawal", "lost_to_follow_up", "max_duration"
    }
    ae_stop = patients[patients["ae_discontinued"]]
    assert (ae_stop["treatment_end_reason"] == "adverse_event").all()
    assert (ae_stop["grade3_ae_count"] >= 1).all()


def test_replacement_raises_the_target_for_each_early_loss(scenario_with) -> None:
    scenario = scenario_with("trial.replace_non_evaluable=true", "safety.withdrawal_per_month=0.3",
                             "recruitment.sites.0.screened_per_month=10")
    model, runs = _simulate(scenario, 60, seed=3)
    replaced = 0
    for history, _ in runs:
        j = history.journeys
        known = history.first_dose_day + j.evaluability_day
        # exactly one replacement per early loss that became known while recruitment was open
        expected = int(np.count_nonzero(~j.evaluable & (known < model.close_day)))
        assert history.enrollment_target - scenario.trial.sample_size == expected
        replaced += expected
    assert replaced > 30


def test_recruitment_stops_at_close_when_short(scenario_with) -> None:
    scenario = scenario_with("recruitment.sites.0.screened_per_month=0.5")
    model, runs = _simulate(scenario, 20, seed=11)
    for history, _ in runs:
        assert history.n_enrolled < scenario.trial.sample_size
        assert np.isnan(history.enrollment_complete_day)
        assert history.enrollment_day.max() < model.close_day


def test_same_seed_same_history(base) -> None:
    model = TrialModel.from_scenario(base)
    a = simulate_trial(model, replicate_seeds(5, 3, 4)[0])
    b = simulate_trial(model, np.random.SeedSequence(5).spawn(4)[3])
    np.testing.assert_array_equal(a.enrollment_day, b.enrollment_day)
    np.testing.assert_array_equal(a.journeys.scan_status, b.journeys.scan_status)
    assert dt.date.fromisoformat("2025-11-15") == base.trial.recruitment_open


# The enrollment rules on hand-fed patients (issue 15): the engine's enrollment desk gets patients
# who consent on given study days and are screened for given numbers of days, so each boundary is
# hit exactly. Days count from the study start, 2025-11-01; recruitment closes 2027-11-30, day 759.


class _Evaluability:
    """A patient pool stand-in: every patient leaves before the first scan, known ``after`` days after first dose."""

    def __init__(self, after: float) -> None:
        self.after = after

    def evaluability(self, i: int) -> tuple[bool, float]:
        return False, self.after


def _desk(model, consent: list[float], screening: list[int], *, fails=None, dose_days=None, pool=None) -> _Enrollment:
    n = len(consent)
    env = simpy.Environment()
    real_pool = _PatientPool(model.patients, np.random.default_rng(0), model.scenario.trial.sample_size)
    desk = _Enrollment(env, model, np.random.default_rng(0), pool or real_pool, n)
    desk.fails = list(fails or [False] * n)
    desk.screening_days = list(screening)
    desk.dose_days = list(dose_days or [3] * n)

    def arrivals():
        for day in consent:
            yield env.timeout(day - env.now)
            desk.on_arrival(0, env.now)

    env.process(arrivals())
    env.run(until=model.horizon_day)
    return desk


def test_a_patient_whose_screening_ends_on_the_closing_day_is_enrolled_the_day_after_is_not(base) -> None:
    model = TrialModel.from_scenario(base)
    close = day_number(base.trial.recruitment_close, base.trial.study_start)
    assert close == 759.0  # 365 + 365 + 29
    # screening of 7 days ends on day 759.0 (the first moment of the closing day), 759.5, 759.999
    # and 760.0 (the first moment of the day after)
    desk = _desk(model, [752.0, 752.5, 752.999, 753.0], [7, 7, 7, 7])
    np.testing.assert_array_equal(desk.enrolled, [759.0, 759.5, 759.999])
    assert desk.n_turned_away == 1
    assert (model.dates(np.array(desk.enrolled)) == np.datetime64("2027-11-30")).all()
    np.testing.assert_array_equal(desk.first_dose, np.array(desk.enrolled) + 3)


def test_enrollment_stops_at_the_sample_size_and_screen_failures_never_enroll(scenario_with) -> None:
    model = TrialModel.from_scenario(scenario_with("trial.sample_size=2"))
    desk = _desk(model, [10.0, 11.0, 12.0, 13.0], [7, 20, 9, 14], fails=[False, True, False, False])
    # eligible patients finish screening on days 17, 21 and 27; the third finds the trial full
    np.testing.assert_array_equal(desk.enrolled, [17.0, 21.0])
    np.testing.assert_array_equal(desk.consent, [10.0, 12.0])
    assert (desk.n_screened, desk.n_failed, desk.n_turned_away) == (4, 1, 1)
    assert desk.complete_day == 21.0


def test_a_loss_before_the_first_scan_is_replaced_only_if_known_before_close(scenario_with) -> None:
    model = TrialModel.from_scenario(scenario_with("trial.replace_non_evaluable=true", "trial.sample_size=10"))
    # enrolled on days 700, 740, 746.5 and 747; first dose 3 days later; the loss is known 10 days
    # after first dose: on days 713, 753, 759.5 (the closing day) and 760 (the day after)
    desk = _desk(model, [693.0, 733.0, 739.5, 740.0], [7, 7, 7, 7], pool=_Evaluability(10.0))
    assert len(desk.enrolled) == 4
    assert desk.target == 10 + 3


def test_screening_and_dosing_delays_cover_their_whole_ranges(base) -> None:
    """Base: screening 7 to 28 days (22 values), enrollment to first dose 1 to 7 days (7 values)."""
    model = TrialModel.from_scenario(base)
    env = simpy.Environment()
    n = 44_000
    desk = _Enrollment(env, model, np.random.default_rng(3), _PatientPool(model.patients, np.random.default_rng(0), 35), n)
    for draws, values in ((np.array(desk.screening_days), range(7, 29)), (np.array(desk.dose_days), range(1, 8))):
        assert draws.min() == values[0] and draws.max() == values[-1]
        p = 1 / len(values)
        for v in values:
            assert abs(np.mean(draws == v) - p) <= 4 * np.sqrt(p * (1 - p) / n), v
    assert abs(np.mean(desk.fails) - 0.32) <= 4 * np.sqrt(0.32 * 0.68 / n)
