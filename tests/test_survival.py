"""Kaplan-Meier estimates against R's survival package (R 4.2.2, survival 3.5.3).

tests/data/km_reference.json holds the output of tests/data/km_reference.R for nine small data sets
(ties between events and censorings, a curve flat at exactly 0.5 - once exactly and once as
0.4999999999999999 in floating point -, a curve that ends flat at 0.5, an unreached median, median
limits that are unreached, a curve that reaches 0, no censoring, and a 35-patient PFS sample).
CI does not have R: these tests only read the stored file. The R code that produced each number:

.. code-block:: r

    fit <- survfit(Surv(d$time, d$status) ~ 1, conf.type = conf_type, conf.int = 0.95)
    s <- summary(fit)                      # rows at event times; std.err on the survival scale
    ev <- fit$n.event > 0
    tab <- summary(fit)$table
    q <- quantile(fit, probs = probs)
    lm <- summary(fit, times = d$landmarks)  # landmarks past the last follow-up are dropped by R
    reverse <- survfit(Surv(d$time, 1 - d$status) ~ 1)
    fits <- sapply(c("log-log", "log", "plain"), function(ct) fit_json(d, ct))

with ``probs <- c(0.25, 0.5, 0.75)``; the table columns are ``s$time, s$n.risk, s$n.event,
s$n.censor, s$surv, s$std.err, fit$std.err[ev], s$lower, s$upper``, the median and its limits are
``tab[["median"]], tab[["0.95LCL"]], tab[["0.95UCL"]]`` (print.survfit), and the reverse-KM median
is ``summary(reverse)$table[["median"]]``. Every number is written with ``sprintf("%.17g")``, so
comparisons use 1e-12. R's ``survfit$std.err`` is the standard error of -log S (Greenwood), which
is compared with ``std_err / survival``; ``summary.survfit``'s ``std.err`` is on the S scale, like ours.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.stats import survival as survival_module
from sim.stats.survival import (
    KaplanMeier,
    kaplan_meier,
    km_median,
    median_follow_up,
)

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "km_reference.json").read_text())
DATASETS: dict[str, Any] = REFERENCE["datasets"]
CONF_TYPES = ("log-log", "log", "plain")
TOL = 1e-12

# R's quantile.survfit, unlike print.survfit, puts a quantile whose level the curve keeps until the
# last follow-up halfway between the time it got there and that last follow-up; ours (and
# print.survfit's) is the time it got there. These are the only such (data set, q) in the file.
ENDS_FLAT_AT_LEVEL = {("flat_half", 0.75), ("flat_to_end", 0.5)}


def _array(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in values], dtype=float)


def _same(actual: float, expected: float | None) -> bool:
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        return math.isnan(actual)
    return abs(actual - expected) <= TOL


def _fit(name: str, conf_type: str) -> tuple[KaplanMeier, dict[str, Any]]:
    data = DATASETS[name]
    return kaplan_meier(data["time"], data["status"], conf_type=conf_type), data["fits"][conf_type]


CASES = [(name, conf_type) for name in DATASETS for conf_type in CONF_TYPES]


def test_docstring_quotes_the_r_script() -> None:
    script = (DATA / "km_reference.R").read_text()
    quoted = [line.strip() for line in (__doc__ or "").splitlines() if line.startswith("    ")]
    assert len(quoted) == 8
    for line in quoted:
        assert line in script


def test_reference_is_from_r() -> None:
    assert REFERENCE["r_version"].startswith("R version 4.")
    assert REFERENCE["survival_version"] == "3.5.3"
    assert len(DATASETS) == 9


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_table_matches_survfit(name: str, conf_type: str) -> None:
    fit, ref = _fit(name, conf_type)
    table = ref["table"]
    np.testing.assert_array_equal(fit.time, _array(table["time"]))
    for column, key in [("n_risk", "n_risk"), ("n_event", "n_event"), ("n_censor", "n_censor")]:
        np.testing.assert_array_equal(getattr(fit, column), _array(table[key]).astype(np.int64))
    for column, key in [("survival", "surv"), ("std_err", "std_err"), ("ci_low", "lower"), ("ci_high", "upper")]:
        np.testing.assert_allclose(getattr(fit, column), _array(table[key]), rtol=0, atol=TOL, equal_nan=True)
    positive = fit.survival > 0
    np.testing.assert_allclose(
        fit.std_err[positive] / fit.survival[positive], _array(table["std_err_log"])[positive], rtol=0, atol=TOL
    )
    assert np.all(np.isinf(_array(table["std_err_log"])[~positive]))  # R: Inf once S = 0


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_median_and_limits_match_print_survfit(name: str, conf_type: str) -> None:
    fit, ref = _fit(name, conf_type)
    expected = ref["print_median"]
    assert _same(fit.median, expected["median"][0])
    assert _same(fit.median_ci[0], expected["lcl"][0])
    assert _same(fit.median_ci[1], expected["ucl"][0])


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_quantiles_match_quantile_survfit(name: str, conf_type: str) -> None:
    fit, ref = _fit(name, conf_type)
    q_ref = ref["quantile"]
    for i, q in enumerate(q_ref["probs"]):
        low, high = fit.quantile_ci(q)
        assert _same(low, q_ref["lower"][i]), (q, low)
        assert _same(high, q_ref["upper"][i]), (q, high)
        if (name, q) in ENDS_FLAT_AT_LEVEL:
            assert q_ref["quantile"][i] == pytest.approx((fit.quantile(q) + fit.last_time) / 2, abs=TOL)
        else:
            assert _same(fit.quantile(q), q_ref["quantile"][i]), (q, fit.quantile(q))


def test_median_is_the_half_quantile() -> None:
    for name in DATASETS:
        fit, _ = _fit(name, "log-log")
        assert _same(fit.median, fit.quantile(0.5)) and fit.median_ci == pytest.approx(
            fit.quantile_ci(0.5), nan_ok=True
        )


def test_flat_stretch_at_half_uses_the_midpoint_even_when_inexact() -> None:
    fit, _ = _fit("flat_half_inexact", "log-log")
    assert fit.survival[2] != 0.5 and abs(fit.survival[2] - 0.5) < 1e-15
    assert fit.median == 5.5  # (4 + 7) / 2: flat at 0.5 from 4 until the next drop at 7
    assert km_median(DATASETS["flat_half_inexact"]["time"], DATASETS["flat_half_inexact"]["status"]) == 5.5


@pytest.mark.parametrize(("name", "conf_type"), CASES)
def test_landmark_survival_matches_summary_times(name: str, conf_type: str) -> None:
    fit, ref = _fit(name, conf_type)
    landmark = ref["landmark"]
    for i, t in enumerate(landmark["time"]):
        estimate, low, high = fit.survival_at(t)
        assert _same(estimate, landmark["surv"][i])
        assert _same(low, landmark["lower"][i])
        assert _same(high, landmark["upper"][i])


def test_landmarks_past_follow_up() -> None:
    data = DATASETS["small_ties"]
    fit = kaplan_meier(data["time"], data["status"])
    assert all(math.isnan(v) for v in fit.survival_at(8.5))  # last follow-up at 8 (censored)
    zero = kaplan_meier(DATASETS["to_zero"]["time"], DATASETS["to_zero"]["status"])
    assert zero.survival_at(20.0).estimate == 0.0  # the curve reached 0 at 9


@pytest.mark.parametrize("name", list(DATASETS))
def test_reverse_km_median_follow_up(name: str) -> None:
    data = DATASETS[name]
    assert _same(median_follow_up(data["time"], data["status"]), data["reverse_km_median"][0])


def test_table_dataframe() -> None:
    fit, _ = _fit("ties", "log-log")
    table = fit.table
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["time", "n_risk", "n_event", "n_censor", "survival", "std_err", "ci_low", "ci_high"]
    assert len(table) == fit.time.size
    np.testing.assert_array_equal(table["survival"].to_numpy(), fit.survival)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.n = 3  # type: ignore[misc]


def _random_data(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Small samples on an integer grid, so ties and curves flat at exactly 0.5 are common."""
    n = int(rng.integers(0, 41))
    time = rng.integers(0, 15, size=n).astype(float)
    kind = rng.integers(0, 4)
    if kind == 0:
        event = np.ones(n, dtype=bool)
    elif kind == 1:
        event = np.zeros(n, dtype=bool)
    else:
        event = rng.random(n) < rng.uniform(0.3, 0.95)
    return time, event


def test_km_median_equals_kaplan_meier_median() -> None:
    rng = np.random.default_rng(20250111)
    flat_hits = 0
    for _ in range(3000):
        time, event = _random_data(rng)
        fit = kaplan_meier(time, event)
        fast = km_median(time, event)
        assert (math.isnan(fast) and math.isnan(fit.median)) or fast == fit.median
        flat_hits += bool(np.any(np.abs(fit.survival - 0.5) < 1e-8))
    assert flat_hits > 100  # the flat-at-0.5 rule is exercised, not just the plain crossing


def test_no_patients_and_all_censored() -> None:
    empty = kaplan_meier([], [])
    assert math.isnan(empty.median) and all(math.isnan(v) for v in empty.median_ci)
    assert empty.table.empty and empty.table.columns[0] == "time"
    assert all(math.isnan(v) for v in empty.survival_at(6.0))
    assert math.isnan(km_median([], [])) and math.isnan(median_follow_up([], []))
    censored = kaplan_meier([1.0, 4.0, 9.0], [0, 0, 0])
    assert math.isnan(censored.median) and math.isnan(censored.quantile(0.1))
    assert tuple(censored.survival_at(5.0)) == (1.0, 1.0, 1.0)
    assert math.isnan(km_median([1.0, 4.0, 9.0], [False, False, False]))


@pytest.mark.parametrize(
    ("time", "event", "kwargs", "message"),
    [
        ([1.0, 2.0], [1, 0], {"conf_type": "arcsin"}, "log-log, log, plain"),
        ([1.0, 2.0], [1, 0], {"conf_level": 1.0}, "conf_level"),
        ([1.0, 2.0], [1], {}, "same length"),
        ([-1.0, 2.0], [1, 0], {}, ">= 0"),
        ([np.nan, 2.0], [1, 0], {}, "finite"),
        ([1.0, 2.0], [2, 0], {}, "0/1"),
    ],
)
def test_invalid_input_raises(time: list[float], event: list[int], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        kaplan_meier(time, event, **kwargs)


def test_quantile_argument_is_checked() -> None:
    fit, _ = _fit("ties", "log")
    for q in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="q must be"):
            fit.quantile(q)


def test_module_exports() -> None:
    assert set(survival_module.__all__) <= set(dir(survival_module))
