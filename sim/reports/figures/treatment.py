"""Why patients stop treatment, and how many leave before their first scan.

Shares are over every patient of every replicate at the final cutoff (``treatment_end_reason``,
``evaluable``). Replicates are the independent units, so a share's MCSE is that of a ratio of
per-replicate totals, ``sqrt(sum_i (x_i - p n_i)^2 / (R (R - 1))) / mean(n_i)``, with ``x_i``
patients with the outcome among the ``n_i`` of replicate ``i``: patients of one simulated trial
share its calendar and sites, so treating them as independent would understate the error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...runs.folder import SavedRun
from ...stats.mcse import Estimate
from .base import HATCHES, OKABE_ITO, ReportFigure, new_figure, percent_axis, scenario_labels
from .wording import percent_estimate

__all__ = ["REASONS", "dropout_before_first_scan", "stop_reasons", "treatment_figures"]

REASONS: dict[str, str] = {
    "progression": "progression",
    "death": "death",
    "adverse_event": "adverse event",
    "withdrawal": "withdrew consent",
    "lost_to_follow_up": "lost to follow-up",
    "max_duration": "maximum treatment duration",
    "ongoing": "still on treatment",
}
"""Every ``treatment_end_reason``, in the order the bars stack, with the words the figure uses."""


def _final(run: SavedRun) -> pd.DataFrame:
    """The patient table at the final cutoff."""
    if run.patients is None:
        raise ValueError(f"run {run.name!r} kept no patients; the treatment figure needs them")
    return run.patients[run.patients["cutoff"] == "final"]


def _ratio_estimate(flags: pd.Series, replicate: pd.Series, replicates: int) -> Estimate:
    """Pooled share of ``flags`` over all patients, with the ratio-estimator MCSE over replicates."""
    total = int(flags.size)
    if total == 0:
        return Estimate(math.nan, math.nan, 0)
    per = pd.DataFrame({"x": flags.astype(float).to_numpy(), "r": replicate.to_numpy()}).groupby("r")["x"]
    hits, sizes = per.sum().to_numpy(), per.size().to_numpy(dtype=float)
    hits = np.concatenate([hits, np.zeros(replicates - hits.size)])  # replicates with no patients
    sizes = np.concatenate([sizes, np.zeros(replicates - sizes.size)])
    share = float(hits.sum() / sizes.sum())
    if replicates < 2:
        return Estimate(share, math.nan, replicates)
    residual = hits - share * sizes
    mcse = math.sqrt(float(np.sum(residual**2)) / (replicates * (replicates - 1))) / float(sizes.mean())
    return Estimate(share, mcse, replicates)


def stop_reasons(run: SavedRun, scenario: str = "") -> pd.DataFrame:
    """Share of patients by why treatment ended, at the final cutoff, pooled over replicates.

    Columns: scenario, reason (every one of :data:`REASONS`, zeros included), patients, share, share_mcse.
    """
    final = _final(run)
    replicates = len(run.replicates)
    rows = []
    for reason in REASONS:
        estimate = _ratio_estimate(final["treatment_end_reason"] == reason, final["replicate"], replicates)
        rows.append((reason, int((final["treatment_end_reason"] == reason).sum()), estimate.value, estimate.mcse))
    frame = pd.DataFrame(rows, columns=["reason", "patients", "share", "share_mcse"])
    frame.insert(0, "scenario", scenario or run.name)
    return frame


def dropout_before_first_scan(run: SavedRun) -> Estimate:
    """Share of patients with no post-baseline scan at the final cutoff (not evaluable), with its MCSE."""
    final = _final(run)
    return _ratio_estimate(~final["evaluable"].astype(bool), final["replicate"], len(run.replicates))


def _data(runs: Sequence[SavedRun], labels: Sequence[str]) -> pd.DataFrame:
    """Stop reasons and dropout of every run, as one tidy table (measure: treatment_end / no_first_scan)."""
    frames = []
    for run, label in zip(runs, labels):
        reasons = stop_reasons(run, label)
        reasons.insert(1, "measure", "treatment_end_reason")
        dropout = dropout_before_first_scan(run)
        final = _final(run)
        frames += [
            reasons,
            pd.DataFrame(
                {
                    "scenario": [label],
                    "measure": ["no_post_baseline_scan"],
                    "reason": ["not evaluable"],
                    "patients": [int((~final["evaluable"].astype(bool)).sum())],
                    "share": [dropout.value],
                    "share_mcse": [dropout.mcse],
                }
            ),
        ]
    return pd.concat(frames, ignore_index=True)


def _sentence(data: pd.DataFrame, label: str) -> str:
    """One scenario's main reasons (each with its MCSE) and its dropout before the first scan."""
    rows = data[data["scenario"] == label]
    reasons = rows[rows["measure"] == "treatment_end_reason"].sort_values("share", ascending=False)
    listed = ", ".join(
        f"{REASONS[r.reason]} {percent_estimate(Estimate(r.share, r.share_mcse, 0))}"
        for r in reasons.itertuples()
        if r.share > 0
    )
    dropout = rows[rows["measure"] == "no_post_baseline_scan"].iloc[0]
    return (
        f"{label}: {listed}; {percent_estimate(Estimate(dropout.share, dropout.share_mcse, 0))} of patients leave "
        "before their first scan."
    )


def treatment_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """One figure for the runs that kept their patients: stacked stop reasons, and dropout before the first scan."""
    kept = [(run, label) for run, label in zip(runs, scenario_labels(runs)) if run.patients is not None]
    if not kept:
        return []
    labels = [label for _, label in kept]
    data = _data([run for run, _ in kept], labels)
    height = max(3.5, 1.6 + 0.45 * len(labels))
    figure, (left, right) = new_figure(height=height, ncols=2, gridspec_kw={"width_ratios": [2.2, 1]})
    y = np.arange(len(labels))[::-1]
    start = np.zeros(len(labels))
    for i, reason in enumerate(REASONS):
        shares = np.array([
            float(data[(data["scenario"] == lab) & (data["reason"] == reason)]["share"].iloc[0]) for lab in labels
        ])
        left.barh(y, shares, left=start, color=OKABE_ITO[i % len(OKABE_ITO)] if reason != "ongoing" else "white",
                  edgecolor="black", linewidth=0.6, hatch=HATCHES[i % len(HATCHES)], label=REASONS[reason])
        start += shares
    left.set_yticks(y, labels)
    left.set_xlim(0, 1)
    percent_axis(left.xaxis)
    left.set_xlabel("share of treated patients")
    figure.legend(loc="outside lower center", fontsize="small", frameon=False, ncols=4)
    left.set_title("Why treatment ended", loc="left", fontsize="medium")
    dropout = data[data["measure"] == "no_post_baseline_scan"].set_index("scenario").loc[labels]
    right.barh(y, dropout["share"], xerr=2 * dropout["share_mcse"], color="0.7", edgecolor="black", linewidth=0.6,
               capsize=3)
    right.set_yticks(y, [""] * len(labels))
    right.set_xlim(0, max(0.1, float((dropout["share"] + 2 * dropout["share_mcse"]).max()) * 1.2))
    percent_axis(right.xaxis)
    right.set_xlabel("share of treated patients")
    right.set_title("Left before the first scan", loc="left", fontsize="medium")
    sentences = " ".join(_sentence(data, label) for label in labels)
    caption = (
        "Left: each bar splits all simulated patients of a scenario by why their treatment had ended at the final "
        "analysis; a long 'adverse event' or 'withdrew consent' segment means the regimen or the follow-up is hard "
        "to keep up. Right: the share of patients who leave before their first tumour scan and so cannot show a "
        "response (bars: ±2 Monte Carlo standard errors). " + sentences
    )
    alt = (
        "Stacked horizontal bars of the reasons treatment ended (progression, death, adverse event, withdrawal, loss "
        "to follow-up, maximum duration, still on treatment) per scenario, and bars of dropout before the first scan. "
        + sentences
    )
    return [ReportFigure("treatment", "treatment", "Why patients stop treatment", caption, alt, data, figure)]
