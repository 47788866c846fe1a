"""The summary's figures that are means or proportions, worked by hand (issue 15).

A four-replicate table whose every figure is written down below, then two simulated scenarios in
which the ORR bias and the coverage of the true ORR are away from their ideal values with a
known sign (the ideal trial, where the bias is zero, is in ``tests/test_statistics.py``). Quantile
figures and their MCSEs are left to ``tests/test_mcse.py``: the quantile MCSE is being rewritten.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.records import REPLICATE_COLUMNS
from sim.analysis.summary import OperatingCharacteristics
from sim.runs.runner import run
from sim.stats.mcse import Estimate, mean_estimate, proportion_estimate

NAN = math.nan


def _equal(got: Estimate, value: float, mcse: float, n: int) -> None:
    """``got`` is (value, mcse, n) to 1e-12 relative (NaN equal to NaN)."""
    assert got.n == n
    for a, b in ((got.value, value), (got.mcse, mcse)):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-15), (got, value, mcse)


def test_mean_and_proportion_by_hand() -> None:
    # 0.1, 0.0, 0.2: mean 0.1, squared deviations 0 + 0.01 + 0.01, sd = sqrt(0.02 / 2) = 0.1
    _equal(mean_estimate([0.1, 0.0, 0.2, NAN]), 0.1, 0.1 / math.sqrt(3), 3)
    # 10, 12, 5, 30: mean 14.25, squared deviations 18.0625 + 5.0625 + 85.5625 + 248.0625 = 356.75
    _equal(mean_estimate([10.0, 12.0, 5.0, 30.0]), 14.25, math.sqrt(356.75 / 3) / 2, 4)
    # 2 of 3: sqrt((2/3)(1/3) / 3) = sqrt(2) / (3 sqrt(3))
    _equal(proportion_estimate([True, False, True]), 2 / 3, math.sqrt(2) / (3 * math.sqrt(3)), 3)


_FILLER = {"bool": False, "int64": 0, "float64": NAN, "datetime64[ms]": pd.NaT}


def _table() -> pd.DataFrame:
    """Four replicates: the fourth analysed nobody (no ORR, no CI); the third stopped at a look.

    Every column of the replicate table is there (a figure added later must not break this test);
    the ones the figures below read are set by hand.
    """
    dates = pd.to_datetime(["2027-05-01", "2027-11-30", "2026-09-15", None])
    given = {
        "true_orr": [0.15] * 4,
        "orr": [0.1, 0.0, 0.2, NAN],
        "orr_ci_low": [0.02, 0.0, 0.05, NAN],
        "orr_ci_high": [0.30, 0.12, 0.40, NAN],
        "reject_h0": [True, False, False, False],
        "stopped_early": [False, False, True, False],
        "closed_short": [False, True, False, True],
        "decision_months": [10.0, 12.0, 5.0, 30.0],
        "n_analysed": [35, 30, 10, 0],
        "n_enrolled": [35, 31, 10, 2],
        "ae_discontinuation_rate": [0.1, 0.0, 0.2, 0.5],
        "median_pfs_months": [4.0, NAN, 3.0, NAN],
        "median_os_months": [12.0, 11.0, NAN, NAN],
        "last_patient_in_date": dates,
        "primary_cutoff_date": dates,
        "final_cutoff_date": dates,
    }
    assert set(given) <= {c.name for c in REPLICATE_COLUMNS}
    return pd.DataFrame({c.name: given.get(c.name, [_FILLER[c.dtype]] * 4) for c in REPLICATE_COLUMNS})


def test_operating_characteristics_of_a_hand_built_table(base) -> None:
    assert base.efficacy.orr == 0.15
    oc = OperatingCharacteristics.from_replicates(_table(), base)
    assert (oc.replicates, oc.true_orr, oc.monitored) == (4, 0.15, False)
    _equal(oc.power, 0.25, math.sqrt(0.25 * 0.75 / 4), 4)
    _equal(oc.early_stop, 0.25, math.sqrt(0.25 * 0.75 / 4), 4)
    # complete by close among the three trials not stopped: the first only
    _equal(oc.enrollment_complete, 1 / 3, math.sqrt(2 / 9 / 3), 3)
    _equal(oc.decision_months, 14.25, math.sqrt(356.75 / 3) / 2, 4)
    # ORR over the three trials with one: mean 0.1, sd 0.1; bias against 0.15 is -0.05 with the same MCSE
    _equal(oc.orr_mean, 0.1, 0.1 / math.sqrt(3), 3)
    _equal(oc.orr_bias, 0.1 - 0.15, 0.1 / math.sqrt(3), 3)
    # CI widths 0.28, 0.12, 0.35: mean 0.25
    widths = np.array([0.28, 0.12, 0.35])
    _equal(oc.ci_width_mean, 0.25, float(widths.std(ddof=1)) / math.sqrt(3), 3)
    # 0.15 lies in [0.02, 0.30] and [0.05, 0.40], not in [0, 0.12]
    _equal(oc.coverage, 2 / 3, math.sqrt(2 / 9 / 3), 3)
    _equal(oc.n_analysed, 18.75, float(np.std([35, 30, 10, 0], ddof=1)) / 2, 4)
    _equal(oc.n_enrolled, 19.5, float(np.std([35, 31, 10, 2], ddof=1)) / 2, 4)
    _equal(oc.ae_discontinuation_rate, 0.2, float(np.std([0.1, 0.0, 0.2, 0.5], ddof=1)) / 2, 4)
    # medians are averaged over the trials that reached them: 4 and 3, then 12 and 11
    _equal(oc.median_pfs, 3.5, 0.5, 2)
    _equal(oc.median_os, 11.5, 0.5, 2)
    # ... and how many reached them is a figure of its own: 2 of 4, each time
    _equal(oc.median_reached["pfs"], 0.5, math.sqrt(0.25 / 4), 4)
    _equal(oc.median_reached["os"], 0.5, math.sqrt(0.25 / 4), 4)
    # the middle of the medians reached (numpy's linear interpolation between 3 and 4, and 11 and 12)
    assert oc.median_quantiles["pfs"][0.5].value == 3.5 and oc.median_quantiles["os"][0.5].value == 11.5
    assert oc.median_quantiles["pfs"][0.1].value == pytest.approx(3.1) and oc.median_quantiles["pfs"][0.5].n == 2
    figures = oc.to_dict()
    assert figures["median_os_reached"]["estimate"] == 0.5
    assert set(figures["median_pfs_quantiles"]) == {"q10", "q50", "q90"}
    assert figures["power"] == {"estimate": 0.25, "mcse": oc.power.mcse, "replicates": 4}
    assert figures["orr"]["bias"]["estimate"] == oc.orr_bias.value


def test_tested_rate_and_its_coverage_of_a_hand_built_table(base) -> None:
    oc = OperatingCharacteristics.from_replicates(_table(), base)
    # the tested rate is the mean ORR, 0.1, which all three intervals contain
    _equal(oc.tested_rate, 0.1, 0.1 / math.sqrt(3), 3)
    _equal(oc.coverage_of_tested, 1.0, 0.0, 3)


@pytest.fixture(scope="module")
def heavy_withdrawal(scenario_with):
    """A third of patients a month withdraw: many responders leave before confirmation."""
    scenario = scenario_with("safety.withdrawal_per_month=0.3")
    return scenario, run(scenario, replicates=300, seed=15, progress=False)


def test_heavy_withdrawal_biases_the_orr_down_and_its_intervals_miss_the_true_orr(heavy_withdrawal) -> None:
    scenario, result = heavy_withdrawal
    summary, orr = result.summary, result.replicates["orr"].to_numpy(dtype=float)
    # the bias is the mean ORR less the true ORR, to the last digit
    _equal(summary.orr_bias, float(np.nanmean(orr)) - scenario.efficacy.orr, float(np.nanstd(orr, ddof=1)) / math.sqrt(300), 300)
    assert summary.orr_bias.value < -4 * summary.orr_bias.mcse
    # Clopper-Pearson covers at least 95% of the time at the rate the data estimate; built around a
    # rate far below 0.15, the intervals cover 0.15 less often than that
    assert summary.coverage.value < 0.95 - 4 * summary.coverage.mcse


def test_early_deaths_left_out_of_the_evaluable_population_bias_the_orr_up(scenario_with) -> None:
    """Half the PFS events are deaths, a sixth of patients die before the first scan and none of
    them responds; analysing only evaluable patients leaves them out of the denominator."""
    scenario = scenario_with(
        "analysis.population='evaluable'",
        "efficacy.death_without_progression_share=0.5",
        "safety.withdrawal_per_month=0",
        "safety.loss_to_follow_up_per_month=0",
    )
    summary = run(scenario, replicates=300, seed=15, progress=False).summary
    assert summary.orr_bias.value > 4 * summary.orr_bias.mcse


def test_a_median_most_trials_never_reach_is_said_so(tmp_path) -> None:
    """An OS median of 40 months is past most trials' follow-up: the report says "not reached" with the
    share that reach it, instead of averaging over the few that do as if that were the median."""
    from sim.reports.figures.survival import _endpoint_sentence
    from sim.reports.figures.wording import percent_estimate
    from sim.runs.folder import read_run, write_run
    from sim.scenario import load_scenario

    result = run(load_scenario("base", ["efficacy.os_median_months=40"]), replicates=200, seed=2, progress=False)
    reached = result.summary.median_reached["os"]
    assert reached.value < 0.5 and reached.n == 200
    write_run(tmp_path, result, command="trialsim test")
    sentence = _endpoint_sentence(read_run(tmp_path), "OS", None)
    assert sentence.startswith(f"median OS not reached in most trials (reached in {percent_estimate(reached)} of them")
    rows = result.summary.table()
    assert "P(median OS reached)" in set(rows["figure"])
