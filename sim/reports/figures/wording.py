"""Numbers as a steering committee reads them: whole percents, calendar dates, Monte Carlo errors.

Every estimate in a caption carries its Monte Carlo standard error as "± …" so a reader can tell a
real difference between scenarios from simulation noise. Percents are whole numbers; their errors
keep one decimal, because a 0.4% error printed as "± 0%" would claim more certainty than there is.
"""

from __future__ import annotations

import datetime as dt
import math

from ...analysis.decisions import DecisionFigures
from ...stats.mcse import Estimate

__all__ = [
    "as_date",
    "count",
    "decision_errors",
    "long_date",
    "months",
    "percent",
    "percent_estimate",
    "date_estimate",
]


def percent(p: float) -> str:
    """``p`` (a proportion) as a whole percent, "n/a" when undefined; "<1%"/">99%" near the ends."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if 0.0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1.0:
        return ">99%"
    return f"{p * 100:.0f}%"


def percent_estimate(estimate: Estimate) -> str:
    """An estimated proportion with its MCSE: "38% (± 6.3%)"."""
    if not math.isfinite(estimate.value):
        return "n/a"
    if not math.isfinite(estimate.mcse):
        return percent(estimate.value)
    return f"{percent(estimate.value)} (± {estimate.mcse * 100:.1f}%)"


def count(x: float) -> str:
    """A count of patients or trials as a whole number with thousands separators."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:,.0f}"


def months(x: float) -> str:
    """A duration in months to one decimal."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.1f} months"


def as_date(origin: dt.date, days: float) -> dt.date | None:
    """The calendar date ``days`` (rounded to whole days) after ``origin``; None when undefined."""
    if days is None or not math.isfinite(days):
        return None
    return origin + dt.timedelta(days=int(round(days)))


def long_date(day: dt.date | None) -> str:
    """A date as people write it: "30 November 2027" ("n/a" when missing)."""
    if day is None:
        return "n/a"
    return f"{day.day} {day:%B %Y}"


def date_estimate(origin: dt.date, estimate: Estimate) -> str:
    """An estimated date (days since ``origin``) with its MCSE in days: "29 October 2027 (± 6 days)"."""
    day = as_date(origin, estimate.value)
    if day is None:
        return "n/a"
    if not math.isfinite(estimate.mcse):
        return long_date(day)
    return f"{long_date(day)} (± {estimate.mcse:.0f} days)"


def decision_errors(d: DecisionFigures) -> str:
    """The false go and, with p1, the false stop of a run with an ORR prior, as a clause."""
    text = (
        f"{percent_estimate(d.false_go)} of all simulated trials would be positive though the treatment is no "
        f"better than p0 = {percent(d.p0)}"
    )
    if d.false_stop is not None and d.p1 is not None:
        text += f", and {percent_estimate(d.false_stop)} negative though its ORR is at least p1 = {percent(d.p1)}"
    return text
