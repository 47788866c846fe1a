"""The batched analysis equals the per-replicate one: Kaplan-Meier to 1e-12, every replicate column exactly.

The reference is :func:`sim.stats.survival.kaplan_meier` (``scipy.stats.ecdf`` underneath, itself
pinned to R's survival package in ``tests/test_survival.py``) and :func:`tests.replicate_analysis.analyse_replicate`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.analysis.batch import HistoryBatch, analyse_batch, cutoff_days, observe_rows
from sim.engines.contract import replicate_seeds
from sim.engines.des import simulate_trial
from sim.model.observe import cutoff_day, observe
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario
from sim.stats.survival import kaplan_meier, km_median
from sim.stats.survival_batch import KaplanMeierBatch, padded_rows
from tests.data.make_golden import CASES
from tests.replicate_analysis import analyse_replicate, response_test


def _same(a: float, b: float, tol: float = 1e-12) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def _random_samples(seed: int, samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Censored samples of 0-45 patients: whole, one-decimal and continuous times (ties), any censoring share."""
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 46, samples)
    total = int(n.sum())
    rounding = np.repeat(rng.choice(3, samples), n)
    raw = rng.exponential(6.0, total)
    time = np.where(rounding == 0, np.round(raw), np.where(rounding == 1, np.round(raw, 1), raw))
    share = np.repeat(rng.choice([0.0, 0.3, 0.7, 1.0], samples), n)
    return n, time, rng.random(total) < share


def test_batched_kaplan_meier_equals_the_per_sample_fit_on_random_samples() -> None:
    n, time, event = _random_samples(12, 3000)
    fit = KaplanMeierBatch.fit(padded_rows(time, n, np.inf), padded_rows(event, n, False), n)
    median, (low, high), landmark = fit.median(), fit.median_ci(0.95), fit.survival_at(6.0)
    follow_up = KaplanMeierBatch.fit(padded_rows(time, n, np.inf), padded_rows(~event, n, False), n).median()
    starts = np.cumsum(n) - n
    flat = 0
    for r in range(n.shape[0]):
        t, e = time[starts[r] : starts[r] + n[r]], event[starts[r] : starts[r] + n[r]]
        ref = kaplan_meier(t, e, conf_type="log-log", conf_level=0.95)
        expected = (ref.median, *ref.median_ci, float(ref.survival_at(6.0)[0]) if n[r] else math.nan)
        got = (median[r], low[r], high[r], landmark[r])
        assert all(_same(a, b) for a, b in zip(expected, got)), (r, expected, got)
        if n[r]:
            assert _same(km_median(t, ~e), follow_up[r])
        flat += bool(n[r]) and any(abs(s - 0.5) < 1e-12 for s in ref.survival)
    assert flat > 50  # plateaus at exactly one half (the midpoint rule) are well represented


@pytest.mark.parametrize(
    ("time", "event"),
    [
        ([1, 2, 3, 4], [1, 1, 0, 0]),  # a plateau at 0.5 to the end: the median is where it got there
        ([1, 2, 3, 4, 5, 6], [1, 1, 1, 0, 1, 1]),  # plateau at 0.5, then a drop: the midpoint
        ([2, 2, 2, 2], [1, 1, 1, 1]),  # all die at once: S = 0, no band
        ([3, 3, 5, 5, 5], [1, 0, 1, 0, 1]),  # tied events and censorings
        ([4.0], [0]),  # one censored patient: nothing reached
        ([0.0, 0.0, 1.0], [1, 0, 1]),  # events at time zero
    ],
)
def test_batched_kaplan_meier_on_edge_cases(time: list[float], event: list[int]) -> None:
    t, e = np.asarray(time, float), np.asarray(event, bool)
    n = np.array([t.size, 0, t.size])
    fit = KaplanMeierBatch.fit(
        padded_rows(np.concatenate([t, t]), n, np.inf), padded_rows(np.concatenate([e, e]), n, False), n
    )
    ref = kaplan_meier(t, e)
    for r in (0, 2):
        assert _same(fit.median()[r], ref.median)
        assert all(_same(a, b) for a, b in zip(fit.median_ci(0.95), ref.median_ci) for a in [a[r]])
        for landmark in (0.0, 1.0, 3.0, 4.5, 100.0):
            assert _same(fit.survival_at(landmark)[r], ref.survival_at(landmark).estimate)
    assert math.isnan(fit.median()[1]) and math.isnan(fit.survival_at(1.0)[1])


def _histories(case: str, overrides: list[str], replicates: int = 40) -> tuple[TrialModel, list]:
    name, base = CASES[case]
    model = TrialModel.from_scenario(load_scenario(name, [*base, *overrides]))
    return model, [simulate_trial(model, s) for s in replicate_seeds(3, 0, replicates)]


CUTOFF_VARIANTS = {
    "os_events": ["analysis.final_cutoff.rule='os_events'", "analysis.final_cutoff.events=12"],
    "date": ["analysis.primary_cutoff.rule='date'", "analysis.primary_cutoff.date=2027-06-01"],
    "few_events": ["analysis.final_cutoff.rule='os_events'", "analysis.final_cutoff.events=35"],
}


@pytest.mark.parametrize(
    ("case", "variant"), [(c, None) for c in sorted(CASES)] + [("base", v) for v in sorted(CUTOFF_VARIANTS)]
)
def test_batched_analysis_equals_the_per_replicate_analysis(case: str, variant: str | None) -> None:
    model, histories = _histories(case, CUTOFF_VARIANTS.get(variant or "", []))
    test = response_test(model.scenario.analysis)
    expected = pd.DataFrame([analyse_replicate(h, model, test)[0] for h in histories])
    columns, primary_day, final_day = analyse_batch(HistoryBatch.from_histories(histories), model, test)
    got = pd.DataFrame(columns)[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_exact=True, check_dtype=False)
    plan = model.scenario.analysis
    for h, p, f in zip(histories, primary_day, final_day):
        assert _same(p, cutoff_day(plan.primary_cutoff, h, model), 0.0)
        assert _same(f, cutoff_day(plan.final_cutoff, h, model), 0.0)


def test_observed_rows_equal_observe_at_each_replicate_cutoff() -> None:
    model, histories = _histories("deviations_fda", [])
    batch = HistoryBatch.from_histories(histories)
    plan = model.scenario.analysis
    days = cutoff_days(plan.primary_cutoff, batch, model) - 60.0  # mid-trial, with patients on treatment
    rows = observe_rows(
        batch.journeys,
        batch.first_dose_day,
        days[batch.replicate],
        model.scenario.schedule.sd_min_days,
        "fda",
        batch.replicate,
    )
    for r, h in enumerate(histories):
        obs = observe(h.journeys, h.first_dose_day, float(days[r]), model.scenario.schedule.sd_min_days, "fda")
        mine = rows.replicate == r
        for name in (
            "best_overall_response",
            "any_response",
            "evaluable",
            "pfs_months",
            "pfs_event",
            "os_months",
            "os_event",
            "cycles_received",
            "ae_count",
            "ae_discontinued",
        ):
            np.testing.assert_array_equal(getattr(rows, name)[mine], getattr(obs, name), err_msg=name)
        np.testing.assert_array_equal(rows.patient[mine] - batch.offsets[r], obs.patient)


def test_an_empty_batch_gives_empty_columns() -> None:
    model, _ = _histories("base", [], replicates=0)
    columns, primary, final = analyse_batch(
        HistoryBatch.from_histories([]), model, response_test(model.scenario.analysis)
    )
    assert primary.shape == final.shape == (0,)
    assert all(len(v) == 0 for v in columns.values())


@pytest.mark.parametrize("method", ["exact", "wilson", "jeffreys"])
@pytest.mark.parametrize("tabulated", [0, 30, 60])
def test_batched_response_tests_equal_the_tabulated_test(method: str, tabulated: int) -> None:
    """Bit for bit, whether a count is read from the driver's tables (up to ``tabulated``) or computed."""
    from sim.stats.proportions import ResponseRateTest
    from sim.stats.proportions_batch import response_tests

    n = np.repeat(np.arange(0, 61), 61)
    k = np.tile(np.arange(0, 61), 61)
    keep = k <= n
    k, n = k[keep], n[keep]
    got = response_tests(ResponseRateTest(0.1, method, 0.9).tabulate_through(tabulated), k, n)
    reference = ResponseRateTest(0.1, method, 0.9)
    for j in range(k.shape[0]):
        expected = reference(int(k[j]), int(n[j]))
        assert all(_same(a, b, 0.0) for a, b in zip(expected, (g[j] for g in got))), (k[j], n[j])
