"""The timeline figure: when each milestone falls, as a 10-90% range with the median, per scenario.

Milestones come from the replicate table's date columns (and the first interim look from the look
table). Quantiles are over the replicates where the milestone happened, computed in days since study
start with :func:`sim.stats.mcse.quantile_estimate`, exactly as ``summary.json``'s timeline, so the
figure and the summary agree to the day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from ...runs.folder import SavedRun
from ...stats.mcse import quantile_estimate
from .base import ReportFigure, new_figure, scenario_labels, series_style
from .dates import days_since
from .wording import as_date, date_estimate, long_date

__all__ = ["MILESTONES", "milestone_days", "milestone_ranges", "timeline_figures"]

MILESTONES: dict[str, str] = {
    "first_patient_in": "first patient in",
    "last_patient_in": "last patient in",
    "first_interim_look": "first interim look",
    "primary_cutoff": "primary analysis (ORR cutoff)",
    "final_cutoff": "final analysis (PFS/OS cutoff)",
}
"""Milestone keys in calendar order, with the words the figure uses."""

_COLUMNS = {
    "first_patient_in": "first_patient_in_date",
    "last_patient_in": "last_patient_in_date",
    "primary_cutoff": "primary_cutoff_date",
    "final_cutoff": "final_cutoff_date",
}


def milestone_days(run: SavedRun) -> dict[str, np.ndarray]:
    """Each milestone's day (since study start) in every replicate where it happened.

    The first interim look is included only when the run has looks.
    """
    origin = run.scenario.trial.study_start
    out: dict[str, np.ndarray] = {}
    for key in MILESTONES:
        if key == "first_interim_look":
            if run.looks.empty:
                continue
            first = run.looks[run.looks["look"] == 1]
            days = days_since(first["look_date"], origin)
        else:
            days = days_since(run.replicates[_COLUMNS[key]], origin)
        out[key] = days[np.isfinite(days)]
    return out


def milestone_ranges(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """10%, 50% and 90% quantile dates of each milestone, with the median's MCSE in days.

    Columns: scenario, milestone, q10_date, median_date, q90_date, median_mcse_days, replicates.
    """
    origin = run.scenario.trial.study_start
    rows = []
    for key, days in milestone_days(run).items():
        q10, q50, q90 = (quantile_estimate(days, q) for q in (0.1, 0.5, 0.9))
        rows.append(
            {
                "scenario": scenario or run.name,
                "milestone": key,
                "q10_date": as_date(origin, q10.value),
                "median_date": as_date(origin, q50.value),
                "q90_date": as_date(origin, q90.value),
                "median_mcse_days": q50.mcse,
                "replicates": days.size,
            }
        )
    frame = pd.DataFrame(rows)
    for column in ("q10_date", "median_date", "q90_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _day(stamp: pd.Timestamp) -> dt.date | None:
    """A timestamp's calendar day, None when it is missing."""
    return None if pd.isna(stamp) else stamp.date()


def _sentence(run: SavedRun, label: str) -> str:
    """One scenario's median last-patient-in and primary analysis dates, with their MCSEs."""
    days = milestone_days(run)
    origin = run.scenario.trial.study_start
    parts = [
        f"{MILESTONES[key]} {date_estimate(origin, quantile_estimate(days[key], 0.5))}"
        for key in ("last_patient_in", "primary_cutoff", "final_cutoff")
    ]
    if "first_interim_look" in days:
        look = quantile_estimate(days["first_interim_look"], 0.5)
        parts.insert(1, f"first interim look {date_estimate(origin, look)}")
    return f"{label}: median " + ", ".join(parts) + "."


def timeline_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """One figure: every scenario's milestones as 10-90% ranges on a shared calendar axis."""
    if not runs:
        return []
    labels = scenario_labels(runs)
    data = pd.concat([milestone_ranges(run, label) for run, label in zip(runs, labels)], ignore_index=True)
    height = min(max(2.0 + 0.28 * len(data), 3.5), 9.5)
    figure, ax = new_figure(height=height)
    ticks, names = [], []
    y = 0.0
    for i, label in enumerate(labels):
        rows = data[data["scenario"] == label]
        style = series_style(i)
        for j, (_, row) in enumerate(rows.iterrows()):
            ax.plot([row["q10_date"], row["q90_date"]], [y, y], color=style["color"], linewidth=5, alpha=0.45,
                    solid_capstyle="butt", label="10% to 90% of simulated trials" if i == j == 0 else None)
            ax.plot([row["median_date"]], [y], linestyle="none", marker=style["marker"], color=style["color"],
                    markeredgecolor="black", markersize=7, label="median" if i == j == 0 else None)
            ticks.append(y)
            names.append(f"{label}: {MILESTONES[row['milestone']]}")
            y -= 1.0
        y -= 0.6  # a gap between scenarios
    ax.set_yticks(ticks, names, fontsize="small")
    locator = AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(axis="x", color="0.85", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax.set_title("When the milestones fall", loc="left", fontsize="medium")
    sentences = " ".join(_sentence(run, label) for run, label in zip(runs, labels))
    caption = (
        "Each bar spans the dates between which the middle 80% of simulated trials reach a milestone "
        "(10% of trials are earlier, 10% later); the marker is the median trial. Longer bars mean a less "
        "predictable date. " + sentences
    )
    first = data["q10_date"].min()
    last = data["q90_date"].max()
    alt = (
        f"Horizontal range bars of trial milestones on one calendar axis from {long_date(_day(first))} to "
        f"{long_date(_day(last))}, grouped by scenario. " + sentences
    )
    return [ReportFigure("timeline", "timeline", "When the milestones fall", caption, alt, data, figure)]
