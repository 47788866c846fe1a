"""Assurance figure: the prior on the true ORR drawn over the power curve, with the assurance it gives.

Shown for each run whose scenario has ``efficacy.orr_prior``. Power (left axis) is read from the
run's operating-characteristics grid when there is one (``trialsim oc``, each cell a point ORR);
the prior's density (right axis) is truncated at the largest ORR the PFS can carry, as the draws
are. The assurance is the run's own share of positive trials, each simulated at an ORR drawn from
that prior, so it is the power curve averaged over the density; the two are drawn together so a
reader sees which part of the belief carries the chance of success.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...model.trial_model import orr_ceiling, orr_prior_law
from ...runs.folder import SavedRun
from .base import OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels
from .power import power_curve
from .wording import decision_errors, percent, percent_estimate

__all__ = ["assurance_figures", "prior_density", "assurance_sentence"]

_GRID = 201
"""Points at which the prior's density is tabulated over [0, ceiling]."""


def prior_density(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """The run's truncated ORR prior on a grid: columns scenario, true_orr, density (empty without a prior)."""
    spec = run.scenario.efficacy.orr_prior
    if spec is None:
        return pd.DataFrame(columns=["scenario", "true_orr", "density"])
    ceiling = orr_ceiling(run.scenario)
    x = np.linspace(0.0, ceiling, _GRID)
    density = orr_prior_law(spec).pdf(x, ceiling)
    return pd.DataFrame({"scenario": scenario or run.name, "true_orr": x, "density": density})


def assurance_sentence(run: SavedRun, label: str) -> str:
    """The assurance in plain words, with the belief it averages over and the false-go rate."""
    spec = run.scenario.efficacy.orr_prior
    assert spec is not None
    law, ceiling = orr_prior_law(spec), orr_ceiling(run.scenario)
    d = run.summary.decisions
    low, high = law.quantile(0.25, ceiling), law.quantile(0.75, ceiling)
    text = (
        f"{label}: averaged over the belief that the true ORR is most likely {percent(low)} to {percent(high)} "
        f"(the middle half of the prior, {law.describe()}), the trial has a {percent_estimate(d.assurance)} chance "
        f"of a positive result; {decision_errors(d)}"
    )
    if d.prior_kept < 0.999:
        text += f" ({percent(1 - d.prior_kept)} of the prior lies above the largest ORR the PFS can carry and was cut)"
    return text + "."


def _figure(run: SavedRun, label: str) -> ReportFigure:
    """One run's prior density over its power curve."""
    density = prior_density(run, label)
    curve = power_curve(run, label)
    grid = curve[curve["source"] == "oc grid"]
    figure, ax = new_figure()
    right = ax.twinx()
    ax.set_zorder(right.get_zorder() + 1)  # the power curve over the density, and the axes' own patch cleared
    ax.patch.set_visible(False)
    right.fill_between(density["true_orr"], density["density"], color=OKABE_ITO[1], alpha=0.25, linewidth=0)
    right.plot(density["true_orr"], density["density"], color=OKABE_ITO[1], linestyle="--", linewidth=1.5,
               label="prior on the true ORR (density, right axis)")
    right.set_ylim(bottom=0)
    right.set_ylabel("prior density")
    if not grid.empty:
        ax.fill_between(grid["true_orr"], grid["low"], grid["high"], color=OKABE_ITO[0], alpha=0.2, linewidth=0)
        ax.plot(grid["true_orr"], grid["power"], color=OKABE_ITO[0], marker="o", markersize=4, linewidth=1.8,
                label="power at each true ORR (±2 MCSE)")
    a = run.summary.decisions.assurance
    ax.axhline(a.value, color="black", linestyle=":", linewidth=1.2, label=f"assurance {percent_estimate(a)}")
    ax.set_ylim(0, 1.0)
    ax.set_xlim(0, max(float(density["true_orr"].max()), float(grid["true_orr"].max()) if not grid.empty else 0.0))
    percent_axis(ax.xaxis)
    percent_axis(ax.yaxis)
    ax.set_xlabel("true response rate (ORR)")
    ax.set_ylabel("chance of a positive result")
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    figure.legend(handles[0] + more[0], handles[1] + more[1], loc="outside lower center", fontsize="small",
                  frameon=False, ncols=2)
    ax.set_title(f"Probability of success under the prior: {label}", loc="left", fontsize="medium")
    sentence = assurance_sentence(run, label)
    hint = "" if not grid.empty else " Run `trialsim oc --out RUN_DIR/oc.csv` to draw the power curve beneath it."
    caption = (
        "What we believe about the true response rate (the shaded density) and how likely the trial is to "
        "succeed at each rate (the curve); the dotted line is the assurance, the chance of success averaged over "
        "the belief, simulated with each trial's ORR drawn from it. " + sentence + hint
    )
    alt = "Prior density of the true ORR drawn over the power curve, with the assurance marked. " + sentence
    data = pd.concat([density.assign(kind="prior"), grid.assign(kind="power")], ignore_index=True)
    return ReportFigure(f"assurance_{label}", "power", f"Probability of success under the prior ({label})", caption,
                        alt, data, figure, scenario=label)


def assurance_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """One figure per run whose scenario has an ORR prior."""
    labels = scenario_labels(runs)
    return [_figure(run, label) for run, label in zip(runs, labels) if run.scenario.efficacy.orr_prior is not None]
