"""What would make it work: the design search's Pareto front and its best designs in plain sentences.

Drawn from a search folder (``trialsim size --out``), never by searching: each design's power
against the mean months from opening to the decision, every confirmed design a point labelled
with its sample size, the Pareto front joined by a line. The caption says the top designs in words,
each figure with its MCSE as the search printed it.
"""

from __future__ import annotations

import math

import pandas as pd

from ...sizing import SizeTables
from .base import ReportFigure, new_figure, percent_axis, series_style
from .wording import percent

__all__ = ["design_figure", "design_sentences"]

_FAMILIES = ("single", "simon-optimal", "simon-minimax")
_WORDS = {
    "single": "a single stage",
    "simon-optimal": "a Simon optimal design",
    "simon-minimax": "a Simon minimax design",
}


def _sentence(row: pd.Series, p1: float, deadline: str) -> str:
    """One design in words: its centres, recruitment, size, rule and what it achieves."""
    sites = int(row["sites"])
    centres = "one centre" if sites == 1 else f"{sites} centres"
    rule = _WORDS.get(str(row["design"]), str(row["design"]))
    if isinstance(row.get("n1"), float) and math.isfinite(row["n1"]):
        rule += f" (stop if at most {int(row['r1'])} of the first {int(row['n1'])} respond)"
    return (
        f"With {centres} recruiting until {row['recruitment_close']} and {int(row['n'])} patients in {rule}, "
        f"the chance of a positive result is {percent(row['power'])} (± {row['power_mcse'] * 100:.1f}%) if the true "
        f"response rate is {percent(p1)}, the false-positive rate {percent(row['type_one_error'])}, and "
        f"{percent(row['p_on_time'])} of simulated trials decide by {deadline} ({row['status']})."
    )


def design_sentences(tables: SizeTables, top: int = 3) -> list[str]:
    """The best designs that are feasible or borderline, in words; or what binds when none is."""
    targets = tables.document["targets"]
    usable = tables.table[tables.table["status"] != "short"].head(top)
    if usable.empty:
        return [
            f"No design searched meets every target; the binding one is {tables.document['binding']}. "
            "The closest designs are drawn."
        ]
    return [_sentence(row, targets["p1"], targets["on_time_by"]) for _, row in usable.iterrows()]


def design_figure(tables: SizeTables) -> ReportFigure:
    """Power against months to the decision for every confirmed design, the Pareto front joined."""
    table, pareto, targets = tables.table, tables.pareto, tables.document["targets"]
    figure, ax = new_figure()
    for i, family in enumerate(_FAMILIES):
        rows = table[table["design"] == family]
        if rows.empty:
            continue
        style = series_style(i)
        ax.errorbar(
            rows["months_to_decision"],
            rows["power"],
            yerr=2 * rows["power_mcse"],
            color=style["color"],
            marker=style["marker"],
            linestyle="none",
            capsize=2,
            label=f"{family} (±2 MCSE)",
        )
        for _, row in rows.iterrows():
            ax.annotate(
                str(int(row["n"])),
                (row["months_to_decision"], row["power"]),
                xytext=(3, 3),
                textcoords="offset points",
                fontsize="x-small",
            )
    front = pareto.sort_values("months_to_decision")
    ax.plot(front["months_to_decision"], front["power"], color="black", linewidth=1.0, label="Pareto front")
    ax.axhline(
        targets["power"], color="0.4", linestyle="--", linewidth=1.0, label=f"target power {percent(targets['power'])}"
    )
    ax.set_ylim(max(0.0, float(table["power"].min()) - 0.1), 1.0)
    percent_axis(ax.yaxis)
    ax.set_xlabel("months from recruitment opening to the decision (mean)")
    ax.set_ylabel(f"power at ORR {percent(targets['p1'])}")
    figure.legend(loc="outside lower center", fontsize="small", frameon=False, ncols=2)
    ax.set_title("What would make it work: designs found by the search", loc="left", fontsize="medium")
    sentences = " ".join(design_sentences(tables))
    caption = (
        "Each point is a design the search simulated in full (the number is its sample size); higher is more "
        "likely to succeed, further left decides sooner. The line joins the designs no other beats on both. "
        + sentences
    )
    alt = "Power against months to the decision for the designs of the search, with the Pareto front. " + sentences
    return ReportFigure("design_search", "design", "What would make it work", caption, alt, table, figure)
