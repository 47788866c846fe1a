"""The answer first: plain sentences per scenario and a traffic-light table across scenarios.

Every number comes from a run's :class:`~sim.analysis.summary.OperatingCharacteristics` with its Monte
Carlo standard error; nothing here simulates. A light compares the estimate (not a bound) with
thresholds the user may set; the defaults are documented in ``docs/report.md``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..analysis.decision_timing import DecisionTiming
from ..analysis.summary import OperatingCharacteristics
from ..runs.folder import SavedRun
from ..stats.mcse import Estimate
from ..units import DAYS_PER_MONTH
from .figures.wording import decision_errors

__all__ = ["Light", "Thresholds", "Verdict", "long_date", "percent", "scenario_sentences", "verdicts"]


@dataclass(frozen=True)
class Thresholds:
    """Where green turns amber and amber turns red; each figure's direction is in its name."""

    green_power: float = 0.80
    amber_power: float = 0.50
    green_complete: float = 0.80
    amber_complete: float = 0.50
    green_lpi_margin_months: float = 3.0
    green_analysis_margin_months: float = 6.0
    green_ci_width: float = 0.25
    amber_ci_width: float = 0.35

    def __post_init__(self) -> None:
        for name in ("power", "complete"):
            green, amber = getattr(self, f"green_{name}"), getattr(self, f"amber_{name}")
            if not 0 <= amber <= green <= 1:
                raise ValueError(
                    f"amber_{name} ({amber}) and green_{name} ({green}) must satisfy 0 <= amber <= green <= 1"
                )
        if not 0 < self.green_ci_width <= self.amber_ci_width <= 1:
            raise ValueError(
                f"green_ci_width ({self.green_ci_width}) and amber_ci_width ({self.amber_ci_width}) "
                "must satisfy 0 < green <= amber <= 1"
            )
        for name in ("green_lpi_margin_months", "green_analysis_margin_months"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be at least 0, got {getattr(self, name)}")


Light = str
""""green", "amber" or "red"."""


@dataclass(frozen=True)
class Verdict:
    """One cell of the traffic-light table: the figure's key, its shown value, MCSE note and light."""

    key: str
    label: str
    shown: str
    mcse: str
    light: Light
    estimate: float | str
    mcse_value: float


def percent(x: float, decimals: int = 0) -> str:
    """A probability as a percentage for people ("12%"); "n/a" when undefined."""
    return "n/a" if not math.isfinite(x) else f"{100 * x:.{decimals}f}%"


def long_date(origin: dt.date, days: float) -> str:
    """Days from ``origin`` as a date a committee reads ("30 November 2027"); "n/a" when undefined."""
    if not math.isfinite(days):
        return "n/a"
    date = origin + dt.timedelta(days=int(round(days)))
    return f"{date.day} {date:%B %Y}"


def _iso(origin: dt.date, days: float) -> str:
    return "n/a" if not math.isfinite(days) else (origin + dt.timedelta(days=int(round(days)))).isoformat()


def _at_least(x: float, green: float, amber: float) -> Light:
    return "green" if x >= green else "amber" if x >= amber else "red"


def _at_most(x: float, green: float, amber: float) -> Light:
    return "green" if x <= green else "amber" if x <= amber else "red"


def _days_before(date: dt.date, origin: dt.date, months: float) -> float:
    """Day number (from ``origin``) ``months`` before ``date``."""
    return (date - origin).days - months * DAYS_PER_MONTH


def _probability(key: str, label: str, e: Estimate, green: float, amber: float) -> Verdict:
    light = _at_least(e.value, green, amber) if math.isfinite(e.value) else "red"
    return Verdict(key, label, percent(e.value), f"± {percent(e.mcse, 1)}", light, e.value, e.mcse)


def _date(key: str, label: str, e: Estimate, origin: dt.date, deadline: dt.date, margin_months: float) -> Verdict:
    """A median date: green at least ``margin_months`` before ``deadline``, amber by it, red later or never."""
    green, amber = _days_before(deadline, origin, margin_months), float((deadline - origin).days)
    light = _at_most(e.value, green, amber) if math.isfinite(e.value) else "red"
    shown = _iso(origin, e.value)
    return Verdict(key, label, shown, f"± {e.mcse:.1f} days", light, shown, e.mcse)


def verdicts(run: SavedRun, limits: Thresholds) -> list[Verdict]:
    """The traffic-light row of one scenario: power, completion, last patient in, analysis, CI width."""
    s, t = run.summary, run.scenario.trial
    width = s.ci_width_median
    level = f"{100 * run.scenario.analysis.ci_level:g}%"
    return [
        _probability(
            "power",
            "Chance of a positive result" + ("" if s.decisions.prior is None else " (assurance, over the ORR prior)"),
            s.power,
            limits.green_power,
            limits.amber_power,
        ),
        _probability(
            "enrollment_complete",
            "Recruitment complete by close" + (" (trials not stopped at a look)" if s.monitored else ""),
            s.enrollment_complete,
            limits.green_complete,
            limits.amber_complete,
        ),
        _date(
            "last_patient_in",
            "Last patient in (median)",
            s.timeline["last_patient_in"][0.5],
            s.origin,
            t.recruitment_close,
            limits.green_lpi_margin_months,
        ),
        _date(
            "primary_cutoff",
            "Primary analysis (median)",
            s.timeline["primary_cutoff"][0.5],
            s.origin,
            t.study_end,
            limits.green_analysis_margin_months,
        ),
        Verdict(
            "ci_width",
            f"Width of the {level} CI of the ORR (median)",
            f"{width.value:.2f}",
            f"± {width.mcse:.3f}",
            _at_most(width.value, limits.green_ci_width, limits.amber_ci_width)
            if math.isfinite(width.value)
            else "red",
            width.value,
            width.mcse,
        ),
    ]


def _recruitment_sentence(s: OperatingCharacteristics, close: dt.date) -> str:
    complete = s.enrollment_complete  # summary.json's enrollment_complete_by_close: among trials not stopped
    lpi = s.timeline["last_patient_in"][0.5]
    trials = "simulated trials not stopped at an interim look" if s.monitored else "simulated trials"
    return (
        f"{percent(complete.value)} (±{percent(complete.mcse, 1)}) of {trials} finish recruiting by "
        f"{close.day} {close:%B %Y}; in the middle trial the last patient enters on {long_date(s.origin, lpi.value)}."
    )


def scenario_sentences(run: SavedRun) -> list[str]:
    """A few plain sentences that answer the committee's questions for one scenario."""
    s, sc = run.summary, run.scenario
    power = s.power
    belief = (
        f"If the true response rate is {percent(s.true_orr)}"
        if s.decisions.prior is None
        else f"Averaged over the prior on the true response rate ({s.decisions.prior})"
    )
    sentences = [
        f"{belief}, the trial has a {percent(power.value)} "
        f"(±{percent(power.mcse, 1)}) chance of a positive result (testing against {percent(sc.analysis.p0)} "
        f"at one-sided {sc.analysis.alpha:g}).",
        _recruitment_sentence(s, sc.trial.recruitment_close),
        f"The response-rate analysis would usually take place around "
        f"{long_date(s.origin, s.timeline['primary_cutoff'][0.5].value)}, on about {s.n_analysed.value:.0f} "
        f"patients; its {100 * sc.analysis.ci_level:g}% confidence interval would then be about "
        f"{s.ci_width_median.value:.2f} wide "
        f"(±{s.ci_width_median.value / 2:.2f} around the estimate).",
    ]
    d = s.decisions
    if d.prior is not None:
        wrong = decision_errors(d)
        sentences.insert(1, wrong[0].upper() + wrong[1:] + ".")
    if s.monitored:
        sentences.append(
            f"{percent(s.early_stop.value)} (±{percent(s.early_stop.mcse, 1)}) of simulated trials stop early "
            f"at an interim look; on average {s.n_enrolled.value:.1f} patients are enrolled."
        )
        if s.timing is not None and s.timing.looks:
            sentences.append(_decision_timing(s.timing))
    return sentences


def _decision_timing(timing: DecisionTiming) -> str:
    """When the decisions fall: each look and the final analysis, in mean months from opening, with their MCSE."""
    looks = "; ".join(
        f"the look at {n} patients {e.value:.1f} (±{e.mcse:.1f})" for n, e in timing.looks if e.n
    )
    final = timing.final
    last = (
        f"the final analysis of the trials not stopped {final.value:.1f} (±{final.mcse:.1f})"
        if final.n
        else "no trial went on to the final analysis"
    )
    return f"Months from opening to each decision, on average: {looks or 'no look reached'}; {last}."
