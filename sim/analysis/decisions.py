"""How often the trial's decision is right, judged against each replicate's true ORR.

Power answers "if the true ORR were exactly ``efficacy.orr``". With a prior on the ORR
(``efficacy.orr_prior``) each replicate draws its own true ORR, and the share of positive trials
is the assurance (O'Hagan, Stevens and Campbell 2005): power averaged over the prior. Whether a
positive trial was the right call depends on the ORR it was run under, so the replicate table's
``true_orr`` column splits the decisions:

* positive and worth it: positive with true ORR >= ``analysis.p1``;
* false go: positive with true ORR <= ``analysis.p0`` (no better than the control's rate);
* false stop: negative (a futility stop included) with true ORR >= ``analysis.p1``;

and the true ORR among positive and among negative trials shows what a decision tells about the
drug. Each figure is a proportion or mean over replicates, with its MCSE. With a point ORR the
same figures hold and are degenerate (every replicate has the same true ORR).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..model.trial_model import orr_ceiling, orr_prior_law
from ..scenario.model import Scenario
from ..stats.mcse import Estimate, estimate_json, mean_estimate, proportion_estimate, quantile_estimate

__all__ = ["DecisionFigures", "ORR_QUANTILES"]

ORR_QUANTILES = (0.1, 0.5, 0.9)
"""Quantiles of the true ORR shown among positive and among negative trials."""


def _distribution(true_orr: np.ndarray) -> dict[str, Estimate]:
    """Mean and quantiles of the true ORR over some replicates (NaN figures when there are none)."""
    out = {"mean": mean_estimate(true_orr)}
    for q in ORR_QUANTILES:
        out[f"q{int(q * 100)}"] = quantile_estimate(true_orr, q) if true_orr.size else Estimate(math.nan, math.nan, 0)
    return out


@dataclass(frozen=True)
class DecisionFigures:
    """Assurance and the decision errors of a run, from its replicate table (module docstring)."""

    prior: str | None
    prior_kept: float
    orr_ceiling: float
    p0: float
    p1: float | None
    assurance: Estimate
    positive_and_effective: Estimate | None
    false_go: Estimate
    false_stop: Estimate | None
    true_orr_if_positive: dict[str, Estimate]
    true_orr_if_negative: dict[str, Estimate]
    stop_at_look: tuple[Estimate, ...]

    @classmethod
    def from_replicates(cls, table: pd.DataFrame, scenario: Scenario) -> DecisionFigures:
        """The figures of a replicate table of ``scenario``."""
        a, spec = scenario.analysis, scenario.efficacy.orr_prior
        law = None if spec is None else orr_prior_law(spec)
        positive = table["reject_h0"].to_numpy(dtype=bool)
        true_orr = table["true_orr"].to_numpy(dtype=float)
        looks = table["interim_looks"].to_numpy()
        stopped = table["stopped_early"].to_numpy(dtype=bool)
        n_looks = len(scenario.rule.look_sizes)
        effective = None if a.p1 is None else true_orr >= a.p1
        return cls(
            prior=None if law is None else law.describe(),
            prior_kept=1.0 if law is None else law.mass_below(orr_ceiling(scenario)),
            orr_ceiling=orr_ceiling(scenario),
            p0=a.p0,
            p1=a.p1,
            assurance=proportion_estimate(positive),
            positive_and_effective=None if effective is None else proportion_estimate(positive & effective),
            false_go=proportion_estimate(positive & (true_orr <= a.p0)),
            false_stop=None if effective is None else proportion_estimate(~positive & effective),
            true_orr_if_positive=_distribution(true_orr[positive]),
            true_orr_if_negative=_distribution(true_orr[~positive]),
            stop_at_look=tuple(proportion_estimate(stopped & (looks == k)) for k in range(1, n_looks + 1)),
        )

    @property
    def prior_line(self) -> str | None:
        """The prior in one sentence, with its truncation; None for a point ORR."""
        if self.prior is None:
            return None
        return (
            f"True ORR drawn per trial from {self.prior}, truncated at {self.orr_ceiling:.3f} (the largest ORR the "
            f"PFS can carry): {self.prior_kept:.2%} of the prior kept"
        )

    def rows(self) -> list[tuple[str, Estimate, str]]:
        """The figures as (label, estimate, unit) rows for the printed table."""
        out = [("Assurance: P(positive) over the ORR prior", self.assurance, "probability")]
        if self.positive_and_effective is not None:
            e = self.positive_and_effective
            out.append((f"P(positive and true ORR >= p1 = {self.p1:g})", e, "probability"))
        out.append((f"P(false go: positive and true ORR <= p0 = {self.p0:g})", self.false_go, "probability"))
        if self.false_stop is not None:
            e = self.false_stop
            out.append((f"P(false stop: negative and true ORR >= p1 = {self.p1:g})", e, "probability"))
        for label, dist in (("positive", self.true_orr_if_positive), ("negative", self.true_orr_if_negative)):
            for key, est in dist.items():
                name = "mean" if key == "mean" else f"{key[1:]}% quantile"
                out.append((f"True ORR among {label} trials, {name} ({est.n})", est, "proportion"))
        for k, est in enumerate(self.stop_at_look, start=1):
            out.append((f"P(stopped at look {k})", est, "probability"))
        return out

    def to_dict(self) -> dict[str, Any]:
        """The figures as ``summary.json`` holds them (each estimate as ``{estimate, mcse}``)."""

        def est(e: Estimate | None) -> dict[str, Any] | None:
            return None if e is None else estimate_json(e)

        return {
            "prior": self.prior or "point",
            "prior_mass_kept": self.prior_kept,
            "orr_ceiling": self.orr_ceiling,
            "p0": self.p0,
            "p1": self.p1,
            "assurance": est(self.assurance),
            "p_positive_and_true_orr_at_least_p1": est(self.positive_and_effective),
            "p_false_go_positive_and_true_orr_at_most_p0": est(self.false_go),
            "p_false_stop_negative_and_true_orr_at_least_p1": est(self.false_stop),
            "true_orr_among_positive": {k: est(v) for k, v in self.true_orr_if_positive.items()},
            "true_orr_among_negative": {k: est(v) for k, v in self.true_orr_if_negative.items()},
            "p_stop_at_look": [est(e) for e in self.stop_at_look],
        }
