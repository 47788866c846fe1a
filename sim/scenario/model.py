"""The scenario: every number a planner may change, as frozen dataclasses with declared checks.

Field names are the scenario file's keys; ``metadata["check"]`` says what each accepts
(see :mod:`sim.scenario.checks`). Units are in the names: ``_days``, ``_months``, ``_per_month``. The analysis
plan's tables (cutoffs, analysis, monitoring, forecast) are :mod:`.plan`; the limits, :mod:`.limits`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..distributions import SurvivalDistribution
from . import checks as c
from .distribution_check import MAX_MEDIAN_MONTHS, distribution
from .limits import (
    MAX_MONTHS,
    MAX_PATIENT_SCHEDULE,
    MAX_SCREENED_PER_TRIAL,
    MAX_STUDY_YEARS,
)
from .limits import declared as _f
from .plan import Analysis, Cutoff, Forecast, Monitoring

if TYPE_CHECKING:
    from .rules import DesignRule

__all__ = [
    "Trial",
    "Site",
    "CalendarPeriod",
    "Recruitment",
    "Schedule",
    "PriorComponent",
    "OrrPrior",
    "PfsOrrLink",
    "Efficacy",
    "Safety",
    "Cutoff",
    "Analysis",
    "Forecast",
    "Monitoring",
    "Scenario",
]


@dataclass(frozen=True)
class Trial:
    """Identity, size and calendar of the trial."""

    name: str = _f(c.text, doc="trial label in outputs")
    sample_size: int = _f(
        c.integer(1, 10_000),
        doc=f"patients to enroll; times (treatment cycles + scheduled scans per patient) at most "
        f"{MAX_PATIENT_SCHEDULE:,}",
    )
    study_start: dt.date = _f(c.date, doc="day 0 of the simulation")
    recruitment_open: dt.date = _f(c.date, doc="first day a patient may enroll; not before `trial.study_start`")
    recruitment_close: dt.date = _f(
        c.date, doc="last day a patient may enroll (inclusive); after `trial.recruitment_open`"
    )
    study_end: dt.date = _f(
        c.date,
        doc=f"end of follow-up; no cutoff falls later; after `trial.recruitment_close` and at most "
        f"{MAX_STUDY_YEARS} years after `trial.study_start`",
    )
    registry_id: str = _f(c.text, "", "registry number")
    replace_non_evaluable: bool = _f(
        c.boolean, False, "replace patients who never reach a post-baseline scan"
    )


@dataclass(frozen=True)
class Site:
    """One recruiting centre."""

    name: str = _f(c.text, doc="site label")
    activation: dt.date = _f(
        c.date,
        doc="the site's activation: it screens from then, or from `trial.recruitment_open` if later; its ramp-up "
        "counts from this date; not after `trial.recruitment_close`",
    )
    # 1000 a month is more than any one centre screens; the whole trial is further capped (load.py)
    screened_per_month: float = _f(
        c.number(0, 1000, strict_min=True),
        doc="expected screened patients per month at full rate; with the calendar factors and the months open, "
        f"at most {MAX_SCREENED_PER_TRIAL:,} screened per simulated trial",
    )
    # a ramp longer than the longest study never reaches full rate; one under 0.01 month (7 hours) is no ramp,
    # and time divided by a vanishing ramp overflows
    ramp_up_months: float = _f(
        c.zero_or(c.number(0.01, MAX_MONTHS)), 0.0, "months from activation to full rate (linear from 0)"
    )


@dataclass(frozen=True)
class CalendarPeriod:
    """A stretch of calendar time when every site screens at ``rate_factor`` times its usual rate."""

    name: str = _f(c.text, doc="label")
    start: dt.date = _f(c.date, doc="first day of the period")
    end: dt.date = _f(c.date, doc="last day of the period (inclusive); not before its start")
    # a holiday slows or a campaign speeds screening; a hundredfold is already beyond any real campaign
    rate_factor: float = _f(c.number(0, 100), doc="multiplies every site's rate (overlaps multiply)")


@dataclass(frozen=True)
class Recruitment:
    """How patients arrive, are screened and start treatment."""

    sites: tuple[Site, ...] = _f(c.list_of(c.nested(Site), min_length=1), doc="the recruiting sites")
    screen_failure_probability: float = _f(c.probability, doc="share of screened patients found ineligible")
    screening_days: tuple[int, int] = _f(c.day_range, doc="consent to enrollment decision")
    enrollment_to_first_dose_days: tuple[int, int] = _f(c.day_range, doc="enrollment to first dose")
    periods: tuple[CalendarPeriod, ...] = _f(
        c.list_of(c.nested(CalendarPeriod)), (), "calendar periods with a rate factor"
    )
    # CV 5 is a Gamma shape of 0.04: most sites then recruit almost nobody, and larger says nothing more;
    # below 0.001 the multiplier is 1 to three decimals, and the shape 1 / CV**2 overflows as the CV vanishes
    rate_cv: float = _f(
        c.zero_or(c.number(0.001, 5)),
        0.0,
        "CV of the Gamma rate multiplier drawn per replicate and site (0: the rate is known)",
    )


@dataclass(frozen=True)
class Schedule:
    """Treatment cycles, tumour assessments and follow-up, in days from first dose."""

    cycle_days: int = _f(c.integer(1, 365), doc="treatment cycle length")
    # ten years of treatment is beyond any protocol; the cycle arrays are sized by it
    max_treatment_months: float = _f(
        c.number(0, 120, strict_min=True), doc="maximum treatment duration (whole cycles)"
    )
    scan_interval_days: int = _f(c.integer(1, 365), doc="scan grid from first dose")
    scan_window_days: int = _f(
        c.integer(0, 60), doc="± window around each scan; less than half of `schedule.scan_interval_days`"
    )
    confirmation_required: bool = _f(c.boolean, doc="responses need confirmation")
    confirmation_min_days: int = _f(c.integer(0, 365), doc="minimum days between the response and its confirmation")
    sd_min_days: int = _f(c.integer(0, 365), doc="earliest day from first dose an SD scan counts for DCR")
    # follow-up beyond the longest study is never seen: the study end stops it
    survival_follow_up_months: float = _f(
        c.number(0, MAX_MONTHS), doc="follow-up after treatment ends (scans until PD, and survival)"
    )
    # 1 would leave no scan at all, and progression could never be seen
    missed_scan_probability: float = _f(
        c.number(0, 1, strict_max=True),
        0.0,
        "chance that a scheduled scan is missed (not done); progression waits for the next scan done",
    )
    unscheduled_progression_share: float = _f(
        c.number(0, 1),
        0.0,
        "share of progressions found at an unscheduled assessment prompted by symptoms, on a day drawn "
        "uniformly between the progression and the next scheduled scan (docs/model.md)",
    )


@dataclass(frozen=True)
class PriorComponent:
    """One component of a mixture prior on the true ORR: a Beta law, or earlier data on the Jeffreys prior."""

    weight: float = _f(c.number(0, 1, strict_min=True), doc="mixture weight; the components' weights sum to 1")
    beta: tuple[float, float] | None = _f(c.beta_shapes, None, "Beta(a, b) shapes; or give `responders` and `patients`")
    responders: int | None = _f(c.integer(0), None, "responders in earlier data; at most `patients`")
    patients: int | None = _f(
        c.integer(1, c.MAX_PRIOR_WEIGHT), None, "patients in earlier data: Beta(0.5 + responders, 0.5 + the rest)"
    )


@dataclass(frozen=True)
class OrrPrior:
    """What is believed about the true ORR (absent: the point value `efficacy.orr`).

    Exactly one of: ``beta``; ``responders`` and ``patients`` (optionally discounted by
    ``weight``); or a ``mixture`` of components. Each replicate draws its true ORR from it.
    """

    beta: tuple[float, float] | None = _f(c.beta_shapes, None, "Beta(a, b) shapes of the prior")
    responders: int | None = _f(c.integer(0), None, "responders in earlier data; at most `patients`")
    patients: int | None = _f(
        c.integer(1, c.MAX_PRIOR_WEIGHT),
        None,
        "patients in earlier data: the prior is Beta(0.5 + weight x responders, 0.5 + weight x the rest)",
    )
    weight: float | None = _f(
        c.number(0, 1, strict_min=True),
        None,
        "discount of the earlier data (a power prior: 1 borrows all of it, 0.5 half); only with `responders`",
    )
    mixture: tuple[PriorComponent, ...] = _f(
        c.list_of(c.nested(PriorComponent), min_length=1),
        (),
        "components with `weight` and either `beta` or `responders` and `patients`",
    )


@dataclass(frozen=True)
class PfsOrrLink:
    """How the PFS moves with the true ORR (absent: the PFS is the same whatever the ORR; docs/model.md)."""

    # a hazard ratio beyond 10 either way per step is no assumption a trial would state
    hazard_ratio: float = _f(
        c.number(0.1, 10),
        doc="PFS hazard ratio per `per` of true ORR above `reference_orr` (below 1: PFS lengthens as ORR rises)",
    )
    reference_orr: float = _f(
        c.number(0, 1, strict_min=True, strict_max=True),
        doc="the true ORR at which `efficacy.pfs` is the PFS (where it was calibrated)",
    )
    per: float = _f(c.number(0, 1, strict_min=True), 0.1, "the step of true ORR the hazard ratio applies to")


@dataclass(frozen=True)
class Efficacy:
    """The latent efficacy model; see docs/model.md for what each number means exactly."""

    orr: float = _f(
        c.probability,
        doc="probability of a confirmed response (see model.md); below S(first sure confirmation), checked when the "
        "model is built",
    )
    pfs: SurvivalDistribution = _f(distribution, doc="latent PFS distribution")
    time_to_response: SurvivalDistribution = _f(distribution, doc="onset of response from first dose")
    complete_response_share: float = _f(c.probability, 0.0, "share of responses that are CR")
    unconfirmed_response_share: float = _f(
        c.probability,
        0.0,
        "chance that a patient without a confirmed response shows a transient PR at their first stable scan, never "
        "confirmed (counts in the unconfirmed ORR only); 0 unless `schedule.confirmation_required`",
    )
    response_pfs_association: float = _f(
        c.probability, 0.5, "0: responders' PFS just long enough; 1: responders have the longest PFS"
    )
    death_without_progression_share: float = _f(c.probability, 0.1, "share of PFS events that are deaths")
    # the same bound as a distribution's median: a century of survival is a typo
    os_median_months: float | None = _f(
        c.number(0, MAX_MEDIAN_MONTHS, strict_min=True),
        None,
        "OS median; post-progression survival solved to match; above the PFS median; give this or "
        "`post_progression_survival`",
    )
    post_progression_survival: SurvivalDistribution | None = _f(
        distribution, None, "survival after progression (instead of `os_median_months`)"
    )
    orr_prior: OrrPrior | None = _f(
        c.nested(OrrPrior),
        None,
        "a prior on the true ORR, drawn per replicate (assurance); truncated below the ORR the PFS can carry",
    )
    pfs_orr_link: PfsOrrLink | None = _f(
        c.nested(PfsOrrLink),
        None,
        "PFS proportional hazards in the true ORR: at ORR p every PFS hazard is multiplied by hazard_ratio ^ "
        "((p - reference_orr) / per); the post-progression survival stays as solved at `reference_orr`",
    )


@dataclass(frozen=True)
class Safety:
    """Grade >= 3 treatment-related adverse events and other reasons to leave the study."""

    ae_probability_by_cycle: tuple[float, ...] = _f(
        c.list_of(c.probability, min_length=1), doc="P(grade ≥ 3 TRAE) in cycle 1, 2, ...; the last repeats"
    )
    ae_interruption_share: float = _f(c.probability, doc="share of those AEs that delay the next cycle")
    ae_discontinuation_share: float = _f(
        c.probability, doc="share that end treatment; its sum with `safety.ae_interruption_share` at most 1"
    )
    interruption_days: tuple[int, int] = _f(c.day_range, doc="delay of the next cycle")
    # 100 a month is a mean stay of 7 hours: everyone has left by the first scan, and larger changes nothing;
    # 1e-6 a month is one exit in 80,000 years, and exit times drawn as 1 / hazard overflow as it vanishes
    withdrawal_per_month: float = _f(
        c.zero_or(c.number(1e-6, 100)), 0.0, "hazard of consent withdrawal (ends treatment and follow-up)"
    )
    loss_to_follow_up_per_month: float = _f(c.zero_or(c.number(1e-6, 100)), 0.0, "hazard of loss to follow-up")
    new_therapy_probability: float = _f(
        c.probability,
        0.0,
        "chance that a patient whose treatment ends for an AE or at the maximum duration starts new anticancer "
        "therapy (scans go on)",
    )
    new_therapy_days: tuple[int, int] = _f(c.day_range, (14, 42), "days from that end of treatment to the new therapy")


@dataclass(frozen=True)
class Source:
    """Where a scenario came from: the file as it was read (comments included) and the overrides applied.

    It travels with the scenario, so a run folder or a report written hours later records the
    file as the run read it, not as it is then. A scenario changed in code has none.
    """

    name: str
    text: str
    overrides: tuple[str, ...] = ()


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
    forecast: Forecast = _f(c.nested(Forecast), Forecast())
    # where the scenario came from; not a field of the file, not part of what replicates depend on
    source: Source | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def rule(self) -> DesignRule:
        """The decision rule the ``monitoring`` and ``analysis`` tables describe (:mod:`.rules`)."""
        from .rules import design_rule  # the rules read this module's tables

        return design_rule(self.monitoring, self.analysis, self.trial.sample_size)
