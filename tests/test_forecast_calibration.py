"""Forecasts of trials the model itself simulated are calibrated, at several as-of dates.

If the forecast conditions exactly, the trial's realised future and the forecast's replicates are
exchangeable draws given the data at the as-of date. Two consequences are checked:

* The realised enrollment-completion day ranks uniformly among the forecast's R replicates (ties,
  including "never", broken at random). The central band of ranks 2 to R - 2 covers it with
  probability (R - 3) / (R + 1) = 0.8.
* Success minus the forecast's conditional power has mean zero for trials simulated at the
  scenario's ORR. (A check of the ORR posterior itself, the posterior cdf at a true ORR drawn from
  the prior being uniform, is still to be written: docs/forecast.md.)

Each check holds within 4 standard errors over the synthetic trials.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from sim.engines.des import simulate_trial
from sim.forecast import parse_observed
from sim.forecast.result import conditional_model
from sim.forecast.synthetic import observed_frame
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds, run
from sim.scenario import load_scenario
from tests.replicate_analysis import analyse_replicate, response_test

R = 19
"""Forecast replicates per synthetic trial: ranks 0..19, the central band 2..17 covers 80%."""

AS_OF_DATES = (dt.date(2026, 5, 15), dt.date(2026, 11, 15), dt.date(2027, 5, 15))


def _days(model: TrialModel, dates: pd.Series) -> np.ndarray:
    """Days from study start of a date column, infinite where never reached."""
    days = (pd.to_datetime(dates) - pd.Timestamp(model.scenario.trial.study_start)).dt.days.to_numpy(dtype=float)
    return np.where(np.isnan(days), np.inf, days)


def _rank(truth: float, forecast: np.ndarray, rng: np.random.Generator) -> int:
    """The truth's rank among the forecast's replicates, ties broken at random: uniform on 0..R if exchangeable."""
    below = int(np.sum(forecast < truth))
    ties = int(np.sum(forecast == truth))
    return below + int(rng.integers(0, ties + 1))


def _success(model: TrialModel, history) -> bool:
    row, _, _ = analyse_replicate(history, model, response_test(model.scenario.analysis))
    return bool(row["reject_h0"])


@pytest.mark.slow
def test_completion_dates_and_success_are_calibrated_at_three_as_of_dates() -> None:
    model = TrialModel.from_scenario(load_scenario("base"))
    rng = np.random.default_rng(0)
    ranks, gaps = [], []
    for as_of in AS_OF_DATES:
        for trial in range(25):
            # seeds 70_000 + ... gave, once issue 25 redrew the AEs, a patient (an unconfirmed CR, then a withdrawal)
            # whose status 1 draw in 100,000 matches: conditioning gave up after its 200,000 (see the report)
            history = simulate_trial(model, replicate_seeds(71_000 + as_of.toordinal(), trial, trial + 1)[0])
            observed = parse_observed(observed_frame(history, model, as_of), model.scenario, as_of, "synthetic")
            table = run(conditional_model(model, observed, as_of), replicates=R, seed=trial, progress=False).replicates
            truth = history.enrollment_complete_day
            ranks.append(
                _rank(
                    math.inf if math.isnan(truth) else math.floor(truth),
                    _days(model, table["enrollment_complete_date"]),
                    rng,
                )
            )
            gaps.append(_success(model, history) - table["reject_h0"].mean())
    ranks_a, gaps_a = np.array(ranks), np.array(gaps)
    n = ranks_a.size
    covered = (ranks_a >= 2) & (ranks_a <= R - 2)
    nominal = (R - 3) / (R + 1)
    assert abs(covered.mean() - nominal) <= 4 * math.sqrt(nominal * (1 - nominal) / n)
    assert abs(ranks_a.mean() - R / 2) <= 4 * math.sqrt(((R + 1) ** 2 - 1) / 12 / n)
    assert abs(gaps_a.mean()) <= 4 * gaps_a.std(ddof=1) / math.sqrt(n)
