"""The ORR posterior from every patient's status, against a likelihood computed by hand and Bayes' rule by quadrature."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from sim.forecast import ObservedPatient, ObservedTrial
from sim.forecast.orr_posterior import NODES, OrrPosterior
from sim.forecast.result import forecast_models
from sim.forecast.state import forecast_model
from sim.model.recist import confirmation_lag_scans, earliest_sure_confirmation_day
from sim.model.status_likelihood import status_probabilities
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.stats.beta_mixture import BetaMixture
from sim.units import DAYS_PER_MONTH
from tests.helpers import stable_patients

# No AE, dropout or scan window: a patient's status at the as-of date depends only on the PFS and
# the response, so its probability has the closed form of _sd_likelihood.
PLAIN = (
    "safety.ae_probability_by_cycle=[0.0]",
    "safety.withdrawal_per_month=0.0",
    "safety.loss_to_follow_up_per_month=0.0",
    "schedule.scan_window_days=0",
)
SCANS = 7
"""The stable patients have had this many scans (42 days apart) and no other event by the as-of date."""


def _model(*overrides: str) -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", [*PLAIN, *overrides]))


def _sd_likelihood(model: TrialModel, p: float) -> float:
    """P(stable at the last scan before the as-of date, no responding scan yet, alive | ORR p), by hand.

    With PFS uniform U and T = F^{-1}(U) (days), s the last scan day: a non-responder needs T > s;
    a responder also needs its onset tau after s. The joint density of (responder, U) is
    p g_R(u) and 1 - p g_R(u) (patient_model's module doc), so

        L(p) = (1 - F(s)) - p * integral over u > F(s) of g_R(u) P(tau <= s | T(u)) du,

    where tau is the time to response truncated below the latest onset a confirmation before T
    allows. The integrand is a step function of u: g_R jumps at u_L and 1 - p, the latest onset at
    each T = 42 m (scan window 0); the sum over those pieces is exact. Deaths in the one day between
    the last scan and the as-of date's end (T in (s, s + 1) and post-progression survival under a day)
    are left out: their probability is below 1e-5.
    """
    e, sc = model.scenario.efficacy, model.scenario.schedule
    s = SCANS * sc.scan_interval_days
    pfs, ttr = model.patients.efficacy.pfs, e.time_to_response
    u_s = float(pfs.cdf(s / DAYS_PER_MONTH))
    u_l = float(pfs.cdf(earliest_sure_confirmation_day(sc) / DAYS_PER_MONTH))
    a = e.response_pfs_association
    base = (1.0 - a) / (1.0 - u_l)
    steps = [float(pfs.cdf(sc.scan_interval_days * m / DAYS_PER_MONTH)) for m in range(1, 2000)]
    cuts = np.unique(np.clip([u_s, u_l, 1.0 - p, *steps, 1.0], u_s, 1.0))
    lag = confirmation_lag_scans(sc)
    total = 0.0
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        u = (lo + hi) / 2.0
        if u < u_l:
            continue
        g_r = base + (a / p if u > 1.0 - p else 0.0)
        t = float(pfs.quantile(u)) * DAYS_PER_MONTH
        last_scan = math.ceil(t / sc.scan_interval_days) - 1 - lag
        latest = max(last_scan, 1) * sc.scan_interval_days
        reach = float(ttr.cdf(latest / DAYS_PER_MONTH))
        total += g_r * (hi - lo) * min(float(ttr.cdf(s / DAYS_PER_MONTH)), reach) / reach
    return (1.0 - u_s) - p * total


def test_the_likelihood_of_a_stable_patient_is_the_closed_form_at_every_node() -> None:
    """Each node's estimate within 4 binomial standard errors of the hand computation."""
    model = _model()
    nodes = np.linspace(0.0, model.orr_ceiling, NODES)
    dose = 100.0
    as_of_day = dose + SCANS * 42 + 1.0
    estimated = status_probabilities(
        [model.with_orr(float(p)) for p in nodes],
        stable_patients(1),
        np.array([dose]),
        as_of_day,
        7,
    )
    draws = estimated.draws.sum(axis=0)[0]
    estimated_p = estimated.estimate()[0]
    exact = np.array([_sd_likelihood(model, float(p)) for p in nodes])
    se = np.sqrt(exact * (1.0 - exact) / draws)
    matches = estimated.matches.sum(axis=0)[0]
    hit = np.flatnonzero(matches > 0)
    inside = matches[hit[0] : hit[-1] + 1]
    # every node where the likelihood is at least a tenth of its peak rests on 400 matches, or the cap's draws
    assert np.all((inside >= 400) | (inside < 0.1 * inside.max()) | (draws >= 200_000))
    estimated = estimated_p
    assert np.all(np.abs(estimated - exact) <= 4 * se)
    assert exact[0] > 3 * exact[-1]  # the status is strong evidence against a high ORR


def test_the_posterior_is_bayes_rule_on_the_nodes() -> None:
    """Given the likelihood at the nodes, the posterior's mean, quantiles and draws match quadrature."""
    model = _model()
    ceiling = model.orr_ceiling
    nodes = np.linspace(0.0, ceiling, NODES)
    one = np.array([_sd_likelihood(model, float(p)) for p in nodes])
    prior = BetaMixture.mixture([(0.6, BetaMixture.beta(0.5, 0.5)), (0.4, BetaMixture.beta(3, 12))])
    posterior = OrrPosterior(prior, ceiling, nodes, np.tile(one, (15, 1)))

    def density(x: float) -> float:
        """The posterior density (unnormalised) in x = sqrt(p), which removes the Jeffreys singularity at 0."""
        p = x * x
        return float(prior.pdf(p, ceiling)) * float(np.interp(p, nodes, one)) ** 15 * 2.0 * x

    def integral(f, top: float) -> float:
        cuts = [x for x in np.sqrt(nodes) if x < top]
        return float(integrate.quad(f, 0.0, top, points=cuts, limit=1000, epsabs=1e-14)[0])

    norm = integral(density, math.sqrt(ceiling))
    mean = integral(lambda x: x * x * density(x), math.sqrt(ceiling)) / norm
    assert posterior.mean() == pytest.approx(mean, rel=1e-3)
    for q in (0.05, 0.5, 0.95):
        assert integral(density, math.sqrt(posterior.quantile(q))) / norm == pytest.approx(q, abs=1e-3)
    draws = posterior.draw(np.random.default_rng(3).random(20_000), ceiling)
    assert (draws >= 0).all() and (draws <= ceiling).all()
    assert abs(draws.mean() - mean) <= 4 * draws.std() / math.sqrt(draws.size)
    assert stats.kstest(draws, posterior.cdf).pvalue > 1e-3


def test_with_no_status_known_the_posterior_is_the_prior_itself() -> None:
    """Nothing conditioned: the prior's own law and draws (the assurance's), not a grid approximation."""
    model = TrialModel.from_scenario(load_scenario("base"))
    _, predictive = forecast_models(model, ObservedTrial((), outcomes_known=True), dt.date(2025, 11, 14))
    assert predictive.start is not None and isinstance(predictive.start.orr_posterior, BetaMixture)


def _long_stable(n: int, as_of: dt.date) -> ObservedTrial:
    """``n`` patients dosed about ten months before ``as_of``, all in stable disease, unconfirmed, on treatment."""
    patients = []
    for i in range(n):
        dose = as_of - dt.timedelta(days=300 + 3 * i)
        patients.append(
            ObservedPatient(
                row=i + 1,
                patient_id=f"SD{i:02d}",
                site="Lead centre",
                enrollment_date=dose - dt.timedelta(days=3),
                first_dose_date=dose,
                best_response="SD",
                last_scan_date=dose + dt.timedelta(days=294),
            )
        )
    return ObservedTrial(tuple(patients), outcomes_known=True)


def test_fifteen_patients_stable_for_ten_months_pull_the_predictive_probability_down() -> None:
    """The issue's example: 15 patients in SD for about ten months are almost surely non-responders.

    The settled-only posterior (nobody settled: the Jeffreys prior itself, mean 0.19) kept the
    predictive probability well above the one with every status in the likelihood (posterior
    mean about 0.01): the gap exceeds 4 MCSE of the difference.
    """
    as_of = dt.date(2026, 11, 15)
    # 100 matches a node: the effect (posterior mean 0.19 to about 0.01) dwarfs the likelihood's error
    settings = ["forecast.prior_a=0.5", "forecast.prior_b=0.5", "forecast.likelihood_matches=100"]
    model = TrialModel.from_scenario(load_scenario("base", settings))
    _, predictive = forecast_models(model, _long_stable(15, as_of), as_of)
    assert predictive.start is not None
    posterior = predictive.start.orr_posterior
    assert isinstance(posterior, OrrPosterior) and posterior.patients == 15
    assert posterior.mean() < 0.05 < 0.15 < BetaMixture.beta(0.5, 0.5).mean(model.orr_ceiling)
    settled_only = forecast_model(
        model, dataclasses.replace(predictive.start, orr_posterior=BetaMixture.beta(0.5, 0.5))
    )
    new, old = (run(m, replicates=400, seed=5, progress=False).summary.power for m in (predictive, settled_only))
    assert old.value - new.value > 4 * math.hypot(old.mcse, new.mcse)
    assert new.value < 0.05
