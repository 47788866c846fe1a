"""The per-replicate analysis: exact test and CIs, analysis populations and cutoff rules."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.analyse import analyse_replicate, response_test
from sim.engine import simulate_trial
from sim.observe import cutoff_day, observe
from sim.runner import replicate_seeds, run
from sim.tables import patient_table
from sim.trial_model import TrialModel
from sim.units import DAYS_PER_MONTH


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
