"""The forecast figure: the trial's observed enrollment up to the as-of date, and the forecast fan after it.

The observed line counts the patients of the observed file enrolled by each day. The fan is drawn
from the forecast's conditional run (which kept its patients): for each day after the as-of date,
the pointwise 10/50/90% quantiles over replicates of the patients enrolled by then, the observed
patients included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...runs.folder import SavedRun
from ...stats.mcse import Estimate
from .base import OKABE_ITO, ReportFigure, new_figure
from .dates import grid_dates
from .recruitment import FAN_QUANTILES, enrolled_by_day
from .wording import long_date, percent_estimate

__all__ = ["forecast_fan", "forecast_figure"]


def forecast_fan(run: SavedRun, enrolled: Sequence[dt.date], as_of: dt.date) -> pd.DataFrame:
    """Per day of recruitment: the observed count (up to the as-of date) and the forecast quantiles (after it).

    Columns: date, observed, enrolled_q10, enrolled_q50, enrolled_q90, target.
    """
    days, counts = enrolled_by_day(run)
    origin = run.scenario.trial.study_start
    as_of_day = (as_of - origin).days
    observed_days = np.sort([(d - origin).days for d in enrolled])
    frame = pd.DataFrame({"date": grid_dates(origin, days)})
    past = days <= as_of_day
    frame["observed"] = np.where(past, np.searchsorted(observed_days, days, side="right"), np.nan)
    for q, band in zip(FAN_QUANTILES, np.quantile(counts, FAN_QUANTILES, axis=0)):
        frame[f"enrolled_q{int(q * 100)}"] = np.where(past, np.nan, band)
    frame["target"] = run.scenario.trial.sample_size
    return frame


def forecast_figure(
    run: SavedRun,
    enrolled: Sequence[dt.date],
    as_of: dt.date,
    complete: Estimate,
    conditional_power: Estimate,
    predictive: Estimate,
) -> ReportFigure:
    """The observed enrollment and the forecast fan continuing from it, with the forecast's key figures."""
    data = forecast_fan(run, enrolled, as_of)
    trial = run.scenario.trial
    figure, ax = new_figure()
    ax.step(data["date"], data["observed"], where="post", color="black", linewidth=2, label="observed enrollment")
    ax.fill_between(
        data["date"],
        data["enrolled_q10"],
        data["enrolled_q90"],
        step="post",
        color=OKABE_ITO[0],
        alpha=0.3,
        linewidth=0,
        label="forecast: middle 80% of simulated futures",
    )
    ax.step(data["date"], data["enrolled_q50"], where="post", color=OKABE_ITO[0], linewidth=2, label="forecast median")
    ax.axvline(pd.Timestamp(as_of), color="0.4", linestyle="-.", linewidth=1, label=f"as of {long_date(as_of)}")
    ax.axhline(
        trial.sample_size, color=OKABE_ITO[1], linestyle="--", linewidth=1.5, label=f"target: {trial.sample_size}"
    )
    ax.axvline(
        pd.Timestamp(trial.recruitment_close), color="black", linestyle=":", linewidth=1.5, label="recruitment close"
    )
    ax.set_ylabel("patients enrolled")
    ax.set_ylim(0, trial.sample_size * 1.08)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.set_title("Enrollment so far and the forecast from here", loc="left", fontsize="medium")
    n = len(enrolled)
    caption = (
        f"The black line is the trial's real enrollment: {n} of {trial.sample_size} patients by "
        f"{long_date(as_of)}. From there the band holds the middle 80% of the simulated futures and the blue line "
        "their median; each future starts from the patients already enrolled and each site's rate as the "
        f"enrollments so far revise it. The chance of reaching {trial.sample_size} patients by the recruitment close "
        f"({long_date(trial.recruitment_close)}) is {percent_estimate(complete)}. The chance that the trial succeeds "
        f"is {percent_estimate(conditional_power)} if the assumed response rate of "
        f"{run.scenario.efficacy.orr:.0%} is right, and {percent_estimate(predictive)} averaged over what the "
        "responses seen so far say about it."
    )
    alt = (
        f"Cumulative enrollment: {n} patients observed by {long_date(as_of)}, then a forecast fan to "
        f"{long_date(trial.recruitment_close)}; P(target by close) {percent_estimate(complete)}, conditional power "
        f"{percent_estimate(conditional_power)}, predictive probability {percent_estimate(predictive)}."
    )
    return ReportFigure("forecast_enrollment", "forecast", "Where the trial stands", caption, alt, data, figure)
