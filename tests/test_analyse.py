"""The per-replicate analysis: exact test and CIs, analysis populations and cutoff rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis.tables import patient_table
from sim.engines.des import simulate_trial
from sim.model.history import TrialHistory
from sim.model.journey import END_REASONS, PatientJourneys
from sim.model.monitoring import Look
from sim.model.observe import cutoff_day, observe
from sim.model.recist import Response
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds, run
from sim.units import DAYS_PER_MONTH
from tests.helpers import hand_built_journeys as journeys
from tests.helpers import journey_patient as patient
from tests.replicate_analysis import analyse_replicate, response_test


def _reference_ci(k: int, n: int, method: str, level: float) -> tuple[float, float]:
    """Each interval from scipy or its textbook closed form, independent of sim's code."""
    tail = (1 - level) / 2
    if method == "jeffreys":
        low = 0.0 if k == 0 else stats.beta.ppf(tail, k + 0.5, n - k + 0.5)
        high = 1.0 if k == n else stats.beta.ppf(1 - tail, k + 0.5, n - k + 0.5)
        return low, high
    if method == "agresti-coull":
        z = stats.norm.ppf(1 - tail)
        n_t = n + z**2
        p_t = (k + z**2 / 2) / n_t
        half = z * np.sqrt(p_t * (1 - p_t) / n_t)
        return max(0.0, p_t - half), min(1.0, p_t + half)
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method=method)
    return ci.low, ci.high


@pytest.mark.parametrize("method", ["exact", "wilson", "wilsoncc", "jeffreys", "agresti-coull"])
def test_response_test_equals_binomtest(scenario_with, method: str) -> None:
    scenario = scenario_with(f"analysis.ci_method='{method}'", "analysis.ci_level=0.9", "analysis.p0=0.12")
    test = response_test(scenario.analysis)
    for n in (1, 2, 7, 20, 35, 41):
        for k in range(n + 1):
            p_value, low, high = test(k, n)
            ref = stats.binomtest(k, n, 0.12, alternative="greater")
            ci = _reference_ci(k, n, method, 0.9)
            assert p_value == pytest.approx(ref.pvalue, abs=1e-12)
            assert low == pytest.approx(ci[0], abs=1e-12)
            assert high == pytest.approx(ci[1], abs=1e-12)
    assert all(np.isnan(test(0, 0)))


def test_evaluable_population_counts_patients_with_a_scan(scenario_with) -> None:
    scenario = scenario_with("analysis.population='evaluable'", "safety.withdrawal_per_month=0.3")
    model = TrialModel.from_scenario(scenario)
    test = response_test(scenario.analysis)
    fewer = 0
    for i, seed in enumerate(replicate_seeds(12, 0, 30)):
        history = simulate_trial(model, seed)
        row, primary, _ = analyse_replicate(history, model, test)
        table = patient_table(history, model, primary, i, "primary")
        evaluable = table[table["evaluable"]]
        assert row["n_analysed"] == len(evaluable)
        assert row["responders"] == int(evaluable["best_overall_response"].isin(["CR", "PR"]).sum())
        assert row["disease_control"] == int(evaluable["best_overall_response"].isin(["CR", "PR", "SD"]).sum())
        fewer += row["n_analysed"] < row["n_treated"]
    assert fewer > 10


def test_os_events_cutoff_falls_on_the_kth_death(scenario_with) -> None:
    scenario = scenario_with("analysis.final_cutoff={rule='os_events', events=20}")
    model = TrialModel.from_scenario(scenario)
    for seed in replicate_seeds(4, 0, 10):
        history = simulate_trial(model, seed)
        day = cutoff_day(scenario.analysis.final_cutoff, history, model)
        obs = observe(history.journeys, history.first_dose_day, day, model.scenario.schedule.sd_min_days)
        deaths = int(obs.os_event.sum())
        if day < model.horizon_day:
            assert deaths == 20
            # the 20th death is on the cutoff day itself
            death_days = history.first_dose_day[obs.patient] + obs.os_months * DAYS_PER_MONTH
            assert np.isclose(death_days[obs.os_event].max(), day)
        else:
            assert deaths <= 20


def test_date_cutoff_and_study_end_cap(scenario_with) -> None:
    scenario = scenario_with("analysis.final_cutoff={rule='date', date=2028-06-30}",
                             "analysis.primary_cutoff.months=60")
    result = run(scenario, replicates=5, seed=2, progress=False)
    assert (result.replicates["final_cutoff_date"] == np.datetime64("2028-06-30")).all()
    assert (result.replicates["primary_cutoff_date"] == np.datetime64("2028-10-31")).all()


# One replicate's analysis worked by hand (issue 15): three patients of the base scenario, dosed on
# study days 10, 30 and 20 (enrolled two days before), each scanned on days 42, 84, 126, 168 and 210
# from first dose. The primary cutoff falls 6 months after the last first dose (day 212.625), the
# final one 10 months after it (day 334.375); recruitment opened on day 14.

FIVE_SCANS = [42.0, 84.0, 126.0, 168.0, 210.0]


def _three_patients() -> PatientJourneys:
    SD, PR, PD, NO_SCAN = Response.SD, Response.PR, Response.PD, Response.NO_SCAN
    return journeys(
        # confirmed PR on day 84; an AE in the second cycle
        patient(scan_day=FIVE_SCANS, scan_status=[PR, PR, PR, SD, SD], scan_missed=[False] * 5,
                confirmation_day=84.0, ae_in_cycle=[False, True, False, False]),
        # stable, progression on day 210 (study day 240) and death on day 250 (study day 280)
        patient(scan_day=FIVE_SCANS, scan_status=[SD, SD, SD, SD, PD], scan_missed=[False] * 5,
                progression_day=210.0, death_day=250.0, treatment_end_day=210.0,
                treatment_end_reason=END_REASONS.index("progression")),
        # dies on day 30, before any scan
        patient(scan_day=FIVE_SCANS, scan_status=[NO_SCAN] * 5, scan_missed=[False] * 5, death_day=30.0,
                cycle_start_day=[0.0, 21.0, math.inf, math.inf], treatment_end_day=30.0,
                treatment_end_reason=END_REASONS.index("death"), follow_up_end_day=30.0, evaluable=False,
                evaluability_day=30.0),
    )


def _history(j: PatientJourneys, dose: list[float], target: int, looks: tuple[Look, ...] = ()) -> TrialHistory:
    first_dose = np.array(dose)
    n = len(dose)
    return TrialHistory(
        sample_size=3, enrollment_target=target, n_screened=n + 2, n_screen_failed=2, n_turned_away=0,
        site=np.zeros(n, np.int64), consent_day=first_dose - 9, enrollment_day=first_dose - 2,
        first_dose_day=first_dose, journeys=j,
        enrollment_complete_day=float(first_dose.max() - 2) if n >= target else math.nan, true_orr=0.15, looks=looks,
    )


def test_one_replicate_analysed_by_hand(base) -> None:
    model = TrialModel.from_scenario(base)
    assert model.open_day == 14.0
    row, primary, final = analyse_replicate(_history(_three_patients(), [10.0, 30.0, 20.0], 3), model, response_test(base.analysis))
    primary_day, final_day = 30 + 6 * DAYS_PER_MONTH, 30 + 10 * DAYS_PER_MONTH
    assert (primary.cutoff_day, final.cutoff_day) == (primary_day, final_day)
    low, high = stats.binomtest(1, 3).proportion_ci(method="exact")
    expected = {
        "n_screened": 5, "n_screen_failed": 2, "n_enrolled": 3, "enrollment_target": 3, "closed_short": False,
        "first_patient_in_date": np.datetime64("2025-11-09"), "last_patient_in_date": np.datetime64("2025-11-29"),
        "enrollment_complete_date": np.datetime64("2025-11-29"), "enrollment_months": 14 / DAYS_PER_MONTH,
        "primary_cutoff_date": model.dates(primary_day).reshape(1)[0], "final_cutoff_date": model.dates(final_day).reshape(1)[0],
        # all treated analysed: one confirmed PR; SD for the second (day-42 scan >= 35 days), NE for the third
        "n_treated": 3, "n_analysed": 3, "responders": 1, "orr": 1 / 3, "disease_control": 2, "dcr": 2 / 3,
        "responders_unconfirmed": 1, "orr_unconfirmed": 1 / 3,
        "p_value": 1 - 0.9**3, "orr_ci_low": low, "orr_ci_high": high,
        "reject_h0": False, "interim_looks": 0, "interim_wait_days": 0.0, "first_look_responders": -1,
        "stopped_early": False, "decision_date": model.dates(primary_day).reshape(1)[0],
        "decision_months": (primary_day - 14) / DAYS_PER_MONTH,
        # at the final cutoff: PFS events day 210 (progression) and day 30 (death), the PR censored at
        # its last scan (day 210, at risk at its own time); OS deaths on days 250 and 30, the PR
        # censored at the cutoff (day 324.375 from its first dose)
        "pfs_events": 2, "median_pfs_months": 210 / DAYS_PER_MONTH, "pfs_rate_at_landmark": 2 / 3,
        "os_events": 2, "median_os_months": 250 / DAYS_PER_MONTH, "os_rate_at_landmark": 2 / 3,
        "patients_with_grade3_ae": 1, "ae_discontinuations": 0, "ae_discontinuation_rate": 0.0,
        "mean_cycles": 10 / 3,
        # reverse Kaplan-Meier: the only "event" is the PR's censoring on day 324.375
        "median_follow_up_months": (final_day - 10) / DAYS_PER_MONTH,
    }
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-12, abs=1e-15) if isinstance(value, float) else row[name] == value, name
    # at the primary cutoff the progression (study day 240) is not yet seen: one PFS event, the death
    assert int(primary.pfs_event.sum()) == 1 and int(final.pfs_event.sum()) == 2


def test_the_evaluable_population_leaves_out_the_patient_without_a_scan(scenario_with) -> None:
    scenario = scenario_with("analysis.population='evaluable'")
    model = TrialModel.from_scenario(scenario)
    row, _, _ = analyse_replicate(_history(_three_patients(), [10.0, 30.0, 20.0], 3), model, response_test(scenario.analysis))
    assert (row["n_treated"], row["n_analysed"], row["responders"]) == (3, 2, 1)
    # DCR keeps every treated patient in its denominator: the patient never scanned had no disease control
    assert (row["disease_control"], row["dcr"]) == (2, 2 / 3)
    assert row["p_value"] == pytest.approx(1 - 0.9**2, rel=1e-12)


def test_a_futility_stop_is_not_a_short_close_and_never_a_success(base) -> None:
    model = TrialModel.from_scenario(base)
    test = response_test(base.analysis)
    two = _three_patients().take(np.arange(2))
    stop = Look(day=100.0, patients=2, responders=0, stop=True)
    row, _, _ = analyse_replicate(_history(two, [10.0, 30.0], 3, looks=(stop,)), model, test)
    assert (row["closed_short"], row["stopped_early"], row["reject_h0"]) == (False, True, False)
    assert row["decision_date"] == np.datetime64("2026-02-09") and row["stop_date"] == np.datetime64("2026-02-09")
    assert row["decision_months"] == pytest.approx((100 - 14) / DAYS_PER_MONTH, rel=1e-12)
    # the look waited from the second enrollment (day 28) to day 100
    assert (row["interim_looks"], row["first_look_responders"], row["interim_wait_days"]) == (1, 0, 72.0)
    # the same two patients without a stop: recruitment closed short of its target of three
    short, _, _ = analyse_replicate(_history(two, [10.0, 30.0], 3), model, test)
    assert short["closed_short"] and not short["stopped_early"] and np.isnat(short["enrollment_complete_date"])
