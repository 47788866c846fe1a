"""Survival figures: simulated Kaplan-Meier curves of PFS and OS, with the benchmark medians.

Each replicate's curve is :func:`sim.stats.survival.kaplan_meier` of its patients at the final
cutoff, read on a common month grid as :meth:`KaplanMeier.survival_at` reads it (a right-continuous
step; unknown past the last follow-up unless the curve reached 0). At each month the figure draws
the median and the 10% and 90% quantiles over the replicates whose curve is known there, and stops
where fewer than half of them are, so a few long-followed trials cannot drag the tail.

The benchmark medians are those the efficacy block was calibrated to: the scenario file's comment
``trialsim calibrate ... --median-pfs X ... --median-os Y``; without it, ``efficacy.os_median_months``
for OS and no PFS mark.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ...runs.folder import SavedRun
from ...stats.survival import KaplanMeier, kaplan_meier
from .base import OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels
from .wording import months, percent_estimate

__all__ = [
    "ENDPOINTS",
    "GRID_STEP_MONTHS",
    "BenchmarkMedians",
    "benchmark_medians",
    "km_envelope",
    "survival_figures",
    "survival_on_grid",
]

ENDPOINTS = {"PFS": ("pfs_months", "pfs_event"), "OS": ("os_months", "os_event")}
"""Each endpoint's time and event columns in the patient table."""

GRID_STEP_MONTHS = 0.25
"""Spacing of the month grid the curves are read on (about a week)."""

_CALIBRATE = re.compile(r"trialsim\s+calibrate\b")


@dataclass(frozen=True)
class BenchmarkMedians:
    """The published medians (months) a scenario's efficacy block was calibrated to, and where they came from."""

    pfs: float | None
    os: float | None
    source: str

    def of(self, endpoint: str) -> float | None:
        """The benchmark median of ``endpoint`` ("PFS" or "OS"), None when there is none."""
        return self.pfs if endpoint == "PFS" else self.os


def _flag(line: str, name: str) -> float | None:
    """The number after ``--name`` (``--name X`` or ``--name=X``) on a command line, if any."""
    found = re.search(rf"--{name}(?:\s+|=)([0-9]*\.?[0-9]+)", line)
    return float(found.group(1)) if found else None


def benchmark_medians(run: SavedRun) -> BenchmarkMedians:
    """The benchmark medians from the scenario's calibration comment, else ``efficacy.os_median_months``."""
    for line in run.scenario_text.splitlines():
        if line.lstrip().startswith("#") and _CALIBRATE.search(line):
            pfs, os_ = _flag(line, "median-pfs"), _flag(line, "median-os")
            if pfs is not None or os_ is not None:
                return BenchmarkMedians(pfs, os_, "the calibration command in the scenario file")
    os_median = run.scenario.efficacy.os_median_months
    return BenchmarkMedians(None, os_median, "efficacy.os_median_months" if os_median is not None else "")


def survival_on_grid(fit: KaplanMeier, grid: ArrayLike) -> NDArray[np.float64]:
    """S(t) of ``fit`` at each time of ``grid``, exactly as ``fit.survival_at(t).estimate`` gives it."""
    t = np.asarray(grid, dtype=float)
    if fit.n == 0:
        return np.full(t.shape, math.nan)
    index = np.searchsorted(fit.time, t, side="right") - 1
    if fit.time.size == 0:  # no event: 1 throughout, as survival_at reads it
        return np.ones(t.shape)
    values = np.where(index >= 0, fit.survival[np.maximum(index, 0)], 1.0)
    unknown = (index >= 0) & (t > fit.last_time) & (values > 0.0)
    return np.where(unknown, math.nan, values)


def _curves(run: SavedRun, endpoint: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The month grid and every replicate's KM curve on it (replicates x months; NaN where unknown)."""
    if run.patients is None:
        raise ValueError(f"run {run.name!r} kept no patients; the Kaplan-Meier figure needs them")
    time_column, event_column = ENDPOINTS[endpoint]
    final = run.patients[run.patients["cutoff"] == "final"]
    longest = float(final[time_column].max()) if len(final) else 0.0
    grid = np.arange(0.0, (math.floor(longest / GRID_STEP_MONTHS) + 1) * GRID_STEP_MONTHS + 1e-9, GRID_STEP_MONTHS)
    curves = [
        survival_on_grid(kaplan_meier(group[time_column], group[event_column]), grid)
        for _, group in final.groupby("replicate", sort=True)
    ]
    return grid, np.array(curves).reshape(len(curves), grid.size)


def _pointwise_quantiles(curves: NDArray[np.float64], qs: Sequence[float]) -> NDArray[np.float64]:
    """Quantiles over replicates at each month, from the replicates whose curve is known there."""
    out = np.full((len(qs), curves.shape[1]), math.nan)
    for j in range(curves.shape[1]):
        known = curves[:, j][np.isfinite(curves[:, j])]
        if known.size:
            out[:, j] = np.quantile(known, qs)
    return out


def km_envelope(run: SavedRun, endpoint: str, scenario: str = "") -> pd.DataFrame:
    """Median and 10/90% envelope of the replicates' KM curves of ``endpoint`` ("PFS" or "OS").

    Columns: scenario, endpoint, month, s_q10, s_median, s_q90, replicates (with a known curve there).
    Months where fewer than half the replicates have a known curve are left out.
    """
    grid, curves = _curves(run, endpoint)
    known = np.isfinite(curves).sum(axis=0)
    keep = known * 2 >= max(curves.shape[0], 1)
    q10, median, q90 = _pointwise_quantiles(curves[:, keep], (0.1, 0.5, 0.9))
    return pd.DataFrame(
        {
            "scenario": scenario or run.name,
            "endpoint": endpoint,
            "month": grid[keep],
            "s_q10": q10,
            "s_median": median,
            "s_q90": q90,
            "replicates": known[keep],
        }
    )


def _crossing(month: pd.Series, survival: pd.Series) -> float:
    """First month the median curve is at or below one half (NaN if it never is)."""
    below = np.flatnonzero(survival.to_numpy() <= 0.5)
    return float(month.iloc[below[0]]) if below.size else math.nan


def _endpoint_sentence(run: SavedRun, endpoint: str, benchmark: float | None) -> str:
    """Simulated median (mean over replicates, with MCSE) against the benchmark."""
    estimate = run.summary.median_pfs if endpoint == "PFS" else run.summary.median_os
    reached = run.summary.median_reached.get(endpoint.lower())
    if reached is not None and reached.value < 0.5:
        return (
            f"median {endpoint} not reached in most trials (reached in {percent_estimate(reached)} of them, "
            f"at {months(estimate.value)} on average there)"
        )
    text = f"median {endpoint} {months(estimate.value)} on average"
    if math.isfinite(estimate.mcse):
        text += f" (± {estimate.mcse:.1f})"
    if estimate.n < run.summary.replicates:
        text += f" over the {estimate.n} trials that reach it"
        if reached is not None:
            text += f" ({percent_estimate(reached)} of them)"
    if benchmark is not None:
        text += f", benchmark {benchmark:g} months"
    return text


def _survival_figure(run: SavedRun, label: str) -> ReportFigure:
    """PFS and OS panels of one run: median KM curve, 10-90% envelope, benchmark median."""
    benchmarks = benchmark_medians(run)
    data = pd.concat([km_envelope(run, endpoint, label) for endpoint in ENDPOINTS], ignore_index=True)
    figure, axes = new_figure(ncols=2, sharey=True)
    for ax, endpoint in zip(axes, ENDPOINTS):
        curve = data[data["endpoint"] == endpoint]
        first = endpoint == "PFS"
        ax.fill_between(curve["month"], curve["s_q10"], curve["s_q90"], step="post", color=OKABE_ITO[0], alpha=0.3,
                        linewidth=0, label="10% to 90% of simulated trials" if first else None)
        ax.step(curve["month"], curve["s_median"], where="post", color=OKABE_ITO[0], linewidth=2,
                label="median simulated curve" if first else None)
        benchmark = benchmarks.of(endpoint)
        if benchmark is not None:
            ax.plot([0, benchmark, benchmark], [0.5, 0.5, 0], color=OKABE_ITO[1], linestyle="--", linewidth=1.5,
                    label="benchmark (published) median" if endpoint == "PFS" or benchmarks.pfs is None else None)
            ax.annotate(f"{benchmark:g} months", (benchmark, 0.02), xytext=(3, 0), textcoords="offset points",
                        fontsize="small", color=OKABE_ITO[1])
        ax.set_ylim(0, 1.02)
        ax.set_xlim(left=0)
        percent_axis(ax.yaxis)
        ax.set_xlabel(f"months from first dose ({endpoint})")
        ax.set_title("Progression-free survival" if endpoint == "PFS" else "Overall survival", loc="left",
                     fontsize="small")
    axes[0].set_ylabel("share of patients without the event")
    handles, names = axes[0].get_legend_handles_labels()
    more = [(h, n) for h, n in zip(*axes[1].get_legend_handles_labels()) if n not in names]
    figure.legend(handles + [h for h, _ in more], names + [n for _, n in more], loc="outside lower center",
                  fontsize="small", frameon=False, ncols=3)
    figure.suptitle(f"Simulated Kaplan-Meier curves: {label}", x=0.01, ha="left", fontsize="medium")
    numbers = "; ".join(_endpoint_sentence(run, e, benchmarks.of(e)) for e in ENDPOINTS)
    source = f" (benchmarks from {benchmarks.source})" if benchmarks.source else ""
    caption = (
        f"Progression-free (left) and overall survival (right) as the final analysis of scenario {label} would show "
        "them. The solid line is the median of the simulated Kaplan-Meier curves, the band holds the middle 80% of "
        "simulated trials; where the dashed benchmark lines meet the curve, the simulation matches the published "
        f"median. Simulated trials report {numbers}{source}."
    )
    crossings = ", ".join(
        f"{e} median curve crosses 50% at {months(_crossing(d['month'], d['s_median']))}"
        for e, d in data.groupby("endpoint", sort=False)
    )
    alt = (
        f"Two Kaplan-Meier panels for scenario {label}, PFS and OS, each with the median simulated curve, a 10% to 90% "
        f"envelope and the benchmark median marked at survival 50%: {crossings}. Simulated trials report {numbers}."
    )
    return ReportFigure(f"survival_{label}", "survival", f"Simulated Kaplan-Meier curves ({label})", caption, alt,
                        data, figure, scenario=label)


def survival_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """PFS and OS curves for each run that kept its patients."""
    return [
        _survival_figure(run, label)
        for run, label in zip(runs, scenario_labels(runs))
        if run.patients is not None
    ]
