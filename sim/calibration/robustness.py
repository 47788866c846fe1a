r"""What a calibrated block implies beyond its targets, and the warnings that say a fit is fragile.

A fit meets its targets; the curve between and beyond them comes from the family. Two published
figures (DCR, median PFS) fix a two-parameter PFS, and with DCR near one half and a median one
scan later the only way to meet them is a curve that barely falls between the first and second
scans: a small Weibull shape, whose scan-dated PFS curve then flattens to a plateau that no
target constrains. Such a fit is not refused, but the result says so:

* **implied values**: the scan-dated PFS rate at 6, 12 and 24 months and the OS rate at 6 and 12
  months (those that are not targets), and, when the source's size is given, the large-study
  median PFS next to the targeted mean median of n patients, and the shares of trials of n patients
  whose median comes before and after the scan cluster (or gap) holding the target, each with its MCSE;
* **near a bound**: a fitted parameter other than a median within a factor
  :data:`~sim.calibration.parameters.NEAR_BOUND_FACTOR` (25% on the log scale) of a bound of its
  search range;
* **plateau**: the hazard from 12 to 24 months, ``ln(S(12) / S(24)) / 12``, below
  :data:`PLATEAU_HAZARD_RATIO` times the average hazard up to the median, ``ln 2 / median``
  (1 for an exponential curve), unless a landmark target at 12 months or later constrains the tail;
* **the median moves with the study's size**: with ``source_n`` given, the large-study median
  and the mean median of n patients differ by more than the tolerance on the survival scale
  (``0.5 ln 2 |ln(ratio)|``, as a median target's miss). On a scan grid the per-trial medians are
  then bimodal: the warning gives the share of trials of n patients that report a median before
  the scan cluster holding the target.

Warnings are :class:`~sim.calibration.errors.Message`\ s naming the parameters to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..distributions import SurvivalDistribution
from ..units import DAYS_PER_MONTH
from .cohort import CohortStatistics
from .criteria import MEDIAN_WEIGHT, landmark_criterion, median_criterion
from .errors import Message, named
from .medians import km_median_cdf, km_median_cdf_se
from .parameters import NEAR_BOUND_FACTOR, FittedFamily
from .targets import CalibrationTargets

__all__ = [
    "IMPLIED_LANDMARKS",
    "PLATEAU_HAZARD_RATIO",
    "ImpliedValue",
    "implied_values",
    "lower_mode",
    "per_trial_medians",
    "robustness_warnings",
    "target_stretch",
]

IMPLIED_LANDMARKS: dict[str, tuple[float, ...]] = {"pfs": (6.0, 12.0, 24.0), "os": (6.0, 12.0)}
"""Months at which a result reports the KM rate of each endpoint when it is not a target."""

PLATEAU_HAZARD_RATIO = 0.25
"""A hazard from 12 to 24 months below this share of ln 2 / median is a plateau worth a warning."""

_PLATEAU_MONTHS = (12.0, 24.0)


@dataclass(frozen=True)
class ImpliedValue:
    """A statistic the calibrated block implies but that was not a target, with its MCSE."""

    name: str
    value: float
    mcse: float
    statistic: str


def implied_values(t: CalibrationTargets, stats: CohortStatistics, window_days: int) -> tuple[ImpliedValue, ...]:
    """Landmark rates that are not targets and, with ``source_n``, the large-study median PFS and where
    per-trial medians fall around the target (``window_days``: the source's scan window)."""
    targeted = {"pfs": {lm.months for lm in t.pfs_at}, "os": {lm.months for lm in t.os_at}}
    out = []
    for endpoint, months in IMPLIED_LANDMARKS.items():
        for m in months:
            if m not in targeted[endpoint]:
                c = landmark_criterion(endpoint, m, math.nan)
                out.append(ImpliedValue(c.name, c.achieved(stats), c.mcse(stats), c.statistic))
    if t.curve_n is not None and t.median_pfs_months is not None:
        c = median_criterion("pfs", t.median_pfs_months, None)
        out.append(ImpliedValue("median_pfs_months_large_study", c.achieved(stats), c.mcse(stats), c.statistic))
        stretch = target_stretch(t.median_pfs_months, t.scan_interval_days, window_days)
        out += per_trial_medians(stats, t.curve_n, t.median_pfs_months, stretch)
    return tuple(out)


def per_trial_medians(
    stats: CohortStatistics, n: int, target_months: float, stretch: tuple[float, float]
) -> list[ImpliedValue]:
    """Shares of trials of ``n`` assessed patients whose KM median PFS comes before and after ``stretch``.

    The stretch (:func:`target_stretch`) is the scan cluster holding the target, or the gap between
    clusters that does; the rest of the trials report a median inside it. Each share's MCSE is the
    delta method's. Before a first cluster nothing can come, so only the share after is given.
    """
    low, high = stretch
    where = f"days {low:g}-{high:g}, the stretch holding the target {target_months:g} months"
    before, after = (low - 0.5) / DAYS_PER_MONTH, (high + 0.5) / DAYS_PER_MONTH
    out = [
        ImpliedValue(
            "median_pfs_trials_after_target",
            1.0 - km_median_cdf(stats.pfs, n, after),
            km_median_cdf_se(stats.pfs, n, after),
            f"share of trials of n = {n} whose KM median of scan-dated PFS comes after {where}",
        )
    ]
    if low > 0:
        out.insert(
            0,
            ImpliedValue(
                "median_pfs_trials_before_target",
                km_median_cdf(stats.pfs, n, before),
                km_median_cdf_se(stats.pfs, n, before),
                f"share of trials of n = {n} whose KM median of scan-dated PFS comes before {where}",
            ),
        )
    return out


def target_stretch(target_months: float, interval_days: int, window_days: int) -> tuple[float, float]:
    """(first, last) day of the scan cluster that holds the target, or of the gap between clusters that does."""
    day = target_months * DAYS_PER_MONTH
    k = round(day / interval_days)
    if k >= 1 and abs(day - k * interval_days) <= window_days:
        return float(k * interval_days - window_days), float(k * interval_days + window_days)
    last = math.floor((day + window_days) / interval_days)  # the last cluster that starts on or before the target
    first = last * interval_days + window_days + 1 if last >= 1 else 0
    return float(first), float((last + 1) * interval_days - window_days - 1)


def lower_mode(
    stats: CohortStatistics, n: int, target_months: float, interval_days: int, window_days: int
) -> tuple[float, float] | None:
    """(share, day): the share of trials of ``n`` whose PFS median falls before the target's stretch, and its
    first day (:func:`target_stretch`). None if no cluster lies before the target."""
    before, _ = target_stretch(target_months, interval_days, window_days)
    if before <= 0:
        return None
    return km_median_cdf(stats.pfs, n, (before - 0.5) / DAYS_PER_MONTH), before


def _near_bounds(label: str, family: FittedFamily, dist: SurvivalDistribution) -> list[str]:
    """A warning for each fitted parameter other than the median that lies near a bound."""
    if label == "PFS":
        remedy = f"add a target that constrains the tail (such as {named('pfs_at')} 12:RATE)"
        if not family.needs_cuts:
            remedy += f" or use {named('family')} piecewise_exponential"
    else:
        remedy = f"add an OS target that constrains the tail (such as {named('os_at')} 24:RATE)"
    out = []
    for parameter, value in list(zip(family.free, family.values(dist)))[1:]:
        bound = parameter.near_bound(value)
        if bound is not None:
            out.append(
                f"the {label} {parameter.label} {value:.4g} lies within a factor {NEAR_BOUND_FACTOR:g} of the bound "
                f"{bound:g} of its search range [{parameter.low:g}, {parameter.high:g}]: the targets pull it toward an "
                f"extreme curve; check them against the source or {remedy}"
            )
    return out


def _plateau(endpoint: str, stats: CohortStatistics, landmarks: tuple[float, ...]) -> str | None:
    """A warning when the curve's hazard from 12 to 24 months is far below its hazard up to the median."""
    if any(m >= _PLATEAU_MONTHS[0] for m in landmarks):
        return None
    early, late = (stats.rate_at(endpoint, m) for m in _PLATEAU_MONTHS)
    median = stats.median(endpoint, None)
    if not (math.isfinite(early) and math.isfinite(late) and math.isfinite(median)) or late <= 0 or median <= 0:
        return None
    ratio = (math.log(early / late) / (_PLATEAU_MONTHS[1] - _PLATEAU_MONTHS[0])) / (math.log(2.0) / median)
    if ratio >= PLATEAU_HAZARD_RATIO:
        return None
    what, option = ("scan-dated PFS", "pfs_at") if endpoint == "pfs" else ("OS", "os_at")
    return (
        f"the fit implies a {what} plateau that no target constrains: {early:.3f} event-free at 12 months and "
        f"{late:.3f} at 24, a hazard after 12 months {ratio:.2f} times the average hazard up to the median "
        f"({median:.2f} months; warning below {PLATEAU_HAZARD_RATIO:g}); check it against the source's curve or "
        f"add a {named(option)} target at 12 months or later"
    )


def _median_moves(t: CalibrationTargets, stats: CohortStatistics, tolerance: float, window_days: int) -> str | None:
    """A warning when the large-study median and the mean median of ``source_n`` patients differ."""
    n, target = t.curve_n, t.median_pfs_months
    if n is None or target is None:
        return None
    large, mean = stats.median("pfs", None), stats.median("pfs", n)
    if not (math.isfinite(large) and math.isfinite(mean)):
        return None
    shift = MEDIAN_WEIGHT * abs(math.log(large / mean))
    if shift <= tolerance:
        return None
    size = f"{t.source_n}" if n == t.source_n else f"{t.source_n} ({n} assessed)"
    text = (
        f"with {named('source_n')} {size}, trials of that size report a mean median PFS of {mean:.2f} months but a "
        f"large study {large:.2f} (a shift of {shift:.3f} on the survival scale, tolerance {tolerance:g})"
    )
    mode = lower_mode(stats, n, target, t.scan_interval_days, window_days)
    if mode is not None and 0.02 < mode[0] < 0.98:
        text += (
            f": the per-trial medians are bimodal, {mode[0]:.0%} of trials of {n} report a median before day "
            f"{mode[1]:g}, the rest one scan cluster or more later"
        )
    return text


def robustness_warnings(
    t: CalibrationTargets,
    stats: CohortStatistics,
    fitted: list[tuple[str, FittedFamily, SurvivalDistribution]],
    tolerance: float,
    window_days: int,
) -> tuple[Message, ...]:
    """Every warning of the module docstring that applies; ``fitted`` holds (label, family, distribution)."""
    out: list[str] = []
    for label, family, dist in fitted:
        out += _near_bounds(label, family, dist)
    for endpoint, landmarks in (("pfs", t.pfs_at), ("os", t.os_at)):
        warning = _plateau(endpoint, stats, tuple(lm.months for lm in landmarks))
        if warning is not None:
            out.append(warning)
    moves = _median_moves(t, stats, tolerance, window_days)
    if moves is not None:
        out.append(moves)
    return tuple(Message(w) for w in out)
