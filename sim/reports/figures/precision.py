"""The precision figure: how far a trial's ORR estimate may land from the truth, and how wide its CI is.

Per replicate: the observed ORR at the primary analysis, its confidence interval
(``analysis.ci_method``, ``analysis.ci_level``) and whether that interval covers the true
``efficacy.orr``. Coverage and the summaries quoted in the caption are the run summary's (the same
numbers as ``summary.json``), each with its MCSE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...runs.folder import SavedRun
from .base import OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels
from .power import modal_n_analysed
from .wording import percent, percent_estimate

__all__ = ["orr_estimates", "precision_figures"]


def orr_estimates(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """One row per replicate: the ORR estimate, its CI, the CI's width and whether it covers the truth.

    Columns: scenario, replicate, orr, ci_low, ci_high, ci_width, covers_true_orr, true_orr.
    Replicates with nobody analysed have NaN estimates (and do not cover).
    """
    table = run.replicates
    low = table["orr_ci_low"].to_numpy(dtype=float)
    high = table["orr_ci_high"].to_numpy(dtype=float)
    true_orr = run.scenario.efficacy.orr
    return pd.DataFrame(
        {
            "scenario": scenario or run.name,
            "replicate": table["replicate"].to_numpy(),
            "orr": table["orr"].to_numpy(dtype=float),
            "ci_low": low,
            "ci_high": high,
            "ci_width": high - low,
            "covers_true_orr": (low <= true_orr) & (true_orr <= high),
            "true_orr": true_orr,
        }
    )


def _points(x: float, mcse: float) -> str:
    """A proportion as percentage points with its MCSE: "24 points (± 0.5)"."""
    return f"{x * 100:.0f} percentage points (± {mcse * 100:.1f})"


def _precision_figure(run: SavedRun, label: str) -> ReportFigure:
    """Histograms of the ORR estimate and of the CI width for one run."""
    data = orr_estimates(run, label)
    summary = run.summary
    analysis = run.scenario.analysis
    figure, (left, right) = new_figure(ncols=2)
    n = max(modal_n_analysed(run), 1)
    orr = data["orr"].dropna()
    edges = (np.arange(0, n + 2) - 0.5) / n  # one bar per responder count at the usual denominator
    left.hist(orr, bins=edges, weights=np.full(len(orr), 1 / max(len(data), 1)), color="0.7", edgecolor="black",
              linewidth=0.6)
    left.axvline(summary.true_orr, color=OKABE_ITO[1], linestyle="--", linewidth=1.8,
                 label=f"true ORR {percent(summary.true_orr)}")
    left.axvline(analysis.p0, color="black", linestyle=":", linewidth=1.2, label=f"p0 {percent(analysis.p0)}")
    left.set_xlim(-0.5 / n, min(1.0, max(float(orr.max()) if len(orr) else 0.0, summary.true_orr) + 2 / n))
    percent_axis(left.xaxis)
    percent_axis(left.yaxis)
    left.set_xlabel("ORR the trial reports")
    left.set_ylabel("share of simulated trials")
    left.legend(fontsize="small", frameon=False)
    width = data["ci_width"].dropna()
    right.hist(width, bins=20, weights=np.full(len(width), 1 / max(len(data), 1)), color=OKABE_ITO[0], alpha=0.7,
               edgecolor="black", linewidth=0.6, hatch="//")
    right.axvline(summary.ci_width_median.value, color="black", linestyle="--", linewidth=1.5,
                  label=f"median {summary.ci_width_median.value * 100:.0f} points")
    percent_axis(right.xaxis)
    percent_axis(right.yaxis)
    right.set_xlabel(f"width of the {analysis.ci_level * 100:.0f}% confidence interval")
    right.legend(fontsize="small", frameon=False)
    figure.suptitle(f"How precise the response rate is: {label}", x=0.01, ha="left", fontsize="medium")
    level = f"{analysis.ci_level * 100:.0f}%"
    width_text = _points(summary.ci_width_median.value, summary.ci_width_median.mcse)
    numbers = (
        f"The reported ORR averages {percent_estimate(summary.orr_mean)} against a true {percent(summary.true_orr)}; "
        f"the median {level} confidence interval is {width_text} "
        f"wide; it contains the true rate in {percent_estimate(summary.coverage)} of trials (coverage; the aim is "
        f"{level})."
    )
    caption = (
        f"Left: the response rate each simulated trial of scenario {label} would report, against the true rate "
        "(dashed line) and p0 (dotted line); the spread shows how far one trial's estimate can land from the truth. "
        "Right: how wide the confidence interval around that estimate is; narrower means more precise. " + numbers
    )
    alt = (
        f"Two histograms for scenario {label}: the ORR estimate over simulated trials with the true ORR marked, and "
        f"the width of its confidence interval with the median marked. " + numbers
    )
    return ReportFigure(f"precision_{label}", "precision", f"How precise the response rate is ({label})", caption,
                        alt, data, figure, scenario=label)


def precision_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """One precision figure per run."""
    return [_precision_figure(run, label) for run, label in zip(runs, scenario_labels(runs))]
