"""A design search as text: the ranked designs with their MCSEs, the recommendation, the Pareto front."""

from __future__ import annotations

import math

import pandas as pd

from ..sizing import SizeResult

__all__ = ["size_text"]

_FIGURES = (
    ("power", "power"),
    ("type_one_error", "type I"),
    ("p_on_time", "P(on time)"),
    ("expected_n_p0", "E[N] p0"),
    ("expected_n_p1", "E[N] p1"),
    ("months_to_decision", "months"),
    ("assurance", "assurance"),
)


def _with_mcse(value: float, mcse: float, digits: int) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.{digits}f} ± {mcse:.{digits}f}"


def _rule(row: pd.Series) -> str:
    if row["design"] == "single":
        return f">{row['r']}/{row['n']}"
    return f"{int(row['r1'])}/{int(row['n1'])}, >{row['r']}/{row['n']}"


def _ranked(table: pd.DataFrame) -> str:
    shown = pd.DataFrame(
        {
            "rank": table["rank"],
            "status": table["status"],
            "design": table["design"],
            "rule": [_rule(row) for _, row in table.iterrows()],
            "sites": table["sites"],
            "close": table["recruitment_close"],
            "+months": table["extend_recruitment_months"],
        }
    )
    for column, label in _FIGURES:
        if column in table:
            digits = 1 if column in ("expected_n_p0", "expected_n_p1", "months_to_decision") else 3
            shown[label] = [_with_mcse(v, m, digits) for v, m in zip(table[column], table[f"{column}_mcse"])]
    shown["decision (median)"] = table["median_decision_date"]
    shown["short of"] = table["short_of"]
    for column in [c for c in table.columns if "." in c]:  # the --vary fields
        shown[column] = table[column]
    return shown.to_string(index=False)


def size_text(result: SizeResult) -> str:
    """The search's report for a terminal (``trialsim size``)."""
    t = result.targets
    lines = [
        f"Design search: power >= {t['power']:g} at p1 = {t['p1']:g}, type I error <= {t['alpha']:g}, "
        f"P(decision by {t['on_time_by']}) >= {t['p_on_time']:g}"
        + (f", assurance >= {t['assurance']:g}" if t.get("assurance") is not None else "")
        + f"; minimising {t['minimise']}",
        f"{len(result.screened)} designs screened; {len(result.confirmed)} simulated in full (each figure ± 1 MCSE)",
        "",
        _ranked(result.table()),
        "",
    ]
    best = result.best
    if best is not None:
        lines.append(
            f"Recommended ({best.status}): {best.design.describe()}, with {len(best.scenario.recruitment.sites)} "
            f"centre(s) recruiting until {best.scenario.trial.recruitment_close}."
        )
        if best.status == "borderline":
            lines.append("  It meets the targets within 2 MCSE only: confirm with more --replicates before citing it.")
    else:
        lines.append(
            f"No design meets every constraint; the binding one is {result.binding}. "
            "The closest designs are ranked first above."
        )
    pareto = result.pareto()
    lines += ["", "Pareto front (power against months to the decision):"]
    lines += [
        f"  n = {row['n']:>3} {row['design']:<14} power {row['power']:.3f}, {row['months_to_decision']:.1f} months"
        for _, row in pareto.iterrows()
    ]
    lines += [
        "",
        "feasible: every constraint holds by more than 2 MCSE; borderline: none is missed by more than 2 MCSE; "
        "short: the constraint named is missed.",
    ]
    return "\n".join(lines)
