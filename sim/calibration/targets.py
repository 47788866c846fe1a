"""What a calibration aims at: published summary statistics and the design that produced them.

Messages name the parameter of :class:`CalibrationTargets` that holds each value (``scan_weeks``,
``median_pfs_months``); the command line shows its own option names in their place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import CalibrationError, named

__all__ = ["Landmark", "CalibrationTargets"]


@dataclass(frozen=True)
class Landmark:
    """A Kaplan-Meier rate at a fixed time: the share event-free ``months`` after first dose."""

    months: float
    rate: float


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _proportion_problem(parameter: str, value: float | None, *, allow_zero: bool = False) -> list[str]:
    if value is None:
        return []
    low_ok = value >= 0 if allow_zero else value > 0
    if not (_is_number(value) and low_ok and value < 1):
        bounds = "in [0, 1)" if allow_zero else "strictly between 0 and 1"
        return [f"{named(parameter)} must be a proportion {bounds} (0.147 for 14.7%), got {value!r}"]
    return []


def _positive_problem(parameter: str, value: float | None) -> list[str]:
    if value is not None and not (_is_number(value) and value > 0):
        return [f"{named(parameter)} must be a positive number of months, got {value!r}"]
    return []


def _landmark_problems(parameter: str, landmarks: tuple[Landmark, ...]) -> list[str]:
    problems = []
    for lm in landmarks:
        if not (_is_number(lm.months) and lm.months > 0 and _is_number(lm.rate) and 0 < lm.rate < 1):
            problems.append(
                f"{named(parameter)} needs MONTHS:RATE with MONTHS > 0 and 0 < RATE < 1, got {lm.months!r}:{lm.rate!r}"
            )
    months = [lm.months for lm in landmarks]
    if len(set(months)) < len(months):
        problems.append(f"{named(parameter)} names the same month twice: {sorted(months)}")
    return problems


@dataclass(frozen=True)
class CalibrationTargets:
    """Published statistics of one study arm (proportions, months) and how it was assessed.

    ``scan_weeks`` is the source's tumour-assessment interval from first dose: the published PFS
    median and DCR are read off that grid. ``source_n``, when known, is the arm's size; medians
    are then matched as the expected Kaplan-Meier median of that many patients. ``not_assessed``
    is the share of the arm alive but never assessed after baseline (they withdrew or deteriorated
    without a scan; deaths before the first scan are the model's own): they count in the ORR and
    DCR denominators as the publication counts them, so the fitted ORR and PFS are those of the
    assessed, and the medians of n patients are those of the ``curve_n`` assessed.
    ``unscheduled_progression`` is the share of progressions the source found at an unscheduled
    assessment (``schedule.unscheduled_progression_share``).
    """

    scan_weeks: float
    orr: float | None = None
    dcr: float | None = None
    median_pfs_months: float | None = None
    median_os_months: float | None = None
    pfs_at: tuple[Landmark, ...] = ()
    os_at: tuple[Landmark, ...] = ()
    confirmed: bool = True
    source_n: int | None = None
    unconfirmed_orr: float | None = None
    not_assessed: float = 0.0
    unscheduled_progression: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "pfs_at", tuple(sorted(self.pfs_at, key=lambda lm: lm.months)))
        object.__setattr__(self, "os_at", tuple(sorted(self.os_at, key=lambda lm: lm.months)))
        problems = self._problems()
        if problems:
            raise CalibrationError("; ".join(problems))

    @property
    def scan_interval_days(self) -> int:
        """The assessment interval in whole days."""
        return int(round(self.scan_weeks * 7))

    @property
    def curve_n(self) -> int | None:
        """Patients of the source whose follow-up makes its KM curves: ``source_n`` less the never-assessed."""
        return None if self.source_n is None else max(1, round(self.source_n * (1.0 - self.not_assessed)))

    def assessed(self, share: float) -> float:
        """A published share (ORR) among the assessed: the publication counts the never-assessed as without it."""
        return share / (1.0 - self.not_assessed)

    @property
    def pfs_target_count(self) -> int:
        """How many statistics constrain the PFS distribution."""
        return (self.dcr is not None) + (self.median_pfs_months is not None) + len(self.pfs_at)

    @property
    def os_target_count(self) -> int:
        """How many statistics constrain OS given PFS."""
        return (self.median_os_months is not None) + len(self.os_at)

    def _problems(self) -> list[str]:
        """Every invalid or contradictory value, each naming its parameter."""
        problems = []
        weeks = self.scan_weeks
        if not (_is_number(weeks) and 0.5 <= weeks <= 52 and abs(weeks * 7 - round(weeks * 7)) < 1e-9):
            problems.append(
                f"{named('scan_weeks')} must be a number of weeks in [0.5, 52] that makes whole days (such as 6 or 8), "
                f"got {weeks!r}"
            )
        problems += _proportion_problem("orr", self.orr)
        problems += _proportion_problem("dcr", self.dcr)
        problems += _proportion_problem("unconfirmed_orr", self.unconfirmed_orr)
        if not (_is_number(self.unscheduled_progression) and 0 <= self.unscheduled_progression <= 1):
            problems.append(
                f"{named('unscheduled_progression')} must be a proportion in [0, 1] (0.2 for 20%), "
                f"got {self.unscheduled_progression!r}"
            )
        if not (_is_number(self.not_assessed) and 0 <= self.not_assessed <= 0.5):
            problems.append(
                f"{named('not_assessed')} must be a proportion in [0, 0.5] (0.06 for 6% never assessed), "
                f"got {self.not_assessed!r}"
            )
        problems += _positive_problem("median_pfs_months", self.median_pfs_months)
        problems += _positive_problem("median_os_months", self.median_os_months)
        problems += _landmark_problems("pfs_at", self.pfs_at)
        problems += _landmark_problems("os_at", self.os_at)
        if self.source_n is not None and not (
            isinstance(self.source_n, int) and not isinstance(self.source_n, bool) and self.source_n >= 1
        ):
            problems.append(
                f"{named('source_n')} must be a whole number of patients of at least 1, got {self.source_n!r}"
            )
        return problems or self._response_problems() + self._consistency_problems()

    def _response_problems(self) -> list[str]:
        """The unconfirmed ORR is the ORR plus unconfirmed responses, which only a confirming source has."""
        if self.unconfirmed_orr is None:
            return []
        if not self.confirmed:
            return [
                f"{named('unconfirmed_orr')} needs a source that confirmed its responses (it is the ORR with "
                "unconfirmed responses added); without confirmation give the ORR alone"
            ]
        if self.orr is not None and self.unconfirmed_orr < self.orr:
            return [
                f"{named('unconfirmed_orr')} ({self.unconfirmed_orr:g}) must not be below {named('orr')} "
                f"({self.orr:g}): confirmed responses are among them"
            ]
        return []

    def _consistency_problems(self) -> list[str]:
        """Targets that contradict each other: DCR below ORR, OS below PFS, no target at all."""
        problems = []
        if self.orr is not None and self.dcr is not None and self.dcr < self.orr:
            problems.append(
                f"{named('dcr')} ({self.dcr:g}) must not be below {named('orr')} ({self.orr:g}): "
                "responders are part of disease control"
            )
        if self.dcr is not None and self.dcr > 1.0 - self.not_assessed:
            problems.append(
                f"{named('dcr')} ({self.dcr:g}) cannot exceed the share assessed ({1.0 - self.not_assessed:g}, "
                f"{named('not_assessed')} {self.not_assessed:g}): disease control needs an assessment"
            )
        pfs, os_ = self.median_pfs_months, self.median_os_months
        if pfs is not None and os_ is not None and os_ <= pfs:
            problems.append(
                f"{named('median_os_months')} ({os_:g}) must exceed {named('median_pfs_months')} ({pfs:g}): "
                "OS includes PFS"
            )
        pfs_rates = {lm.months: lm.rate for lm in self.pfs_at}
        for lm in self.os_at:
            if lm.months in pfs_rates and lm.rate < pfs_rates[lm.months]:
                problems.append(
                    f"{named('os_at')} {lm.months:g}:{lm.rate:g} must not be below "
                    f"{named('pfs_at')} {lm.months:g}:{pfs_rates[lm.months]:g}: PFS <= OS"
                )
        if self.pfs_target_count + self.os_target_count == 0 and self.orr is None:
            targets = ", ".join(named(p) for p in ("orr", "dcr", "median_pfs_months", "median_os_months", "pfs_at"))
            problems.append(f"give at least one target: {targets} or {named('os_at')}")
        return problems
