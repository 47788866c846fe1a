"""The analysis plan of a scenario: the data cutoffs, the analysis, interim monitoring and the forecast's prior.

The fields of the ``[analysis]``, ``[monitoring]`` and ``[forecast]`` tables, with their checks;
what a monitoring rule means is :mod:`.rules`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import checks as c
from .limits import MAX_LOOK_WORK, MAX_MONTHS
from .limits import declared as _f

__all__ = ["Analysis", "Cutoff", "Forecast", "Monitoring"]


@dataclass(frozen=True)
class Cutoff:
    """When a data cutoff falls (never later than ``trial.study_end``).

    ``after_last_first_dose``: ``months`` after the last enrolled patient's first dose;
    ``os_events``: when ``events`` deaths have been observed (or at study end);
    ``date``: a fixed calendar date.
    """

    rule: str = _f(
        c.choice("after_last_first_dose", "os_events", "date"), doc="which of the three fields below sets the cutoff"
    )
    # a cutoff beyond the longest study would fall after the study end, where it is capped anyway
    months: float | None = _f(
        c.number(0, MAX_MONTHS), None, "months after the last first dose; needed by `after_last_first_dose`"
    )
    events: int | None = _f(
        c.integer(1, 10_000),
        None,
        "observed deaths that trigger the cutoff (or the study end if fewer); needed by `os_events`; at most "
        "`trial.sample_size`",
    )
    date: dt.date | None = _f(
        c.date,
        None,
        "fixed cutoff date; needed by `date`; after `trial.recruitment_open` and not after `trial.study_end`",
    )


@dataclass(frozen=True)
class Analysis:
    """The statistical analysis plan for the primary endpoint and the cutoffs."""

    # p0 = 1 leaves nothing to reject; p0 = 0 makes one response a success and the predictive probability undefined
    p0: float = _f(c.number(0, 1, strict_min=True, strict_max=True), doc="null ORR")
    alpha: float = _f(c.number(0, 0.5, strict_min=True), doc="one-sided significance level")
    primary_cutoff: Cutoff = _f(
        c.nested(Cutoff), doc="the data cutoffs, primary for the ORR and final for PFS and OS (fields below)"
    )
    final_cutoff: Cutoff = _f(
        c.nested(Cutoff), doc="the data cutoffs, primary for the ORR and final for PFS and OS (fields below)"
    )
    p1: float | None = _f(
        c.number(0, 1, strict_min=True, strict_max=True),
        None,
        "the ORR worth pursuing, above `analysis.p0`: the decision errors are judged against it",
    )
    population: str = _f(
        c.choice("all_treated", "evaluable"),
        "all_treated",
        "ORR denominator: every treated patient, or the evaluable ones (≥ 1 post-baseline scan)",
    )
    ci_method: str = _f(
        c.choice("exact", "wilson", "wilsoncc", "jeffreys", "agresti-coull"),
        "exact",
        "confidence interval of the ORR: `exact` is Clopper-Pearson; `wilsoncc` Wilson with continuity correction",
    )
    # an interval that covers the truth less often than not is no confidence interval; 1 is no interval at all
    ci_level: float = _f(c.number(0.5, 1, strict_max=True), 0.95, "two-sided confidence level of CIs")
    # a landmark beyond the longest study is never reached
    landmark_months: float = _f(
        c.number(0, MAX_MONTHS, strict_min=True), 6.0, "landmark for PFS/OS rates"
    )
    pfs_censoring: str = _f(
        c.choice("treatment_policy", "fda"),
        "treatment_policy",
        "`treatment_policy`: every progression or death counts, whatever came before; `fda`: censor at the last "
        "adequate scan before new anticancer therapy, and before two or more missed scans followed by progression "
        "or death",
    )


@dataclass(frozen=True)
class Monitoring:
    """Interim monitoring of the response rate in calendar time (absent: a single-stage design).

    A look happens when the first ``n`` enrolled patients have all been *judged* for it
    (``look_trigger``): by default when each has had ``look_scans`` post-baseline scans or has
    stopped being assessed (progression, death, withdrawal, loss, end of follow-up), a response
    still awaiting its confirmation scan then being handled by ``pending_response``; or, with
    ``judgement_window``, at the first of a confirmed response, the end of assessment, or
    ``judgement_days`` after first dose. Responders are the responses confirmed by the day the look's
    last patient is judged.
    """

    rule: str = _f(
        c.choice("none", "simon", "bayesian"),
        "none",
        "interim monitoring: `none` (single stage), `simon` or `bayesian`",
    )
    pause_enrollment: bool = _f(
        c.boolean, False, "pause enrollment while a look waits for its patients' responses"
    )
    look_trigger: str = _f(
        c.choice("assessments", "judgement_window"),
        "assessments",
        "what a look waits for: `assessments`, every look patient has had `look_scans` post-baseline scans or has "
        "stopped being assessed (progressed, died, left, follow-up over), as protocols write it; "
        "`judgement_window`, every look patient's response confirmed, ruled out or `judgement_days` old",
    )
    look_scans: int | None = _f(
        c.integer(1, 50),
        None,
        "with `look_trigger = 'assessments'` only: post-baseline scans done that make a patient assessed for a "
        "look (2 when not given)",
    )
    pending_response: str | None = _f(
        c.choice("await_confirmation", "non_responder"),
        None,
        "with `look_trigger = 'assessments'` only: a CR/PR seen by then but not yet confirmed either waits for its "
        "confirmation scan (the first scan done `schedule.confirmation_min_days` or more after it) or counts as "
        "no response unless confirmed by the day the look's last patient is judged (`await_confirmation` when not "
        "given)",
    )
    judgement_days: int | None = _f(
        c.integer(1, 3650),
        None,
        "with `look_trigger = 'judgement_window'` only: the protocol's response-evaluation window, days from first "
        "dose after which a patient's response is judged (settled) if confirmation, progression, death or exit has "
        "not settled it earlier (273, 39 weeks, when not given)",
    )
    stage1_patients: int | None = _f(c.integer(1), None, "Simon n1; below `trial.sample_size`")
    stage1_max_responders: int | None = _f(
        c.integer(0), None, "Simon r1: stop when stage-1 responders ≤ r1; below n1"
    )
    final_max_responders: int | None = _f(
        c.integer(0), None, "Simon r: success when responders > r; r1 ≤ r < `trial.sample_size`"
    )
    looks: tuple[int, ...] = _f(
        c.list_of(c.integer(1), min_length=1),
        (),
        "Bayesian: patients judged at each interim look; increasing, below `trial.sample_size`; the number of "
        f"looks times `trial.sample_size` at most {MAX_LOOK_WORK:,}",
    )
    # a Beta prior worth more than 10000 patients outweighs any trial's data
    prior_a: float = _f(c.number(0, 10_000, strict_min=True), 0.5, "Beta prior of the ORR")
    prior_b: float = _f(c.number(0, 10_000, strict_min=True), 0.5, "Beta prior of the ORR")
    futility_predictive: float | None = _f(
        c.probability, None, "stop when the predictive probability of final success is below this"
    )
    # a posterior above 0 always, above 1 never: the predictive probability needs a threshold strictly inside
    success_posterior: float | None = _f(
        c.number(0, 1, strict_min=True, strict_max=True), None, "success when P(ORR > p0 | data) exceeds this"
    )

    @property
    def scans_per_look(self) -> int:
        """``look_scans``, or the 2 post-baseline scans protocols usually write."""
        return 2 if self.look_scans is None else self.look_scans

    @property
    def awaits_confirmation(self) -> bool:
        """Whether a pending CR/PR waits for its confirmation scan (``pending_response``, by default it does)."""
        return self.pending_response != "non_responder"

    @property
    def window_days(self) -> int:
        """``judgement_days``, or 273 days (39 weeks)."""
        return 273 if self.judgement_days is None else self.judgement_days


@dataclass(frozen=True)
class Forecast:
    """The forecast's priors: the ORR's (when ``efficacy.orr_prior`` is not given) and the screen-failure rate's."""

    # a Beta prior worth more than 10000 patients outweighs any trial's data
    prior_a: float | None = _f(
        c.number(0, 10_000, strict_min=True),
        None,
        "Beta prior of the ORR for the forecast's predictive probability, when `efficacy.orr_prior` is not given; "
        "give it with `prior_b`; without both, the prior is centred on `efficacy.orr`, worth `prior_patients`",
    )
    prior_b: float | None = _f(c.number(0, 10_000, strict_min=True), None, "Beta prior of the ORR (see `prior_a`)")
    prior_patients: float = _f(
        c.number(0, 10_000, strict_min=True),
        10.0,
        "weight, in patients, of the forecast's default ORR prior Beta(orr w, (1 - orr) w) centred on "
        "`efficacy.orr`, and of the sceptical prior Beta(p0 w, (1 - p0) w) centred on `analysis.p0` it always shows",
    )
    rate_prior_patients: float | None = _f(
        c.number(0, 10_000, strict_min=True),
        None,
        "weight, in enrollments, of each site's planned rate as the prior of its rate: Gamma(w, w) on the rate "
        "multiplier; without it, 1 / `recruitment.rate_cv`² (and the planned rate is known when `rate_cv` is 0)",
    )
    pool_sites: bool = _f(
        c.boolean,
        False,
        "estimate the Gamma law of the sites' rate multipliers from every site's enrollments (empirical Bayes), "
        "instead of each site's planned prior; needs two sites enrolling by the as-of date",
    )
    learn_hazards: bool = _f(
        c.boolean,
        False,
        "update the withdrawal, loss-to-follow-up and (exponential) post-progression death hazards from the observed "
        "patients, each replicate drawing them from their Gamma posteriors",
    )
    learn_pfs: bool = _f(
        c.boolean,
        False,
        "learn a PFS hazard ratio together with the ORR from every patient's status (a two-dimensional likelihood, "
        "about nine times the ORR's alone to compute), each replicate drawing its PFS from the posterior",
    )
    hazard_prior_months: float = _f(
        c.number(0, 100_000, strict_min=True),
        24.0,
        "with `learn_hazards` or `learn_pfs`: the weight, in patient-months at risk, of the scenario's hazards as "
        "their priors",
    )
    likelihood_matches: int = _f(
        c.integer(20, 10_000),
        400,
        "draws matching each patient's status at each ORR of the likelihood grid (up to 200,000 draws a patient): "
        "more is slower and more precise; the forecast reports the likelihood's own error",
    )
    activation_delay_days: int = _f(
        c.integer(0, 3650),
        0,
        "a site planned to activate after the as-of date opens uniformly 0 to this many days late (each replicate "
        "draws its own delay); 0 keeps the planned dates",
    )
    screen_failure_prior_weight: float = _f(
        c.number(0, 10_000, strict_min=True),
        20.0,
        "with screening counts (`forecast --screened`): the weight, in patients, of "
        "`recruitment.screen_failure_probability` as the prior of the screen-failure rate",
    )
