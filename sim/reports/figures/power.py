"""Power figures: power against the true response rate, and the distribution of responders.

The power curve comes from the run's operating-characteristics grid (``oc.csv``, written by
``trialsim oc``): each grid cell is the same scenario with another true ORR, simulated with the same
seed. The run's own power at its assumed ORR is drawn as a point with a ±2 MCSE bar either way.

The responders figure shows how often each number of confirmed responders occurs at the primary
analysis, with the smallest count that gives a positive result:

* single stage: the smallest k that the exact one-sided binomial test rejects at the modal
  ``n_analysed`` (:func:`sim.stats.proportions.critical_responders`);
* Simon two-stage: ``final_max_responders + 1`` (success when responders > r);
* Bayesian: the smallest k whose posterior P(ORR > p0) exceeds ``success_posterior`` at the modal
  ``n_analysed``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from ...runs.folder import SavedRun
from .base import OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels, series_style
from .wording import percent, percent_estimate

__all__ = [
    "OC_COMMAND",
    "modal_n_analysed",
    "power_curve",
    "power_figures",
    "rejection_threshold",
    "responder_distribution",
]

OC_COMMAND = "trialsim oc --out RUN_DIR/oc.csv"
"""What a user runs to add the power curve to a run folder."""

_OC_COLUMNS = ("efficacy.orr", "power", "power_mcse")


def _oc_table(run: SavedRun) -> pd.DataFrame | None:
    """The run's operating-characteristics grid, or None when absent or without power columns."""
    if run.oc is None or not set(_OC_COLUMNS) <= set(run.oc.columns):
        return None
    return run.oc.sort_values("efficacy.orr")


def power_curve(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """Power against the true ORR: the grid's rows (source "oc grid") and the run's own point ("this run").

    Columns: scenario, source, true_orr, power, power_mcse, low, high (power ± 2 MCSE, clipped to
    [0, 1]), p0, assumed_orr.
    """
    rows = []
    oc = _oc_table(run)
    if oc is not None:
        for _, row in oc.iterrows():
            rows.append(("oc grid", float(row["efficacy.orr"]), float(row["power"]), float(row["power_mcse"])))
    if run.scenario.efficacy.orr_prior is None:  # with a prior the run's share is its assurance, no point of the curve
        rows.append(("this run", run.scenario.efficacy.orr, run.summary.power.value, run.summary.power.mcse))
    frame = pd.DataFrame(rows, columns=["source", "true_orr", "power", "power_mcse"])
    frame.insert(0, "scenario", scenario or run.name)
    frame["low"] = (frame["power"] - 2 * frame["power_mcse"]).clip(0.0, 1.0)
    frame["high"] = (frame["power"] + 2 * frame["power_mcse"]).clip(0.0, 1.0)
    frame["p0"] = run.scenario.analysis.p0
    frame["assumed_orr"] = run.scenario.efficacy.orr
    return frame


def modal_n_analysed(run: SavedRun) -> int:
    """The most common ORR denominator over replicates (the smallest, on a tie)."""
    return int(run.replicates["n_analysed"].mode().min())


def rejection_threshold(run: SavedRun) -> int:
    """Smallest number of responders that gives a positive result (see the module docstring)."""
    return run.scenario.rule.threshold(modal_n_analysed(run))


def responder_distribution(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """Share of replicates with each count of confirmed responders at the primary analysis.

    Columns: scenario, responders (0 to the largest seen or the threshold), replicates, proportion,
    proportion_positive (share of all replicates with that count and a positive result, so these sum
    to the power), threshold; for a monitored design also early_stop, early_stop_mcse, expected_n,
    expected_n_mcse.
    """
    responders = run.replicates["responders"].to_numpy(dtype=np.int64)
    positive = run.replicates["reject_h0"].to_numpy(dtype=bool)
    threshold = rejection_threshold(run)
    top = max(int(responders.max()) if responders.size else 0, threshold)
    counts = np.bincount(responders, minlength=top + 1)
    total = max(responders.size, 1)
    frame = pd.DataFrame(
        {
            "scenario": scenario or run.name,
            "responders": np.arange(top + 1),
            "replicates": counts,
            "proportion": counts / total,
            "proportion_positive": np.bincount(responders[positive], minlength=top + 1) / total,
        }
    )
    frame["threshold"] = threshold
    if run.scenario.rule.look_sizes:
        frame["early_stop"] = run.summary.early_stop.value
        frame["early_stop_mcse"] = run.summary.early_stop.mcse
        frame["expected_n"] = run.summary.n_enrolled.value
        frame["expected_n_mcse"] = run.summary.n_enrolled.mcse
    return frame


def _draw_curve(ax: Axes, data: pd.DataFrame, index: int, label: str) -> None:
    """One scenario's power curve with its ±2 MCSE band, and the run's own point."""
    style = series_style(index)
    grid = data[data["source"] == "oc grid"]
    if not grid.empty:
        ax.fill_between(grid["true_orr"], grid["low"], grid["high"], color=style["color"], alpha=0.2, linewidth=0)
        ax.plot(grid["true_orr"], grid["power"], color=style["color"], linestyle=style["linestyle"],
                marker=style["marker"], markersize=4, linewidth=1.8, label=f"{label}: power curve (±2 MCSE)")
    if not (data["source"] == "this run").any():
        return
    own = data[data["source"] == "this run"].iloc[0]
    ax.errorbar([own["true_orr"]], [own["power"]], yerr=[[own["power"] - own["low"]], [own["high"] - own["power"]]],
                color=style["color"], marker=style["marker"], markersize=8, markeredgecolor="black", capsize=4,
                linestyle="none", label=f"{label}: this run at its assumed ORR")


def _power_sentence(run: SavedRun, label: str, data: pd.DataFrame) -> str:
    """One scenario's power at its assumed ORR and, from the grid, at p0 (the false-positive rate)."""
    text = (
        f"{label}: if the true response rate is {percent(run.scenario.efficacy.orr)}, the trial has a "
        f"{percent_estimate(run.summary.power)} chance of a positive result"
    )
    if run.scenario.efficacy.orr_prior is not None:
        text = (
            f"{label}: each point of the curve is simulated at that true response rate (the run itself averages "
            "over the ORR prior)"
        )
    null = data[(data["source"] == "oc grid") & np.isclose(data["true_orr"], run.scenario.analysis.p0)]
    if not null.empty:
        row = null.iloc[0]
        text += (
            f"; at p0 = {percent(row['p0'])} (no benefit) the false-positive rate is "
            f"{percent(row['power'])} (± {row['power_mcse'] * 100:.1f}%)"
        )
    else:
        text += f". The curve needs the operating characteristics: run `{OC_COMMAND}`"
    return text + "."


def _curve_figure(runs: Sequence[SavedRun], labels: Sequence[str]) -> ReportFigure:
    """Power against the true ORR for every scenario on one axis."""
    data = pd.concat([power_curve(run, label) for run, label in zip(runs, labels)], ignore_index=True)
    figure, ax = new_figure()
    for i, label in enumerate(labels):
        _draw_curve(ax, data[data["scenario"] == label], i, label)
    for p0 in sorted(set(data["p0"])):
        ax.axvline(p0, color="black", linestyle=":", linewidth=1.2)
        ax.annotate(f"p0 = {percent(p0)}", (p0, 0.97), xytext=(3, 0), textcoords="offset points",
                    fontsize="small", va="top")
    for assumed in sorted(set(data["assumed_orr"])):
        ax.axvline(assumed, color="0.4", linestyle="--", linewidth=1.0)
        ax.annotate(f"assumed {percent(assumed)}", (assumed, 0.88), xytext=(3, 0), textcoords="offset points",
                    fontsize="small", va="top", color="0.3")
    ax.set_ylim(0, 1.0)
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_xlabel("true response rate (ORR)")
    ax.set_ylabel("chance of a positive result")
    figure.legend(loc="outside lower center", fontsize="small", frameon=False, ncols=2)
    ax.set_title("Power against the true response rate", loc="left", fontsize="medium")
    sentences = " ".join(_power_sentence(run, label, data[data["scenario"] == label])
                         for run, label in zip(runs, labels))
    caption = (
        "How likely the trial is to succeed, depending on the true response rate. Read a curve upwards from a "
        "response rate to the chance of a positive result; the shaded band is ±2 Monte Carlo standard errors. "
        "The dotted line marks p0, the rate of no interest (the curve's height there is the false-positive "
        "rate); the dashed line the rate the scenario assumes, where the large marker is this run's own "
        "result. " + sentences
    )
    alt = "Power curves against the true objective response rate, with p0 and the assumed rate marked. " + sentences
    return ReportFigure("power_curve", "power", "Power against the true response rate", caption, alt, data, figure)


def _monitoring_sentence(run: SavedRun) -> str:
    """P(early stop) and expected N of a monitored design."""
    summary = run.summary
    return (
        f" The design can stop early for futility: P(early stop) {percent_estimate(summary.early_stop)}, and the "
        f"trial enrolls {summary.n_enrolled.value:.1f} patients on average (± {summary.n_enrolled.mcse:.1f})."
    )


def _threshold_words(run: SavedRun, threshold: int) -> str:
    """Which rule sets the threshold, and what happens to trials that analyse fewer patients."""
    rule = run.scenario.rule
    n = modal_n_analysed(run)
    if rule.fixed_threshold:
        return f"{threshold} or more responders: {rule.words()}"
    varies = run.replicates["n_analysed"].nunique() > 1
    return f"{threshold} or more responders out of {n} analysed: {rule.words()}" + (
        "; trials that analyse fewer patients need fewer" if varies and not rule.look_sizes else ""
    )


def _responders_figure(run: SavedRun, label: str) -> ReportFigure:
    """The distribution of responders of one run, with the threshold for a positive result."""
    data = responder_distribution(run, label)
    threshold = int(data["threshold"].iloc[0])
    figure, ax = new_figure()
    not_positive = data["proportion"] - data["proportion_positive"]
    ax.bar(data["responders"], data["proportion_positive"], color=OKABE_ITO[0], edgecolor="black", linewidth=0.6,
           hatch="//", label="trials with a positive result")
    ax.bar(data["responders"], not_positive, bottom=data["proportion_positive"], color="0.8", edgecolor="black",
           linewidth=0.6, label="trials without")
    ax.axvline(threshold - 0.5, color=OKABE_ITO[1], linestyle="--", linewidth=1.5,
               label=f"threshold: {threshold} or more responders")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    percent_axis(ax.yaxis)
    ax.set_xlabel("confirmed responders at the primary analysis")
    ax.set_ylabel("share of simulated trials")
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    ax.set_title(f"How many patients respond: {label}", loc="left", fontsize="medium")
    monitored = bool(run.scenario.rule.look_sizes)
    most = int(data.loc[data["proportion"].idxmax(), "responders"]) if data["replicates"].sum() else 0
    numbers = (
        f"The most common count is {most} responders; the chance of a positive result (the blue, hatched part of "
        f"the bars) is {percent_estimate(run.summary.power)}"
        + (", and a trial stopped early cannot succeed." if monitored else ".")
        + (_monitoring_sentence(run) if monitored else "")
    )
    caption = (
        f"How many confirmed responders each simulated trial of scenario {label} has at the primary analysis. "
        f"The dashed line marks the threshold for a positive result ({_threshold_words(run, threshold)}). "
        + numbers
    )
    alt = (
        f"Bar chart of the share of simulated trials by number of confirmed responders, scenario {label}, with the "
        f"threshold for a positive result at {threshold} responders. " + numbers
    )
    return ReportFigure(f"power_responders_{label}", "power", f"How many patients respond ({label})", caption, alt,
                        data, figure, scenario=label)


def power_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """The power curve of all runs, then each run's distribution of responders."""
    if not runs:
        return []
    labels = scenario_labels(runs)
    return [_curve_figure(runs, labels)] + [_responders_figure(run, label) for run, label in zip(runs, labels)]

