"""Recruitment figures: the enrollment fan chart and the chance that enrollment is complete by a date.

The fan chart counts, for every day from recruitment open to close, the patients each simulated
trial has enrolled by then (from the patient table at the final cutoff, where every enrolled patient
appears); the bands are pointwise 10/50/90% quantiles over replicates. P(complete by date) is the
share of replicates whose ``enrollment_complete_date`` is on or before the date; a trial that never
reaches its target (closed short, or stopped at an interim look) counts as not complete.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from numpy.typing import NDArray

from ...runs.folder import SavedRun
from ...stats.mcse import Estimate, quantile_estimate
from .base import OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels, series_style
from .dates import day_grid, days_since, grid_dates, quantile_of_events
from .wording import count, date_estimate, long_date, percent_estimate

__all__ = [
    "FAN_QUANTILES",
    "completion_curve",
    "enrolled_by_day",
    "enrollment_fan",
    "median_completion",
    "recruitment_figures",
]

FAN_QUANTILES = (0.1, 0.5, 0.9)
"""Quantiles over replicates the fan chart draws (an 80% band around the median)."""


def _recruitment_days(run: SavedRun) -> NDArray[np.int64]:
    """Days since study start from recruitment open to recruitment close, inclusive."""
    trial = run.scenario.trial
    return day_grid(trial.study_start, trial.recruitment_open, trial.recruitment_close)


def enrolled_by_day(run: SavedRun) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Patients enrolled by each day of recruitment, per replicate: (days since start, R x days counts).

    Every replicate of the replicate table has a row, with zeros if it enrolled nobody.
    """
    if run.patients is None:
        raise ValueError(f"run {run.name!r} kept no patients; the enrollment fan chart needs them")
    days = _recruitment_days(run)
    final = run.patients[run.patients["cutoff"] == "final"]
    replicate_ids = run.replicates["replicate"].to_numpy()
    rows = pd.Index(replicate_ids).get_indexer(final["replicate"].to_numpy())
    enrolled = days_since(final["enrollment_date"], run.scenario.trial.study_start)
    column = np.clip(enrolled - days[0], 0, days.size).astype(np.int64)  # after close: dropped below
    counts = np.zeros((replicate_ids.size, days.size + 1), dtype=np.int64)
    np.add.at(counts, (rows, column), 1)
    return days, np.cumsum(counts, axis=1)[:, : days.size]


def _periods_on(run: SavedRun, dates: pd.DatetimeIndex) -> list[str]:
    """The calendar periods in force on each date, joined by "; " ("" on ordinary days)."""
    names: list[list[str]] = [[] for _ in dates]
    for period in run.scenario.recruitment.periods:
        inside = (dates >= pd.Timestamp(period.start)) & (dates <= pd.Timestamp(period.end))
        for i in np.flatnonzero(inside):
            names[i].append(period.name)
    return ["; ".join(n) for n in names]


def enrollment_fan(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """The fan chart's data: per date, the 10/50/90% quantiles of patients enrolled by then.

    Columns: scenario, date, enrolled_q10, enrolled_q50, enrolled_q90, target, calendar_period.
    """
    days, counts = enrolled_by_day(run)
    dates = grid_dates(run.scenario.trial.study_start, days)
    bands = np.quantile(counts, FAN_QUANTILES, axis=0)
    frame = pd.DataFrame({"scenario": scenario or run.name, "date": dates})
    for q, band in zip(FAN_QUANTILES, bands):
        frame[f"enrolled_q{int(q * 100)}"] = band
    frame["target"] = run.scenario.trial.sample_size
    frame["calendar_period"] = _periods_on(run, dates)
    return frame


def _completion_days(run: SavedRun) -> NDArray[np.float64]:
    """Day each replicate reached its enrollment target (NaN: never)."""
    return days_since(run.replicates["enrollment_complete_date"], run.scenario.trial.study_start)


def completion_curve(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """P(enrollment complete by date) for each day of recruitment, with its MCSE.

    Columns: scenario, date, p_complete, p_complete_mcse.
    """
    days = _recruitment_days(run)
    done = _completion_days(run)
    share = (done[:, None] <= days[None, :]).mean(axis=0) if done.size else np.full(days.size, np.nan)
    return pd.DataFrame(
        {
            "scenario": scenario or run.name,
            "date": grid_dates(run.scenario.trial.study_start, days),
            "p_complete": share,
            "p_complete_mcse": np.sqrt(share * (1.0 - share) / max(done.size, 1)),
        }
    )


def median_completion(run: SavedRun) -> Estimate:
    """Median day (since study start) the target is met; NaN when half the trials never meet it."""
    return quantile_of_events(_completion_days(run), 0.5)


def _date_axis(ax: Axes) -> None:
    """Calendar dates on the x axis, labelled compactly."""
    locator = AutoDateLocator(minticks=4, maxticks=9)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def _shade_periods(ax: Axes, run: SavedRun) -> None:
    """Grey stripes over the scenario's calendar periods (holidays), labelled once in the legend."""
    for i, period in enumerate(run.scenario.recruitment.periods):
        ax.axvspan(
            pd.Timestamp(period.start),
            pd.Timestamp(period.end) + pd.Timedelta(days=1),
            color="0.6",
            alpha=0.3,
            linewidth=0,
            label="holiday periods (slower screening)" if i == 0 else None,
        )


def _fan_figure(run: SavedRun, label: str) -> ReportFigure:
    """The fan chart of one run."""
    data = enrollment_fan(run, label)
    trial = run.scenario.trial
    _, counts = enrolled_by_day(run)
    at_close = counts[:, -1] if counts.size else np.zeros(0)
    median_at_close = quantile_estimate(at_close, 0.5)
    low, high = (float(np.quantile(at_close, q)) if at_close.size else float("nan") for q in (0.1, 0.9))
    figure, ax = new_figure()
    ax.fill_between(
        data["date"], data["enrolled_q10"], data["enrolled_q90"], step="post",
        color=OKABE_ITO[0], alpha=0.3, linewidth=0, label="middle 80% of simulated trials",
    )
    ax.step(data["date"], data["enrolled_q50"], where="post", color=OKABE_ITO[0], linewidth=2,
            label="median simulated trial")
    ax.axhline(trial.sample_size, color=OKABE_ITO[1], linestyle="--", linewidth=1.5,
               label=f"target: {trial.sample_size} patients")
    ax.axvline(pd.Timestamp(trial.recruitment_close), color="black", linestyle=":", linewidth=1.5,
               label=f"recruitment close ({long_date(trial.recruitment_close)})")
    _shade_periods(ax, run)
    ax.set_ylabel("patients enrolled")
    ax.set_ylim(0, trial.sample_size * 1.08)
    _date_axis(ax)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.set_title(f"Enrollment over time: {label}", loc="left", fontsize="medium")
    median_text = f"{count(median_at_close.value)} patients (± {median_at_close.mcse:.1f} by Monte Carlo error)"
    caption = (
        f"How many patients are enrolled over time in scenario {label}. The solid line is the median "
        "simulated trial; the shaded band holds the middle 80% of simulated trials (10% to 90%). The dashed "
        f"line is the target of {trial.sample_size} patients, the dotted line the recruitment close "
        f"({long_date(trial.recruitment_close)})"
        + (", and grey stripes are holiday periods when screening slows" if run.scenario.recruitment.periods else "")
        + f". By the close, the median trial has enrolled {median_text}; 80% of trials have between "
        f"{count(low)} and {count(high)}."
        + (
            " A trial stopped for futility at an interim look enrolls no more, which holds the lower band down."
            if run.scenario.rule.look_sizes
            else ""
        )
    )
    alt = (
        f"Fan chart of cumulative enrollment against calendar date for scenario {label}, from "
        f"{long_date(trial.recruitment_open)} to {long_date(trial.recruitment_close)}. The median line reaches "
        f"{count(median_at_close.value)} of the {trial.sample_size}-patient target by recruitment close; "
        f"the 10% to 90% band there spans {count(low)} to {count(high)} patients."
    )
    return ReportFigure(f"recruitment_fan_{label}", "recruitment", f"Enrollment over time ({label})",
                        caption, alt, data, figure, scenario=label)


def _completion_sentence(run: SavedRun, label: str) -> str:
    """One scenario's P(complete by close) and median completion date, as a caption sentence."""
    by_close = run.summary.target_reached
    median = median_completion(run)
    when = (
        f"the median trial completes enrollment by {date_estimate(run.scenario.trial.study_start, median)}"
        if np.isfinite(median.value)
        else "fewer than half of simulated trials ever complete enrollment"
    )
    stopped = bool(run.scenario.rule.look_sizes)
    return (
        f"{label}: P(complete by close, {long_date(run.scenario.trial.recruitment_close)}"
        f"{', a trial stopped before its target counting as not complete' if stopped else ''}) "
        f"{percent_estimate(by_close)}; {when}."
    )


def _completion_figure(runs: Sequence[SavedRun], labels: Sequence[str]) -> ReportFigure:
    """P(enrollment complete by date), one curve per scenario."""
    data = pd.concat([completion_curve(run, label) for run, label in zip(runs, labels)], ignore_index=True)
    figure, ax = new_figure()
    for i, label in enumerate(labels):
        curve = data[data["scenario"] == label]
        ax.step(curve["date"], curve["p_complete"], where="post", linewidth=2, markevery=max(len(curve) // 8, 1),
                markersize=5, label=label, **series_style(i))
    for close in sorted({run.scenario.trial.recruitment_close for run in runs}):
        ax.axvline(pd.Timestamp(close), color="black", linestyle=":", linewidth=1.2)
        ax.annotate(f"recruitment close\n{long_date(close)}", (pd.Timestamp(close), 0.02), xytext=(-4, 0),
                    textcoords="offset points", ha="right", fontsize="small")
    ax.set_ylim(0, 1.02)
    percent_axis(ax.yaxis)
    ax.set_ylabel("P(enrollment complete by date)")
    _date_axis(ax)
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    ax.set_title("Chance that enrollment is complete by each date", loc="left", fontsize="medium")
    sentences = " ".join(_completion_sentence(run, label) for run, label in zip(runs, labels))
    monitored = any(run.scenario.rule.look_sizes for run in runs)
    caption = (
        "Each curve gives the chance that a scenario's trial has enrolled all its patients by the date on the "
        "horizontal axis; read it where it crosses the dotted recruitment close. "
        + sentences
        + " Trials that never reach the target count as not complete"
        + (" (so do trials stopped early at an interim look)." if monitored else ".")
    )
    alt = "Step curves of the probability that enrollment is complete by each calendar date. " + sentences
    return ReportFigure("recruitment_complete", "recruitment", "Chance that enrollment is complete by each date",
                        caption, alt, data, figure)


def recruitment_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """A fan chart per run that kept its patients, then P(enrollment complete by date) for all runs."""
    labels = scenario_labels(runs)
    figures = [_fan_figure(run, label) for run, label in zip(runs, labels) if run.patients is not None]
    if runs:
        figures.append(_completion_figure(runs, labels))
    return figures
