"""The scenario: every number a planner may change, as frozen dataclasses with declared checks.

Field names are the scenario file's keys; ``metadata["check"]`` says what each accepts
(see :mod:`sim.scenario.checks`). Units are in the names: ``_days``, ``_months``, ``_per_month``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..distributions import SurvivalDistribution
from . import checks as c

__all__ = [
    "Trial",
    "Site",
    "CalendarPeriod",
    "Recruitment",
    "Schedule",
    "Efficacy",
    "Safety",
    "Cutoff",
    "Analysis",
    "Monitoring",
    "Scenario",
]


def _f(check: c.Check, default: Any = ..., doc: str = "") -> Any:
    """A dataclass field carrying its check (and a default when the key is optional)."""
    meta = {"check": check, "doc": doc}
    if default is ...:
        return field(metadata=meta)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Trial:
    """Identity, size and calendar of the trial."""

    name: str = _f(c.text)
    sample_size: int = _f(c.integer(1, 10_000))
    study_start: dt.date = _f(c.date)
    recruitment_open: dt.date = _f(c.date)
    recruitment_close: dt.date = _f(c.date)
    study_end: dt.date = _f(c.date)
    registry_id: str = _f(c.text, "")
    replace_non_evaluable: bool = _f(c.boolean, False)


@dataclass(frozen=True)
class Site:
    """One recruiting centre."""

    name: str = _f(c.text)
    activation: dt.date = _f(c.date)
    screened_per_month: float = _f(c.number(0, 1000, strict_min=True))
    ramp_up_months: float = _f(c.number(0), 0.0)


@dataclass(frozen=True)
class CalendarPeriod:
    """A stretch of calendar time when every site screens at ``rate_factor`` times its usual rate."""

    name: str = _f(c.text)
    start: dt.date = _f(c.date)
    end: dt.date = _f(c.date)
    rate_factor: float = _f(c.number(0, 100))


@dataclass(frozen=True)
class Recruitment:
    """How patients arrive, are screened and start treatment."""

    sites: tuple[Site, ...] = _f(c.list_of(c.nested(Site), min_length=1))
    screen_failure_probability: float = _f(c.probability)
    screening_days: tuple[int, int] = _f(c.day_range)
    enrollment_to_first_dose_days: tuple[int, int] = _f(c.day_range)
    periods: tuple[CalendarPeriod, ...] = _f(c.list_of(c.nested(CalendarPeriod)), ())
    rate_cv: float = _f(c.number(0), 0.0)


@dataclass(frozen=True)
class Schedule:
    """Treatment cycles, tumour assessments and follow-up, in days from first dose."""

    cycle_days: int = _f(c.integer(1, 365))
    max_treatment_months: float = _f(c.number(0, 120, strict_min=True))
    scan_interval_days: int = _f(c.integer(1, 365))
    scan_window_days: int = _f(c.integer(0, 60))
    confirmation_required: bool = _f(c.boolean)
    confirmation_min_days: int = _f(c.integer(0, 365))
    sd_min_days: int = _f(c.integer(0, 365))
    survival_follow_up_months: float = _f(c.number(0))
    missed_scan_probability: float = _f(c.number(0, 1, strict_max=True), 0.0)


@dataclass(frozen=True)
class Efficacy:
    """The latent efficacy model; see docs/model.md for what each number means exactly."""

    orr: float = _f(c.probability)
    pfs: SurvivalDistribution = _f(c.distribution)
    time_to_response: SurvivalDistribution = _f(c.distribution)
    complete_response_share: float = _f(c.probability, 0.0)
    unconfirmed_response_share: float = _f(c.probability, 0.0)
    response_pfs_association: float = _f(c.probability, 0.5)
    death_without_progression_share: float = _f(c.probability, 0.1)
    os_median_months: float | None = _f(c.number(0, strict_min=True), None)
    post_progression_survival: SurvivalDistribution | None = _f(c.distribution, None)


@dataclass(frozen=True)
class Safety:
    """Grade >= 3 treatment-related adverse events and other reasons to leave the study."""

    ae_probability_by_cycle: tuple[float, ...] = _f(c.list_of(c.probability, min_length=1))
    ae_interruption_share: float = _f(c.probability)
    ae_discontinuation_share: float = _f(c.probability)
    interruption_days: tuple[int, int] = _f(c.day_range)
    withdrawal_per_month: float = _f(c.number(0), 0.0)
    loss_to_follow_up_per_month: float = _f(c.number(0), 0.0)
    new_therapy_probability: float = _f(c.probability, 0.0)
    new_therapy_days: tuple[int, int] = _f(c.day_range, (14, 42))


@dataclass(frozen=True)
class Cutoff:
    """When a data cutoff falls (never later than ``trial.study_end``).

    ``after_last_first_dose``: ``months`` after the last enrolled patient's first dose;
    ``os_events``: when ``events`` deaths have been observed (or at study end);
    ``date``: a fixed calendar date.
    """

    rule: str = _f(c.choice("after_last_first_dose", "os_events", "date"))
    months: float | None = _f(c.number(0), None)
    events: int | None = _f(c.integer(1), None)
    date: dt.date | None = _f(c.date, None)


@dataclass(frozen=True)
class Analysis:
    """The statistical analysis plan for the primary endpoint and the cutoffs."""

    p0: float = _f(c.probability)
    alpha: float = _f(c.number(0, 0.5, strict_min=True))
    primary_cutoff: Cutoff = _f(c.nested(Cutoff))
    final_cutoff: Cutoff = _f(c.nested(Cutoff))
    population: str = _f(c.choice("all_treated", "evaluable"), "all_treated")
    ci_method: str = _f(c.choice("exact", "wilson", "wilsoncc", "jeffreys", "agresti-coull"), "exact")
    ci_level: float = _f(c.number(0, 1, strict_min=True, strict_max=True), 0.95)
    landmark_months: float = _f(c.number(0, strict_min=True), 6.0)
    pfs_censoring: str = _f(c.choice("treatment_policy", "fda"), "treatment_policy")


@dataclass(frozen=True)
class Monitoring:
    """Interim monitoring of the response rate in calendar time (absent: a single-stage design).

    A patient's response is *judged* (settled) at the first of: a confirmed response, the end of
    follow-up for response (progression, death, withdrawal, loss), or the protocol's
    response-evaluation window, ``judgement_days`` after first dose. A look happens when the first
    ``n`` enrolled patients have all been judged.
    """

    rule: str = _f(c.choice("none", "simon", "bayesian"), "none")
    pause_enrollment: bool = _f(c.boolean, False)
    judgement_days: int = _f(c.integer(1, 3650), 273)
    stage1_patients: int | None = _f(c.integer(1), None)
    stage1_max_responders: int | None = _f(c.integer(0), None)
    final_max_responders: int | None = _f(c.integer(0), None)
    looks: tuple[int, ...] = _f(c.list_of(c.integer(1), min_length=1), ())
    prior_a: float = _f(c.number(0, strict_min=True), 0.5)
    prior_b: float = _f(c.number(0, strict_min=True), 0.5)
    futility_predictive: float | None = _f(c.probability, None)
    success_posterior: float | None = _f(c.probability, None)

    @property
    def look_sizes(self) -> tuple[int, ...]:
        """Patients judged at each interim look."""
        if self.rule == "simon":
            return (self.stage1_patients,) if self.stage1_patients else ()
        if self.rule == "bayesian":
            return self.looks
        return ()


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario."""

    trial: Trial = _f(c.nested(Trial))
    recruitment: Recruitment = _f(c.nested(Recruitment))
    schedule: Schedule = _f(c.nested(Schedule))
    efficacy: Efficacy = _f(c.nested(Efficacy))
    safety: Safety = _f(c.nested(Safety))
    analysis: Analysis = _f(c.nested(Analysis))
    monitoring: Monitoring = _f(c.nested(Monitoring), Monitoring())
