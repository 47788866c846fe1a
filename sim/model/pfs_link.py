"""The PFS as a function of the true ORR, when ``efficacy.pfs_orr_link`` is given (docs/model.md).

Off by default, the PFS is the same whatever the ORR, so a grid over ORR leaves PFS and DCR where
they were. With a link, ``efficacy.pfs`` is the PFS at ``reference_orr`` and at a true ORR ``p``
every PFS hazard is multiplied by ``hr = hazard_ratio ** ((p - reference_orr) / per)``: a
proportional-hazards shift, ``S_p(t) = S(t) ** hr``. The post-progression survival stays the one
solved at the reference (from ``os_median_months``), so OS moves with PFS. The ORR a PFS can carry
then depends on the ORR itself: the ceiling is where ``p`` meets ``S_p`` on the day a response at
the first scan is surely confirmed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy
from numpy.typing import ArrayLike, NDArray

from ..distributions import DistributionError, SurvivalDistribution
from ..scenario.model import Efficacy, PfsOrrLink
from .patient_model import solve_post_progression_survival

__all__ = ["ProportionalHazards", "linked_ceiling", "linked_efficacy", "pfs_at", "with_hazard_ratio"]


@dataclass(frozen=True, repr=False)
class ProportionalHazards(SurvivalDistribution):
    """``base`` with every hazard multiplied by ``hazard_ratio``: ``S(t) = S_base(t) ** hazard_ratio``.

    Not a family a scenario names: the model builds it from the link. The quantile is the base's
    inverse cumulative hazard at ``-log(1 - p) / hr``, exact for the Weibull and the exponential
    (far in the tail, where ``1 - p`` is below ``1e-16``, a quantile through ``S`` would round to 1).
    """

    base: SurvivalDistribution
    hazard_ratio: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hazard_ratio) and self.hazard_ratio > 0):
            raise DistributionError(f"hazard_ratio must be a positive number, got {self.hazard_ratio!r}")
        object.__setattr__(self, "family", self.base.family)

    def cumulative_hazard(self, t: ArrayLike) -> NDArray[np.float64]:
        """``hr`` times the base's cumulative hazard."""
        return self.hazard_ratio * self.base.cumulative_hazard(t)

    def quantile(self, p: ArrayLike) -> NDArray[np.float64]:
        """The time by which a share ``p`` has had the event: ``H_base(t) = -log(1 - p) / hr``."""
        return self.base.inverse_cumulative_hazard(-np.log1p(-np.asarray(p, dtype=float)) / self.hazard_ratio)

    def mean(self) -> float:
        """The integral of the survival function, numerically (no closed form in general)."""
        value, _ = scipy.integrate.quad(lambda t: float(self.sf(t)), 0.0, math.inf, limit=200)
        return float(value)

    def parameters(self) -> dict[str, Any]:
        """The base's parameters and the hazard ratio."""
        return {**self.base.parameters(), "hazard_ratio": self.hazard_ratio}

    def __repr__(self) -> str:
        return f"ProportionalHazards({self.base!r}, hazard_ratio={self.hazard_ratio!r})"


def with_hazard_ratio(pfs: SurvivalDistribution, hazard_ratio: float) -> SurvivalDistribution:
    """``pfs`` with every hazard multiplied by ``hazard_ratio``; ratios compose into one (``pfs`` itself at 1)."""
    if hazard_ratio == 1.0:
        return pfs
    if isinstance(pfs, ProportionalHazards):
        return ProportionalHazards(pfs.base, pfs.hazard_ratio * hazard_ratio)
    return ProportionalHazards(pfs, hazard_ratio)


def _ratio(link: PfsOrrLink, orr: float) -> float:
    """The hazard ratio at true ORR ``orr``."""
    return float(link.hazard_ratio ** ((orr - link.reference_orr) / link.per))


def pfs_at(efficacy: Efficacy, orr: float) -> SurvivalDistribution:
    """The PFS at true ORR ``orr``: ``efficacy.pfs`` itself without a link or at the reference ORR."""
    link = efficacy.pfs_orr_link
    if link is None:
        return efficacy.pfs
    return with_hazard_ratio(efficacy.pfs, _ratio(link, orr))


def linked_efficacy(efficacy: Efficacy, orr: float) -> Efficacy:
    """The efficacy block at true ORR ``orr``: its PFS moved by the link, the post-progression survival fixed.

    Without a link this is ``efficacy`` with ``orr`` set, nothing else changed.
    """
    if efficacy.pfs_orr_link is None:
        return efficacy if orr == efficacy.orr else dataclasses.replace(efficacy, orr=orr)
    pps = efficacy.post_progression_survival
    if pps is None:
        assert efficacy.os_median_months is not None
        pps = solve_post_progression_survival(
            efficacy.pfs, efficacy.os_median_months, efficacy.death_without_progression_share
        )
    return dataclasses.replace(efficacy, orr=orr, pfs=pfs_at(efficacy, orr), post_progression_survival=pps)


def linked_ceiling(efficacy: Efficacy, confirm_months: float) -> float:
    """The largest true ORR below the share still progression-free at ``confirm_months`` at that same ORR.

    ``g(p) = S_p(c) - p`` is positive at 0 and at most 0 at 1, so a root lies between; with a link
    the share moves with ``p``, without one it is ``S(c)`` itself.
    """
    link = efficacy.pfs_orr_link
    base = float(efficacy.pfs.sf(confirm_months))
    if link is None or base <= 0.0:
        return base

    def gap(p: float) -> float:
        return base ** _ratio(link, p) - p

    if gap(1.0) > 0:
        return 1.0
    return float(scipy.optimize.brentq(gap, 0.0, 1.0, xtol=1e-14))
