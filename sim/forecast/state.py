"""From a scenario, the observed patients and an as-of date to the trial model a forecast simulates.

The model is the scenario's own, started from a :class:`~sim.model.trial_state.TrialState`: the
enrolled patients as observed, each site's posterior rate, and (for the predictive probability)
the posterior of the ORR. What the engine cannot start from (an interim look already due) is
refused here, with the field named, before any compute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import TrialsimError
from ..model.conditioning import draw_given_status
from ..model.journey import END_REASONS
from ..model.recist import Response
from ..model.recruitment import site_rates
from ..model.status_likelihood import Spread, serially
from ..model.trial_model import TrialModel
from ..model.trial_state import UNKNOWN, KnownOutcomes, RatePosterior, TrialState
from ..stats.beta_mixture import BetaMixture
from ..units import day_number
from .hazards import hazard_posterior
from .looks import RemainingLooks, check_looks, counts_as_confirmed
from .observed import ObservedTrial
from .orr_posterior import OrrPosterior, status_posterior
from .pfs_posterior import PfsPosterior, pfs_posterior
from .posterior import (
    POOLED_MIN_ENROLLMENTS,
    SitePosterior,
    enrollment_exposure,
    gamma_posterior,
    pooled_gamma,
    prior_weight,
)
from .screening import ScreeningCounts

__all__ = [
    "ForecastError",
    "KnownRateWarning",
    "as_of_day",
    "forecast_model",
    "orr_evidence",
    "OrrPrior",
    "orr_prior",
    "predictive_state",
    "sceptical_prior",
    "site_posteriors",
    "start_state",
    "with_prior",
    "with_rates",
]


class ForecastError(ValueError, TrialsimError):
    """A forecast cannot start from this state; the message names the field or option."""


class KnownRateWarning(UserWarning):
    """With ``recruitment.rate_cv = 0`` the planned rates are taken as known: the data teach nothing."""


def as_of_day(model: TrialModel, as_of: dt.date) -> float:
    """The end of the as-of date, in days from the study start: everything dated that day is known."""
    return day_number(as_of, model.scenario.trial.study_start) + 1.0


def site_posteriors(
    model: TrialModel,
    observed: ObservedTrial,
    as_of: dt.date,
    vague: bool,
    screening: ScreeningCounts | None = None,
) -> list[SitePosterior]:
    """Each site's enrollments so far and the posterior of its rate multiplier (module doc of posterior).

    A site with screening counts learns from its screened patients (every arrival), the others
    from their enrollments (the arrivals that passed screening and finished it by the as-of date).
    """
    rec = model.scenario.recruitment
    until = min(as_of_day(model, as_of), model.close_day)
    counts = {site.name: 0 for site in rec.sites}
    for p in observed.patients:
        counts[p.site] += 1
    weight = prior_weight(rec.rate_cv, model.scenario.forecast.rate_prior_patients)
    evidence = []
    for index, site in enumerate(rec.sites):
        planned = site_rates(
            site, index, model.scenario.trial.study_start, model.open_day, 0.0, np.random.default_rng(0)
        )
        if screening is not None and site.name in screening.screened:
            count = screening.screened[site.name]
            exposure = enrollment_exposure(planned, model.calendar, until, 1.0, (0, 0))
        else:
            count = counts[site.name]
            exposure = enrollment_exposure(
                planned, model.calendar, until, 1.0 - rec.screen_failure_probability, rec.screening_days
            )
        evidence.append((count, exposure))
    pooling = not vague and model.scenario.forecast.pool_sites
    total = sum(n for n, _ in evidence)
    too_few = total if pooling and total < POOLED_MIN_ENROLLMENTS else None
    pooled = _pooled(evidence) if pooling and too_few is None else None
    out = []
    for site, (count, exposure) in zip(rec.sites, evidence):
        if pooled is not None:
            shape, rate = pooled[0] + count, pooled[1] + exposure
        else:
            shape, rate = gamma_posterior(weight, vague, count, exposure)
        out.append(
            SitePosterior(
                site.name,
                counts[site.name],
                exposure,
                shape,
                rate,
                site.screened_per_month,
                weight,
                vague,
                pooled,
                too_few,
            )
        )
    if math.isinf(weight) and not vague and pooled is None:
        warnings.warn(
            "recruitment.rate_cv is 0 and forecast.rate_prior_patients is not given, so each site's planned rate is "
            "taken as known and the enrollments so far do not update it; give --vague-rate-prior or "
            "forecast.rate_prior_patients to learn the rates from the data",
            KnownRateWarning,
            stacklevel=2,
        )
    return out


def _pooled(evidence: Sequence[tuple[int, float]]) -> tuple[float, float]:
    """The sites' pooled Gamma law (:func:`~.posterior.pooled_gamma`); refused with fewer than two sites enrolling,
    or when the optimiser fails."""
    if sum(e > 0 for _, e in evidence) < 2:
        raise ForecastError(
            "forecast.pool_sites needs at least two sites with enrollment time before the as-of date; "
            "set it to false, or forecast from a later date"
        )
    try:
        return pooled_gamma([n for n, _ in evidence], [e for _, e in evidence])
    except ValueError as error:
        raise ForecastError(f"forecast.pool_sites: {error}; set it to false") from None


def with_rates(state: TrialState, sites: Sequence[SitePosterior]) -> TrialState:
    """``state`` with the sites' rate posteriors replaced (the rate-prior sensitivity run)."""
    rates = RatePosterior(np.array([s.shape for s in sites]), np.array([s.rate for s in sites]))
    return dataclasses.replace(state, rates=rates)


def orr_evidence(observed: ObservedTrial) -> tuple[int, int]:
    """Patients whose responder status the data settle: (confirmed responders, certain non-responders)."""
    if not observed.outcomes_known:
        return 0, 0
    responders = sum(p.confirmed for p in observed.patients)
    settled = sum(
        (not p.confirmed) and (p.progression_date is not None or p.death_date is not None) for p in observed.patients
    )
    return responders, settled


def _known_outcomes(model: TrialModel, observed: ObservedTrial) -> KnownOutcomes:
    """Each patient's status at the as-of date as the engine compares it (UNKNOWN where not given), with the
    recorded days of their last scan, progression and death."""
    n = observed.n_enrolled
    best = np.full(n, UNKNOWN, dtype=np.int8)
    confirmed = np.zeros(n, dtype=bool)
    progressed = np.zeros(n, dtype=bool)
    dead = np.zeros(n, dtype=bool)
    reason = np.full(n, -1, dtype=np.int8)
    days = {name: np.full(n, np.nan) for name in ("last_scan", "progression", "death")}
    origin = model.scenario.trial.study_start
    if observed.outcomes_known:
        for i, p in enumerate(observed.patients):
            if p.first_dose_date is None:
                continue
            best[i] = Response[p.best_response] if p.best_response else Response.NO_SCAN
            confirmed[i] = counts_as_confirmed(p, model.scenario)
            progressed[i] = p.progression_date is not None
            dead[i] = p.death_date is not None
            reason[i] = END_REASONS.index(p.treatment_end_reason) if p.treatment_end_reason else -1
            for name, date in (("last_scan", p.last_scan_date), ("progression", p.progression_date)):
                days[name][i] = math.nan if date is None else day_number(date, origin)
            days["death"][i] = math.nan if p.death_date is None else day_number(p.death_date, origin)
    return KnownOutcomes(
        best,
        confirmed,
        progressed,
        dead,
        reason,
        last_scan_day=days["last_scan"],
        progression_day=days["progression"],
        death_day=days["death"],
    )


def start_state(
    model: TrialModel,
    observed: ObservedTrial,
    as_of: dt.date,
    *,
    vague_rate_prior: bool = False,
    screening: ScreeningCounts | None = None,
    looks: Sequence[int] = (),
    spread: Spread = serially,
) -> TrialState:
    """The state the engine starts a forecast from, under the scenario's ORR (see :func:`predictive_state`).

    ``screening`` (counts per site) updates those sites' rates from their screened patients, gives
    their patients still in screening, and the screen-failure probability's posterior. ``looks``
    gives the responders each interim look already held counted, in order (:mod:`.looks`).
    ``spread`` runs the learned PFS's likelihood (``forecast.learn_pfs``; :data:`~sim.model.status_likelihood.Spread`).
    """
    if as_of >= model.scenario.trial.study_end:
        raise ForecastError(f"--as-of ({as_of}) must be before trial.study_end ({model.scenario.trial.study_end})")
    check_looks(model, observed, as_of, looks)
    origin = model.scenario.trial.study_start
    day = as_of_day(model, as_of)
    names = [s.name for s in model.scenario.recruitment.sites]
    enrolled = np.array([day_number(p.enrollment_date, origin) for p in observed.patients], dtype=float)
    dosed = [
        math.nan if p.first_dose_date is None else day_number(p.first_dose_date, origin) for p in observed.patients
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KnownRateWarning)  # the caller warns once, from site_posteriors
        sites = site_posteriors(model, observed, as_of, vague_rate_prior, screening)
    target = model.scenario.trial.sample_size
    state = TrialState(
        as_of_day=day,
        resume_day=max(model.open_day, day - model.scenario.recruitment.screening_days[1]),
        patient_id=tuple(p.patient_id for p in observed.patients),
        site=np.array([names.index(p.site) for p in observed.patients], dtype=np.int64),
        enrollment_day=enrolled,
        first_dose_day=np.array(dosed, dtype=float),
        outcomes=_known_outcomes(model, observed),
        rates=RatePosterior(np.array([s.shape for s in sites]), np.array([s.rate for s in sites])),
        enrollment_complete_day=float(enrolled[target - 1]) if len(enrolled) >= target else math.nan,
        orr_ceiling=model.orr_ceiling,
        looks_held=tuple(looks),
        hazards=hazard_posterior(model, observed, as_of) if model.scenario.forecast.learn_hazards else None,
        activation_delay_days=model.scenario.forecast.activation_delay_days,
        **_screening_state(model, observed, screening),
    )
    _check_statuses(model, state)
    if not model.scenario.forecast.learn_pfs:
        return state
    matches = model.scenario.forecast.likelihood_matches
    return dataclasses.replace(state, pfs_hazard=pfs_posterior(model, state, target=matches, spread=spread))


@dataclass(frozen=True)
class OrrPrior:
    """A prior of the ORR and where it comes from, in words for the output."""

    law: BetaMixture
    source: str


def orr_prior(model: TrialModel) -> OrrPrior:
    """The forecast's prior on the ORR: ``efficacy.orr_prior`` (the one assurance averages over) when given;
    else ``[forecast] prior_a, prior_b`` when given; else Beta centred on ``efficacy.orr``, worth ``prior_patients``.

    The default is the planning assumption with the weight of a few patients: not the Jeffreys
    prior, whose mean (about 0.19 below the base ceiling) is optimistic for a trial planned at 0.15.
    """
    f = model.scenario.forecast
    if model.orr_prior is not None:
        return OrrPrior(model.orr_prior, "efficacy.orr_prior")
    if f.prior_a is not None and f.prior_b is not None:
        return OrrPrior(BetaMixture.beta(f.prior_a, f.prior_b), "forecast.prior_a, prior_b")
    orr, w = model.scenario.efficacy.orr, f.prior_patients
    return OrrPrior(
        BetaMixture.beta(orr * w, (1.0 - orr) * w),
        f"default: centred on efficacy.orr ({orr:g}), worth forecast.prior_patients ({w:g}) patients",
    )


def sceptical_prior(model: TrialModel) -> OrrPrior:
    """The sceptical prior shown beside the forecast's: Beta centred on ``analysis.p0``, worth ``prior_patients``."""
    p0, w = model.scenario.analysis.p0, model.scenario.forecast.prior_patients
    return OrrPrior(
        BetaMixture.beta(p0 * w, (1.0 - p0) * w),
        f"sceptical: centred on analysis.p0 ({p0:g}), worth forecast.prior_patients ({w:g}) patients",
    )


def predictive_state(
    model: TrialModel, state: TrialState, prior: OrrPrior | None = None, spread: Spread = serially
) -> TrialState:
    """``state`` with each replicate's ORR drawn from its posterior given every patient's status so far.

    The prior is :func:`orr_prior`'s unless ``prior`` is given. A state that learns the PFS
    (``forecast.learn_pfs``) draws the ORR from its margin of the joint posterior, on that
    posterior's range (the ceiling of the smallest PFS hazard ratio). ``spread`` runs the likelihood
    (:data:`~sim.model.status_likelihood.Spread`).
    """
    law = (orr_prior(model) if prior is None else prior).law
    if isinstance(state.pfs_hazard, PfsPosterior):
        margin = state.pfs_hazard.orr_law(law)
        return dataclasses.replace(state, orr_posterior=margin, orr_ceiling=margin.ceiling)
    matches = model.scenario.forecast.likelihood_matches
    posterior = status_posterior(law, model, state, target=matches, spread=spread)
    return dataclasses.replace(state, orr_posterior=posterior)


def with_prior(state: TrialState, prior: OrrPrior) -> TrialState:
    """A predictive ``state`` with its posterior's prior replaced (the likelihood of the statuses kept)."""
    law = state.orr_posterior
    posterior = dataclasses.replace(law, prior=prior.law) if isinstance(law, OrrPosterior) else prior.law
    return dataclasses.replace(state, orr_posterior=posterior)


def _screening_state(model: TrialModel, observed: ObservedTrial, screening: ScreeningCounts | None) -> dict[str, Any]:
    """The patients each site has in screening (-1: not known) and the screen-failure posterior."""
    if screening is None or not screening.screened:
        return {}
    names = [s.name for s in model.scenario.recruitment.sites]
    enrolled = {name: sum(p.site == name for p in observed.patients) for name in names}
    pending = [screening.pending(name, enrolled[name]) if name in screening.screened else -1 for name in names]
    high = model.scenario.recruitment.screening_days[1]
    if high == 0 and any(n > 0 for n in pending):
        raise ForecastError(
            "--screened: some patients are still in screening (screened - screen_failed - enrolled > 0) but "
            "recruitment.screening_days allows no screening time"
        )
    q = model.scenario.recruitment.screen_failure_probability
    weight = model.scenario.forecast.screen_failure_prior_weight
    failed = sum(screening.failed.values())
    passed = sum(screening.screened.values()) - failed
    return {
        "pending": np.array(pending, dtype=np.int64),
        "screen_failure": (q * weight + failed, (1.0 - q) * weight + passed),
    }


def _check_statuses(model: TrialModel, state: TrialState) -> None:
    """Draw every patient's future once, so a status the model cannot produce is refused before any compute."""
    draw_given_status(
        model.patients,
        state.outcomes,
        state.first_dose_day,
        state.as_of_day,
        np.random.default_rng(0),
        state.patient_id,
    )


def forecast_model(model: TrialModel, state: TrialState) -> TrialModel:
    """The trial model started from ``state``, its design left with the interim looks not yet held."""
    rule = RemainingLooks(model.rule, len(state.looks_held)) if state.looks_held else model.rule
    return dataclasses.replace(model, start=state, rule=rule)
