"""The post-progression survival that gives the scenario's OS median, and the error for numbers that cannot.

OS is the PFS event time for a death without progression and that time plus the post-progression
survival otherwise; given the PFS, solving for an exponential post-progression survival with the
stated OS median is one root-finding on one integral (docs/model.md).
"""

from __future__ import annotations

import math

import scipy

from ..distributions import Exponential, SurvivalDistribution

__all__ = ["ModelError", "solve_post_progression_survival"]


class ModelError(ValueError):
    """The scenario's efficacy numbers cannot hold together: ``field`` and what is wrong with it.

    The message is ``"{field} {detail}"``; the trial model turns it into a ScenarioError as it is.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field} {detail}")
        self.field = field
        self.detail = detail


def _overall_survival_sf(pfs: SurvivalDistribution, pps: SurvivalDistribution, death_share: float, t: float) -> float:
    """P(OS > t) when OS = T for deaths first and T + PPS otherwise (months).

    The convolution is integrated over u = F(s), which needs only the PFS quantile function.
    """
    if t <= 0:
        return 1.0
    reach = float(pfs.cdf(t))
    conv, _ = scipy.integrate.quad(lambda u: float(pps.sf(t - float(pfs.quantile(u)))), 0.0, reach, limit=200)
    return float(pfs.sf(t)) + (1.0 - death_share) * conv


def solve_post_progression_survival(
    pfs: SurvivalDistribution, os_median_months: float, death_share: float
) -> SurvivalDistribution:
    """The exponential post-progression survival that makes the OS median exactly ``os_median_months``."""
    if os_median_months <= pfs.median:
        raise ModelError(
            "efficacy.os_median_months",
            f"({os_median_months:g}) must exceed the PFS median ({pfs.median:g}): OS includes PFS",
        )
    if death_share >= 1.0:
        raise ModelError(
            "efficacy.os_median_months",
            "cannot be met when death_without_progression_share is 1 "
            "(then OS equals PFS); lower the share or give post_progression_survival",
        )

    def gap(log_median: float) -> float:
        pps = Exponential(math.exp(log_median))
        return _overall_survival_sf(pfs, pps, death_share, os_median_months) - 0.5

    lo, hi = math.log(1e-3), math.log(1e3)
    if gap(lo) > 0 or gap(hi) < 0:
        raise ModelError(
            "efficacy.os_median_months",
            f"({os_median_months:g}) cannot be reached by any post-progression survival with this PFS and "
            "death_without_progression_share; lower the share or change efficacy.os_median_months",
        )
    return Exponential(math.exp(scipy.optimize.brentq(gap, lo, hi, xtol=1e-12)))
