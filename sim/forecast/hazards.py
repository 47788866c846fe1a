"""The exponential hazards the observed patients inform, updated by conjugacy and drawn afresh in each replicate.

Three of the model's hazards are constant, so their likelihood from censored times is a Poisson
one, ``λ^d exp(-λ T)`` for ``d`` events over ``T`` months at risk, and a Gamma(a, b) prior becomes
Gamma(a + d, b + T) exactly:

* **withdrawal** and **loss to follow-up**, at risk while on treatment: the file records them as
  the reason treatment ended; after treatment ends it cannot show them. The exit times are
  exponential and independent of everything else, so the on-treatment periods are a valid
  (partial) likelihood.
* **death after progression**, when the post-progression survival is exponential (the model
  solves it so from ``efficacy.os_median_months``): at risk from the recorded progression (the
  patient was alive at that scan, and the hazard is memoryless) to death or the as-of date, or to
  ``last_known_alive_date`` when given; never beyond the end of survival follow-up (treatment end
  plus ``schedule.survival_follow_up_months``) or a loss to follow-up, after which the model
  records no death.

Doses, scans and cycle ends fall at the start of their day; deaths, withdrawals and losses
anywhere in it (the middle, on average); the as-of date runs to its end.
The prior has the scenario's value λ₀ as its mean, worth ``forecast.hazard_prior_months``
patient-months w but at least :data:`PRIOR_MIN_EVENTS` events: Gamma(k, k/λ₀), k = max(λ₀ w, 2).
A hazard the scenario sets to 0 is not learned. Each replicate draws the three
rates from their posteriors (:meth:`HazardPosterior.draw`), so the forecast's dates carry their
uncertainty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..distributions import Exponential
from ..model.patient_model import PatientModel
from ..model.trial_model import TrialModel
from ..units import DAYS_PER_MONTH
from .observed import ObservedPatient, ObservedTrial

__all__ = ["GammaRate", "HazardPosterior", "PRIOR_MIN_EVENTS", "hazard_document", "hazard_lines", "hazard_posterior"]

PRIOR_MIN_EVENTS = 2.0
"""The fewest events a hazard's prior is worth: its shape, so its median stays near the scenario's rate."""


@dataclass(frozen=True)
class GammaRate:
    """A hazard per month with a Gamma(shape, rate) law; ``events`` over ``months`` at risk are its data."""

    shape: float
    rate: float
    events: int = 0
    months: float = 0.0

    def mean(self) -> float:
        """Posterior mean of the hazard per month."""
        return self.shape / self.rate

    def quantile(self, q: float) -> float:
        """Posterior ``q`` quantile of the hazard per month."""
        return float(stats.gamma.ppf(q, self.shape, scale=1.0 / self.rate))


@dataclass(frozen=True)
class HazardPosterior:
    """The posteriors of the hazards the data inform (None: not learned, the scenario's value kept)."""

    withdrawal: GammaRate | None
    loss_to_follow_up: GammaRate | None
    post_progression_death: GammaRate | None

    def draw(self, rng: np.random.Generator, patients: PatientModel) -> PatientModel:
        """A replicate's patient model with each learned hazard drawn from its posterior (three gammas, in order)."""
        draws = [
            None if law is None else float(rng.gamma(law.shape, 1.0 / law.rate))
            for law in (self.withdrawal, self.loss_to_follow_up, self.post_progression_death)
        ]
        safety = patients.safety
        if draws[0] is not None:
            safety = dataclasses.replace(safety, withdrawal_per_month=draws[0])
        if draws[1] is not None:
            safety = dataclasses.replace(safety, loss_to_follow_up_per_month=draws[1])
        pps = patients.post_progression_survival
        if draws[2] is not None:
            pps = Exponential(math.log(2.0) / max(draws[2], 1e-12))
        return dataclasses.replace(patients, safety=safety, post_progression_survival=pps)


_CONTINUOUS = ("death", "withdrawal", "lost_to_follow_up")
"""Treatment-end reasons at any time of their day; the others (a scan, a cycle's end) fall at its start."""


def _days(start: dt.date, end: dt.date | None, as_of: dt.date, within_day: float) -> float:
    """Days at risk from the start of ``start`` to ``within_day`` into ``end``, or to the end of the as-of date."""
    return (as_of - start).days + 1.0 if end is None else (end - start).days + within_day


def _prior(value: float, weight: float, events: int, months: float) -> GammaRate | None:
    """Gamma(k, k / value) updated with ``events`` over ``months``; None when the scenario's value is 0.

    ``k = max(value w, PRIOR_MIN_EVENTS)`` events: the scenario's value is the prior mean, worth ``w``
    patient-months but never fewer than two events (a shape below 1 would put the prior's median
    far below the scenario's rate: Gamma(0.24, 24) for a withdrawal rate of 0.01).
    """
    if value <= 0:
        return None
    shape = max(value * weight, PRIOR_MIN_EVENTS)
    return GammaRate(shape + events, shape / value + months, events, months)


def _after_progression(p: ObservedPatient, as_of: dt.date, follow_up_days: float) -> float:
    """Days at risk of death from the recorded progression: to death, to the last contact, or to the as-of date,
    and never beyond the end of survival follow-up (treatment end + ``follow_up_days``) or a loss to follow-up.

    The model records no death after follow-up ends, so time beyond it carries no information.
    """
    assert p.progression_date is not None
    if p.death_date is None and p.last_known_alive_date is not None:
        known = max(p.last_known_alive_date, p.progression_date)
        days = _days(p.progression_date, known, as_of, 0.5)
    else:
        days = _days(p.progression_date, p.death_date, as_of, 0.5)
    if p.treatment_end_date is None:
        return days
    if p.treatment_end_reason == "lost_to_follow_up":
        return min(days, _days(p.progression_date, p.treatment_end_date, as_of, 0.5))
    end_of_follow_up = (p.treatment_end_date - p.progression_date).days + follow_up_days
    return max(0.0, min(days, end_of_follow_up))


def hazard_posterior(model: TrialModel, observed: ObservedTrial, as_of: dt.date) -> HazardPosterior | None:
    """The hazards' posteriors from the observed patients (module docstring); None without outcomes."""
    if not observed.outcomes_known:
        return None
    weight = model.scenario.forecast.hazard_prior_months
    follow_up_days = model.scenario.schedule.survival_follow_up_months * DAYS_PER_MONTH
    safety = model.patients.safety
    on_treatment, withdrew, lost = 0.0, 0, 0
    after_progression, deaths = 0.0, 0
    for p in observed.patients:
        if p.first_dose_date is None:
            continue
        within = 0.5 if p.treatment_end_reason in _CONTINUOUS else 0.0
        on_treatment += _days(p.first_dose_date, p.treatment_end_date, as_of, within) / DAYS_PER_MONTH
        withdrew += p.treatment_end_reason == "withdrawal"
        lost += p.treatment_end_reason == "lost_to_follow_up"
        if p.progression_date is None:
            continue
        deaths += p.death_date is not None
        after_progression += _after_progression(p, as_of, follow_up_days) / DAYS_PER_MONTH
    pps = model.patients.post_progression_survival
    return HazardPosterior(
        _prior(safety.withdrawal_per_month, weight, withdrew, on_treatment),
        _prior(safety.loss_to_follow_up_per_month, weight, lost, on_treatment),
        _prior(pps.rate, weight, deaths, after_progression) if isinstance(pps, Exponential) else None,
    )


_NAMES = ("withdrawal", "loss_to_follow_up", "post_progression_death")


def _laws(h: HazardPosterior) -> list[tuple[str, GammaRate]]:
    """The learned hazards by name."""
    laws = (h.withdrawal, h.loss_to_follow_up, h.post_progression_death)
    return [(name, law) for name, law in zip(_NAMES, laws) if law is not None]


def hazard_document(h: HazardPosterior) -> dict[str, dict[str, float]]:
    """Each learned hazard per month: posterior mean, 5% and 95% quantiles, and its data (events, months at risk)."""
    return {
        name: {
            "mean": law.mean(),
            "q05": law.quantile(0.05),
            "q95": law.quantile(0.95),
            "events": law.events,
            "months_at_risk": law.months,
        }
        for name, law in _laws(h)
    }


def hazard_lines(h: HazardPosterior) -> list[str]:
    """The learned hazards in words, one line each."""
    return [
        f"  {name.replace('_', ' ')} hazard {law.mean():.4f} per month (90% interval {law.quantile(0.05):.4f} to "
        f"{law.quantile(0.95):.4f}; {law.events} events in {law.months:.1f} patient-months)"
        for name, law in _laws(h)
    ]
