"""The PFS learned with the ORR (``forecast.learn_pfs``): the grid's likelihood and the posterior against closed forms.

In a scenario without AEs, dropout, scan windows or deaths before progression, and with a very
long survival after progression, a patient's status at ORR 0 depends on the PFS alone. With
every hazard multiplied by ``h``, ``S_h = S ** h``:

* still progression-free at scan ``m`` (on the as-of date): ``L(h) = S(t_m) ** h``;
* progressed at scan ``m``: ``L(h) = S(t_{m-1}) ** h - S(t_m) ** h``.

The posterior of ``h`` given ORR 0 is then the Gamma(k, k) prior times their product, by quadrature.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from sim.forecast import ObservedPatient, ObservedTrial
from sim.forecast.orr_posterior import NODES, OrrPosterior
from sim.forecast.pfs_posterior import (
    PfsError,
    PfsPosterior,
    grid_models,
    hazard_nodes,
    pfs_posterior,
    prior_shape,
)
from sim.forecast.result import conditional_model
from sim.model.journey import END_REASONS
from sim.model.pfs_link import ProportionalHazards
from sim.model.recist import Response
from sim.model.status_likelihood import status_probabilities
from sim.model.trial_model import TrialModel, orr_ceiling
from sim.model.trial_state import KnownOutcomes, RatePosterior, TrialState
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.stats.beta_mixture import BetaMixture
from sim.units import DAYS_PER_MONTH

PFS_ONLY = (
    "safety.ae_probability_by_cycle=[0.0]",
    "safety.withdrawal_per_month=0.0",
    "safety.loss_to_follow_up_per_month=0.0",
    "schedule.scan_window_days=0",
    "efficacy.death_without_progression_share=0.0",
    "efficacy.os_median_months=600",
    "forecast.learn_pfs=true",
)
AS_OF_DAY = 1000.0
"""The end of the as-of date: every patient's last scan falls on that date (day 999)."""

# (scans done, progressed at the last): three patients progress early, five are progression-free up to six scans
PATIENTS = ((1, True), (2, True), (1, True), (4, False), (6, False), (3, False), (5, False), (2, False))


def _model() -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", list(PFS_ONLY)))


def _outcomes() -> tuple[KnownOutcomes, np.ndarray]:
    """The patients' statuses and first doses: each patient's last scan on the as-of date, scans 42 days apart."""
    scans = np.array([m for m, _ in PATIENTS])
    progressed = np.array([p for _, p in PATIENTS])
    dose = AS_OF_DAY - 1.0 - 42.0 * scans
    best = np.where(progressed & (scans == 1), Response.PD, Response.SD).astype(np.int8)
    known = KnownOutcomes(
        best,
        np.zeros(len(PATIENTS), bool),
        progressed,
        np.zeros(len(PATIENTS), bool),
        np.where(progressed, END_REASONS.index("progression"), -1).astype(np.int8),
        last_scan_day=AS_OF_DAY - 1.0 + np.zeros(len(PATIENTS)),
        progression_day=np.where(progressed, AS_OF_DAY - 1.0, np.nan),
    )
    return known, dose


def _exact(model: TrialModel, h: float | np.ndarray) -> np.ndarray:
    """Each patient's L(h) at ORR 0 (module docstring), one row per patient."""
    pfs = model.patients.efficacy.pfs

    def sf(scans: int) -> np.ndarray:
        return np.asarray(pfs.sf(42.0 * scans / DAYS_PER_MONTH)) ** np.asarray(h)

    return np.array([sf(m - 1) - sf(m) if progressed else sf(m) for m, progressed in PATIENTS])


def _state(model: TrialModel) -> TrialState:
    known, dose = _outcomes()
    n = dose.shape[0]
    return TrialState(
        as_of_day=AS_OF_DAY,
        resume_day=AS_OF_DAY,
        patient_id=tuple(f"P{i}" for i in range(n)),
        site=np.zeros(n, dtype=np.int64),
        enrollment_day=dose - 3.0,
        first_dose_day=dose,
        outcomes=known,
        rates=RatePosterior(np.ones(1), np.ones(1)),
        enrollment_complete_day=math.nan,
    )


def test_the_grid_likelihood_at_orr_0_is_the_closed_form_at_every_ratio() -> None:
    """Each ratio's estimate at ORR 0 within 4 binomial standard errors of S ** h (differences)."""
    model = _model()
    hazards = hazard_nodes(model)
    known, dose = _outcomes()
    estimate = status_probabilities(grid_models(model, hazards), known, dose, AS_OF_DAY, 11, target=200, rows=hazards.size)
    at_zero = estimate.estimate().reshape(len(PATIENTS), hazards.size, NODES)[:, :, 0]
    draws = estimate.draws.sum(axis=0)[:, None]
    exact = _exact(model, hazards)
    se = np.sqrt(exact * (1.0 - exact) / draws)
    assert np.all(np.abs(at_zero - exact) <= 4.0 * se + 1e-12)
    assert exact[0, 0] < exact[0, -1] and exact[4, 0] > exact[4, -1]  # early progression: high h; late: low h


def _closed_form_law(model: TrialModel) -> PfsPosterior:
    """The posterior with the closed-form likelihood at its nodes (no Monte Carlo error) at every ORR."""
    hazards = hazard_nodes(model)
    ceilings = np.array([orr_ceiling(model.scenario, float(h)) for h in hazards])
    at_zero = _exact(model, hazards)
    likelihood = np.repeat(at_zero[:, :, None], NODES, axis=2)
    return PfsPosterior(model.scenario, prior_shape(model), hazards, ceilings, likelihood)


def test_the_ratio_given_orr_0_is_bayes_rule_by_quadrature() -> None:
    """Draws of h given ORR 0: mean within 4 SE of the quadrature, and a KS test against its distribution."""
    model = _model()
    law = _closed_form_law(model)
    k = law.shape
    low, high = float(law.hazards[0]), float(law.hazards[-1])

    def density(h: float) -> float:
        return float(stats.gamma.pdf(h, k, scale=1.0 / k) * np.prod(_exact(model, h)))

    norm = integrate.quad(density, low, high, limit=400)[0]
    mean = integrate.quad(lambda h: h * density(h), low, high, limit=400)[0] / norm
    rng = np.random.default_rng(5)
    at_zero = model.with_orr(0.0)
    draws = np.array([law.draw(rng, at_zero).efficacy.pfs.hazard_ratio for _ in range(3000)])
    assert abs(draws.mean() - mean) <= 4.0 * draws.std() / math.sqrt(draws.size)

    def cdf(x: np.ndarray) -> np.ndarray:
        return np.array([integrate.quad(density, low, min(max(v, low), high), limit=400)[0] / norm for v in x])

    assert stats.kstest(draws, cdf).pvalue > 1e-3
    assert mean < 0.85  # five patients progression-free for two to six scans: a longer PFS than planned


def test_the_orr_margin_sums_the_grid_over_the_ratios_prior() -> None:
    """The ORR's margin is an OrrPosterior on the largest ceiling, with the patients counted, whatever its prior."""
    model = _model()
    law = _closed_form_law(model)
    margin = law.orr_law(BetaMixture.beta(1.5, 8.5))
    assert isinstance(margin, OrrPosterior) and margin.patients == len(PATIENTS)
    assert margin.ceiling == pytest.approx(float(law.ceilings.max()))
    # the likelihood does not depend on the ORR here: the margin at p sums prior(h) L(h) over the ratios carrying p
    mid = np.sqrt(law.hazard_edges[1:] * law.hazard_edges[:-1])
    carried = margin.nodes[None, :] <= law.cell_ceilings[:, None]
    expected = (law.hazard_masses * np.prod(_exact(model, mid), axis=0)) @ carried
    got, expected = margin.likelihood[0] / margin.likelihood[0].max(), expected / expected.max()
    # the spline across ratios is within 1% wherever the margin is at least a hundredth of its peak
    assert np.allclose(got, expected, rtol=0.01, atol=0.01)


def test_pfs_posterior_estimates_the_grid_and_its_halves() -> None:
    """From a state: every patient in the likelihood, two halves, and the ratio's summary agrees with the draws."""
    model = _model()
    law = pfs_posterior(model, _state(model), target=100)
    assert law.patients == len(PATIENTS) and law.halves is not None
    summary = law.summary(BetaMixture.beta(1.5, 8.5))
    assert summary.q05 < summary.mean < summary.q95 and summary.edge_mass < 0.01
    assert summary.median_months[0] > model.patients.efficacy.pfs.median
    error = law.likelihood_error(BetaMixture.beta(1.5, 8.5))
    assert error is not None and error["mean"] < 0.1


def _early_progressions(n: int, as_of: dt.date) -> ObservedTrial:
    """``n`` patients dosed about four months before ``as_of``, each progressed at the first scan."""
    patients = []
    for i in range(n):
        dose = as_of - dt.timedelta(days=120 + 2 * i)
        scan = dose + dt.timedelta(days=42)
        patients.append(
            ObservedPatient(
                row=i + 1,
                patient_id=f"PD{i:02d}",
                site="Lead centre",
                enrollment_date=dose - dt.timedelta(days=3),
                first_dose_date=dose,
                best_response="PD",
                last_scan_date=scan,
                progression_date=scan,
                treatment_end_date=scan,
                treatment_end_reason="progression",
            )
        )
    return ObservedTrial(tuple(patients), outcomes_known=True)


def test_early_progressions_shorten_the_forecasts_survival() -> None:
    """Eight progressions at the first scan: the learned PFS hazard ratio is above 1, and the conditional run's
    median OS (the patients still to come progress sooner, and so die sooner) falls below the one that keeps the
    scenario's PFS, by more than 4 SE of the difference."""
    as_of = dt.date(2026, 11, 15)
    observed = _early_progressions(8, as_of)
    medians, states = [], []
    for learn in ("false", "true"):
        model = TrialModel.from_scenario(
            load_scenario("base", ["forecast.likelihood_matches=50", f"forecast.learn_pfs={learn}"])
        )
        conditional = conditional_model(model, observed, as_of)
        medians.append(run(conditional, replicates=200, seed=4, progress=False).summary.median_os)
        states.append(conditional.start)
    kept, learned = medians
    assert kept.value - learned.value > 4.0 * math.hypot(kept.mcse, learned.mcse)
    law = states[1].pfs_hazard if states[1] is not None else None
    assert isinstance(law, PfsPosterior) and law.summary(BetaMixture.beta(1.5, 8.5)).mean > 1.3


def test_a_drawn_ratio_multiplies_every_pfs_hazard() -> None:
    """The replicate's PFS is the scenario's with its hazards times h; its ceiling carries the replicate's ORR."""
    model = _model()
    law = _closed_form_law(model)
    patients = law.draw(np.random.default_rng(2), model.with_orr(0.3))
    pfs = patients.efficacy.pfs
    assert isinstance(pfs, ProportionalHazards)
    assert orr_ceiling(model.scenario, pfs.hazard_ratio) >= 0.3
    assert float(pfs.sf(3.0)) == pytest.approx(float(model.patients.efficacy.pfs.sf(3.0)) ** pfs.hazard_ratio)
    assert dataclasses.replace(patients, efficacy=model.patients.efficacy) == dataclasses.replace(
        model.with_orr(0.3), efficacy=model.patients.efficacy
    )


def test_an_orr_no_ratio_carries_is_refused_naming_the_fields() -> None:
    """An ORR above every ceiling in the range has no PFS to draw: a PfsError names forecast.learn_pfs and the ORR."""
    model = _model()
    law = _closed_form_law(model)
    with pytest.raises(PfsError, match=r"forecast\.learn_pfs: no PFS hazard ratio .* carries an ORR of 0\.9500"):
        law.draw(np.random.default_rng(1), model.with_orr(0.95))
