"""What each target compares on the synthetic cohort, and how a miss is measured.

Every miss is on the survival-probability scale, so targets of different kinds weigh alike in a
fit: a rate misses by ``achieved - target``; a large-study median by the observed curve (joined
linearly between event times) at the target time less 0.5, which has the same root as the curve's
0.5 crossing but does not jump where the curve is flat between scan clusters; the mean KM median
of a study of n patients by ``0.5 ln 2 ln(achieved / target)``, the change of survival at the median
that a relative shift of the median implies for a locally exponential curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .cohort import CohortStatistics
from .targets import CalibrationTargets

__all__ = ["MEDIAN_WEIGHT", "PENALTY", "Criterion", "TargetFit", "orr_criterion", "target_criteria"]

MEDIAN_WEIGHT = 0.5 * math.log(2.0)
"""Survival change per unit log-ratio of a median, for a locally exponential curve."""

PENALTY = 1.0
"""The miss of a statistic the cohort cannot produce (e.g. a median beyond its follow-up)."""


@dataclass(frozen=True)
class TargetFit:
    """One published statistic next to the value the calibrated model reproduces.

    ``miss`` is the residual the fit minimised, on the survival-probability scale.
    """

    name: str
    target: float
    achieved: float
    miss: float
    statistic: str


def _finite_or_penalty(value: float) -> float:
    return value if math.isfinite(value) else PENALTY


@dataclass(frozen=True)
class Criterion:
    """A target, the value a cohort achieves for it, and the residual a fit drives to zero."""

    name: str
    target: float
    statistic: str
    achieved: Callable[[CohortStatistics], float]
    residual: Callable[[CohortStatistics], float]

    def result(self, stats: CohortStatistics) -> TargetFit:
        """The target next to what ``stats`` achieve."""
        return TargetFit(self.name, self.target, self.achieved(stats), self.residual(stats), self.statistic)


def _rate(name: str, target: float, statistic: str, read: Callable[[CohortStatistics], float]) -> Criterion:
    """A rate: the residual is achieved - target."""
    return Criterion(name, target, statistic, read, lambda s: _finite_or_penalty(read(s) - target))


def _rate_reader(endpoint: str, months: float) -> Callable[[CohortStatistics], float]:
    """Reads the KM rate of ``endpoint`` at ``months`` off a cohort."""

    def read(s: CohortStatistics) -> float:
        return s.rate_at(endpoint, months)

    return read


def _median(endpoint: str, target: float, n: int | None) -> Criterion:
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
            lambda s: _finite_or_penalty(s.joined_rate_at(endpoint, target) - 0.5),
        )

    def achieved(s: CohortStatistics) -> float:
        return s.median(endpoint, n)

    return Criterion(
        name,
        target,
        f"mean KM median of {what} in a study of n = {n}",
        achieved,
        lambda s: _finite_or_penalty(MEDIAN_WEIGHT * math.log(achieved(s) / target)),
    )


def target_criteria(t: CalibrationTargets) -> tuple[list[Criterion], list[Criterion]]:
    """(PFS criteria, OS criteria) for the targets given, in a fixed order."""
    pfs: list[Criterion] = []
    if t.dcr is not None:
        pfs.append(_rate("dcr", t.dcr, "best response CR, PR or SD (SD from the first scan)", lambda s: s.dcr))
    if t.median_pfs_months is not None:
        pfs.append(_median("pfs", t.median_pfs_months, t.source_n))
    for lm in t.pfs_at:
        statistic = f"KM rate of scan-dated PFS at {lm.months:g} months"
        pfs.append(_rate(f"pfs_at_{lm.months:g}m", lm.rate, statistic, _rate_reader("pfs", lm.months)))
    os_: list[Criterion] = []
    if t.median_os_months is not None:
        os_.append(_median("os", t.median_os_months, t.source_n))
    for lm in t.os_at:
        statistic = f"KM rate of OS at {lm.months:g} months"
        os_.append(_rate(f"os_at_{lm.months:g}m", lm.rate, statistic, _rate_reader("os", lm.months)))
    return pfs, os_


def orr_criterion(t: CalibrationTargets, orr: float) -> Criterion:
    """ORR as reported: the share whose best response is CR or PR (confirmed if the source confirmed)."""
    kind = "confirmed responders" if t.confirmed else "responders (no confirmation)"
    return _rate("orr", orr, f"{kind}: best response CR or PR", lambda s: s.orr)
