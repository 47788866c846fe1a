"""What each target compares on the synthetic cohort, and how a miss is measured.

Every miss is on the survival-probability scale, so targets of different kinds weigh alike in a
fit: a rate misses by ``achieved - target``; a large-study median by the observed curve (joined
linearly between event times) at the target time less 0.5, which has the same root as the curve's
0.5 crossing but does not jump where the curve is flat between scan clusters; the mean KM median
of a study of n patients by ``0.5 ln 2 ln(achieved / target)``, the change of survival at the median
that a relative shift of the median implies for a locally exponential curve.

Every achieved value comes with its Monte Carlo standard error: the cohort is finite, so another
seed would give another value (:class:`~sim.calibration.cohort.CohortStatistics`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .cohort import CohortStatistics
from .targets import CalibrationTargets

__all__ = [
    "MEDIAN_WEIGHT",
    "PENALTY",
    "Criterion",
    "TargetFit",
    "landmark_criterion",
    "median_criterion",
    "orr_criterion",
    "target_criteria",
]

MEDIAN_WEIGHT = 0.5 * math.log(2.0)
"""Survival change per unit log-ratio of a median, for a locally exponential curve."""

PENALTY = 1.0
"""The miss of a statistic the cohort cannot produce (e.g. a median beyond its follow-up)."""


@dataclass(frozen=True)
class TargetFit:
    """One published statistic next to the value the calibrated model reproduces.

    ``mcse`` is the Monte Carlo standard error of ``achieved`` (the synthetic cohort is finite);
    ``miss`` is the residual the fit minimised, on the survival-probability scale.
    """

    name: str
    target: float
    achieved: float
    mcse: float
    miss: float
    statistic: str


def _finite_or_penalty(value: float) -> float:
    return value if math.isfinite(value) else PENALTY


@dataclass(frozen=True)
class Criterion:
    """A target, the value a cohort achieves for it with its MCSE, and the residual a fit drives to zero."""

    name: str
    target: float
    statistic: str
    achieved: Callable[[CohortStatistics], float]
    mcse: Callable[[CohortStatistics], float]
    residual: Callable[[CohortStatistics], float]

    def result(self, stats: CohortStatistics) -> TargetFit:
        """The target next to what ``stats`` achieve."""
        return TargetFit(
            self.name, self.target, self.achieved(stats), self.mcse(stats), self.residual(stats), self.statistic
        )


def _rate(
    name: str,
    target: float,
    statistic: str,
    read: Callable[[CohortStatistics], float],
    mcse: Callable[[CohortStatistics], float],
) -> Criterion:
    """A rate: the residual is achieved - target."""
    return Criterion(name, target, statistic, read, mcse, lambda s: _finite_or_penalty(read(s) - target))


def _share(name: str, target: float, statistic: str, read: Callable[[CohortStatistics], float]) -> Criterion:
    """A share of the cohort's patients (ORR, DCR), with its binomial MCSE."""
    return _rate(name, target, statistic, read, lambda s: s.share_se(read(s)))


def landmark_criterion(endpoint: str, months: float, target: float) -> Criterion:
    """The KM rate of ``endpoint`` at ``months`` (scan-dated for PFS), with Greenwood's MCSE."""
    what = "scan-dated PFS" if endpoint == "pfs" else "OS"

    def read(s: CohortStatistics) -> float:
        return s.rate_at(endpoint, months)

    def mcse(s: CohortStatistics) -> float:
        return s.rate_se(endpoint, months)

    return _rate(f"{endpoint}_at_{months:g}m", target, f"KM rate of {what} at {months:g} months", read, mcse)


def median_criterion(endpoint: str, target: float, n: int | None) -> Criterion:
    """A median: of a large study, held where the observed curve is 0.5 at the target time; of a study
    of n patients, the mean KM median compared on the log scale."""
    what = "scan-dated PFS" if endpoint == "pfs" else "OS"
    name = f"median_{endpoint}_months"
    if n is None:
        return Criterion(
            name,
            target,
            f"KM median of {what}, large study (curve joined linearly between event times)",
            lambda s: s.median(endpoint, None),
            lambda s: s.median_se(endpoint, None),
            lambda s: _finite_or_penalty(s.joined_rate_at(endpoint, target) - 0.5),
        )

    def achieved(s: CohortStatistics) -> float:
        return s.median(endpoint, n)

    return Criterion(
        name,
        target,
        f"mean KM median of {what} in a study of n = {n}",
        achieved,
        lambda s: s.median_se(endpoint, n),
        lambda s: _finite_or_penalty(MEDIAN_WEIGHT * math.log(achieved(s) / target)),
    )


def target_criteria(t: CalibrationTargets) -> tuple[list[Criterion], list[Criterion]]:
    """(PFS criteria, OS criteria) for the targets given, in a fixed order."""
    pfs: list[Criterion] = []
    if t.dcr is not None:
        pfs.append(_share("dcr", t.dcr, "best response CR, PR or SD (SD from the first scan)", lambda s: s.dcr))
    if t.median_pfs_months is not None:
        pfs.append(median_criterion("pfs", t.median_pfs_months, t.curve_n))
    pfs += [landmark_criterion("pfs", lm.months, lm.rate) for lm in t.pfs_at]
    os_: list[Criterion] = []
    if t.median_os_months is not None:
        os_.append(median_criterion("os", t.median_os_months, t.curve_n))
    os_ += [landmark_criterion("os", lm.months, lm.rate) for lm in t.os_at]
    return pfs, os_


def unconfirmed_orr_criterion(target: float) -> Criterion:
    """The ORR with unconfirmed responses: the share with a CR or PR at any scan."""
    return _share("unconfirmed_orr", target, "responders with or without confirmation", lambda s: s.orr_unconfirmed)


def orr_criterion(t: CalibrationTargets, orr: float) -> Criterion:
    """ORR as reported: the share whose best response is CR or PR (confirmed if the source confirmed)."""
    kind = "confirmed responders" if t.confirmed else "responders (no confirmation)"
    return _share("orr", orr, f"{kind}: best response CR or PR", lambda s: s.orr)
