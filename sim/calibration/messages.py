r"""What a calibration says when targets cannot be met, and the notes it attaches to a result.

Each text names the parameters of ``CalibrationTargets`` and ``calibrate`` marked with
:func:`~sim.calibration.errors.named`, so a front end can respell them; notes are :class:`Message`\ s.
"""

from __future__ import annotations

import math

from ..scenario.model import Efficacy
from ..units import DAYS_PER_MONTH
from .cohort import CohortStatistics
from .criteria import TargetFit
from .errors import Message, named
from .parameters import FITTABLE_FAMILIES
from .robustness import lower_mode
from .targets import CalibrationTargets

__all__ = ["NOT_CONFIRMED", "PFS_LANDMARK", "inconsistency_message", "notes", "orr_ceiling_message", "scan_gap"]

PFS_LANDMARK = "a pfs_at landmark"
"""How a message asks for one more PFS landmark rate (an entry of ``pfs_at``)."""

NOT_CONFIRMED = "confirmed=False"
"""How a message names the targets of a source whose responses were not confirmed."""


def orr_ceiling_message(
    t: CalibrationTargets, orr: float, family: str, pfs_median: float, day: float, still_free: float
) -> str:
    """ORR above the share progression-free when a first-scan response is surely confirmed."""
    rule = "confirmed" if t.confirmed else "seen"
    return (
        f"{named('orr')} {orr:g} is more than the model allows with the PFS the other targets imply: a response "
        f"seen at the first scan is surely {rule} only by day {day:g} with scans every {t.scan_weeks:g} weeks, "
        f"and only {still_free:.3f} of patients are progression-free then ({family} PFS, median "
        f"{pfs_median:.2f} months); lower {named('orr')} below {still_free:.3f}, check {named('dcr')}, "
        f"{named('median_pfs_months')} and {named('scan_weeks')} against the source, or use "
        f"{named(NOT_CONFIRMED)} if its responses were not confirmed"
    )


def _first_scan_hint(t: CalibrationTargets, window_days: int) -> str:
    """Why a low DCR and a median PFS after the first scan pull against each other, when they do."""
    first_scan_end = t.scan_interval_days + window_days
    if t.dcr is None or t.median_pfs_months is None or t.dcr > 0.6:
        return ""
    if t.median_pfs_months * DAYS_PER_MONTH <= first_scan_end:
        return ""
    return (
        f" With scans every {t.scan_weeks:g} weeks, DCR {t.dcr:g} means {1 - t.dcr:.0%} of patients have "
        f"progressed or died by the first scan (day {first_scan_end} at the latest), so a median PFS of "
        f"{t.median_pfs_months:g} months leaves almost no room for progression between that scan and the median."
        + (
            f" If the published DCR counts patients alive but never assessed (withdrawn or deteriorated without a "
            f"scan; the model already has its deaths before the first scan), give their share with "
            f"{named('not_assessed')}."
            if t.not_assessed == 0
            else ""
        )
    )


def _bimodal_hint(t: CalibrationTargets, fits: list[TargetFit], stats: CohortStatistics, window_days: int) -> str:
    """Why a mean median of n patients is out of reach when per-trial medians are bimodal, when they are."""
    n, target = t.curve_n, t.median_pfs_months
    median = next((f for f in fits if f.name == "median_pfs_months"), None)
    if n is None or target is None or median is None or median.achieved >= target:
        return ""
    mode = lower_mode(stats, n, target, t.scan_interval_days, window_days)
    if mode is None or mode[0] < 0.05:
        return ""
    return (
        f" In trials of {n} patients from the best fit, {mode[0]:.0%} report a median PFS before day {mode[1]:g} "
        f"(the scan cluster before the target's): per-trial medians are bimodal, and their mean reaches "
        f"{target:g} only if the curve barely falls between those clusters. The published median is one trial's: "
        f"without {named('source_n')} the fit matches it as a large study's and warns how far trials of {n} "
        "report from it."
    )


def inconsistency_message(
    t: CalibrationTargets,
    family: str,
    fits: list[TargetFit],
    tolerance: float,
    edge: str | None,
    window_days: int,
    stats: CohortStatistics | None = None,
) -> str:
    """What was missed, by how much, why (when the grid or bimodal medians explain it) and what to try."""
    worst = max(abs(f.miss) for f in fits)
    bimodal = _bimodal_hint(t, fits, stats, window_days) if stats is not None else ""
    missed = ", ".join(f"{f.name} {f.achieved:.4g} (target {f.target:g})" for f in fits)
    if edge is not None:
        head = f"the targets ask for an implausible PFS of the {family} family: the fit ended with the {edge}"
        accept = ""
    else:
        head = f"the targets cannot all be met by a PFS of the {family} family with scans every {t.scan_weeks:g} weeks"
        accept = f", or accept this best fit with {named('tolerance')} {math.ceil(worst * 100) / 100:g}"
    return (
        f"{head} (largest miss {worst:.3f} on the survival scale, tolerance {tolerance:g}); best fit: {missed}."
        f"{_first_scan_hint(t, window_days)}{bimodal} Try: check {named('scan_weeks')} against the source's "
        f"schedule, drop or relax a target, another {named('family')} ({', '.join(FITTABLE_FAMILIES)}){accept}"
    )


def scan_gap(median_months: float, interval_days: int, window_days: int) -> tuple[float, float] | None:
    """The stretch between two scan clusters (days) that holds ``median_months``, or None if a cluster does."""
    day = median_months * DAYS_PER_MONTH
    k = math.floor((day + window_days) / interval_days)  # the last cluster that starts on or before ``day``
    last_end = k * interval_days + window_days if k > 0 else 0.0
    if day <= last_end:
        return None
    return float(last_end), float((k + 1) * interval_days - window_days)


def _os_note(os_method: str, pps_family: str | None, template: str) -> str:
    if os_method == "template":
        return f"OS kept from scenario {template}: no OS target"
    if os_method == "median":
        return (
            "OS: os_median_months; the engine solves an exponential post-progression survival so the OS median is exact"
        )
    return f"OS: {pps_family} post-progression survival fitted to the OS targets (OS = PFS + post-progression survival)"


def notes(
    t: CalibrationTargets, template: str, kept: Efficacy, os_method: str, pps_family: str | None, window_days: int
) -> tuple[Message, ...]:
    """What the block takes from the template, how OS was set, and where a median target is loosely held."""
    out = [
        f"kept from scenario {template}: complete_response_share {kept.complete_response_share:g}, "
        f"response_pfs_association {kept.response_pfs_association:g}, death_without_progression_share "
        f"{kept.death_without_progression_share:g}, time_to_response {kept.time_to_response!r}"
    ]
    if t.orr is None:
        out.append(f"orr {kept.orr:g} kept from scenario {template}: not a target")
    out.append(_os_note(os_method, pps_family, template))
    gap = scan_gap(t.median_pfs_months, t.scan_interval_days, window_days) if t.median_pfs_months else None
    if gap is not None and t.source_n is None:
        low, high = (d / DAYS_PER_MONTH for d in gap)
        out.append(
            f"median PFS {t.median_pfs_months:g} falls between scan clusters ({low:.2f}-{high:.2f} months), where "
            "only deaths without progression lower the observed curve: the fit holds that curve at 0.5 there, but "
            f"a large study could report any median in {low:.2f}-{high:.2f}; give {named('source_n')} to match the "
            "mean median of a study of that size"
        )
    if t.not_assessed > 0 and t.orr is not None:
        out.append(
            f"orr {t.assessed(t.orr):.4g} is among the assessed: the published {t.orr:g} counts the "
            f"{t.not_assessed:.0%} alive but never assessed ({named('not_assessed')}) as non-responders, and so does "
            "its DCR, and its KM medians are those of the assessed; "
            "a trial simulated with this block gets its own never-assessed patients from its dropout (safety)"
        )
    if t.unscheduled_progression > 0:
        out.append(
            f"{t.unscheduled_progression:.0%} of the source's progressions were dated at unscheduled assessments "
            f"({named('unscheduled_progression')}); the trial's own share is schedule.unscheduled_progression_share"
        )
    if not t.confirmed:
        out.append(
            "the source's responses were not confirmed; a scenario requiring confirmation reads this orr as confirmed"
        )
    return tuple(Message(note) for note in out)
