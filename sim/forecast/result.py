"""Run a forecast: the trial from its as-of date on, under the scenario's ORR and under the ORR's posterior.

Runs of the same engine from the same state and the same seed (:data:`RUNS`): the *conditional*
run keeps the scenario's ORR (conditional power, and every timeline figure), the *predictive* run
draws each replicate's ORR from its posterior given every patient's status (predictive probability
of success), the *sceptical* run does so under the sceptical prior, and the *rate_sensitivity* run
repeats the conditional one with the sites' other rate prior.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.summary import QUANTILES
from ..model.trial_model import TrialModel
from ..model.trial_state import TrialState
from ..runs.dispatch import Dispatch
from ..runs.runner import ProgressBar, RunResult, run_many
from ..runs.settings import RunSettings, settings_with
from ..scenario.model import Scenario
from ..stats.beta_mixture import BetaMixture
from ..stats.mcse import Estimate, quantile_mcse
from .hazards import HazardPosterior, hazard_document
from .observed import ObservedTrial
from .orr_posterior import OrrPosterior
from .pfs_posterior import PfsPosterior, pfs_document, pfs_notes
from .posterior import SitePosterior
from .screening import ScreeningCounts
from .state import (
    KnownRateWarning,
    OrrPrior,
    forecast_model,
    orr_evidence,
    orr_prior,
    predictive_state,
    sceptical_prior,
    site_posteriors,
    start_state,
    with_prior,
    with_rates,
)

__all__ = ["Forecast", "conditional_model", "date_quantile", "forecast", "forecast_document", "forecast_models"]


@dataclass(frozen=True)
class Forecast:
    """A finished forecast: its runs, the sites' posteriors and what the data were.

    ``looks_held`` gives each interim look already held as (patients, responders); ``pfs`` the joint
    posterior of the ORR and the PFS hazard ratio when the forecast learns the PFS;
    ``rate_sensitivity`` is the conditional run again with the sites' other rate prior
    (``rate_sensitivity_sites``): vague when the forecast's is planned, planned when it is vague.
    """

    as_of: dt.date
    observed: ObservedTrial
    sites: tuple[SitePosterior, ...]
    conditional: RunResult
    predictive: RunResult
    orr_posterior: BetaMixture | OrrPosterior
    orr_evidence: tuple[int, int]
    prior: OrrPrior
    sceptical: RunResult
    sceptical_prior: OrrPrior
    sceptical_posterior: BetaMixture | OrrPosterior
    orr_ceiling: float = 1.0
    notes: tuple[str, ...] = ()
    screening: ScreeningCounts | None = None
    screen_failure_posterior: tuple[float, float] | None = None
    looks_held: tuple[tuple[int, int], ...] = ()
    rate_sensitivity: RunResult | None = None
    rate_sensitivity_sites: tuple[SitePosterior, ...] = ()
    hazards: HazardPosterior | None = None
    pfs: PfsPosterior | None = None

    @property
    def scenario(self) -> Scenario:
        """The scenario forecast."""
        return self.conditional.scenario

    @property
    def p_enrollment_complete_by_close(self) -> Estimate:
        """P(the enrollment target is met by recruitment close) over every future, a stop at a look counting as not.

        From the conditional run: the summary's ``target_reached``, by the date the target was met.
        """
        return self.conditional.summary.target_reached

    @property
    def conditional_power(self) -> Estimate:
        """P(success) under the scenario's ORR, given the trial so far."""
        return self.conditional.summary.power

    @property
    def predictive_probability(self) -> Estimate:
        """P(success) averaged over the ORR's posterior, given the trial so far."""
        return self.predictive.summary.power

    @property
    def sceptical_predictive_probability(self) -> Estimate:
        """The predictive probability under the sceptical prior centred on p0 (the sensitivity row)."""
        return self.sceptical.summary.power

    def date_quantiles(self, column: str, run: RunResult | None = None) -> dict[float, tuple[dt.date | None, float]]:
        """Quantiles of a date column of ``run`` (the conditional run by default; None: not reached), MCSE in days."""
        origin = self.scenario.trial.study_start
        dates = pd.to_datetime((self.conditional if run is None else run).replicates[column])
        days = ((dates - pd.Timestamp(origin)).dt.days).to_numpy(dtype=float)
        out = {}
        for q in QUANTILES:
            value, mcse = date_quantile(days, q)
            out[q] = (None if math.isnan(value) else origin + dt.timedelta(days=int(value)), mcse)
        return out


def _estimate(e: Estimate) -> dict[str, float | int | None]:
    """An estimate as JSON: value, MCSE and the replicates behind it (None for NaN)."""
    return {
        "estimate": None if math.isnan(e.value) else e.value,
        "mcse": None if math.isnan(e.mcse) else e.mcse,
        "n": e.n,
    }


def forecast_document(f: Forecast) -> dict[str, Any]:
    """The forecast's figures as JSON-ready data (``trialsim forecast --json`` and ``forecast.json``)."""

    def dates(column: str) -> dict[str, Any]:
        quantiles = f.date_quantiles(column)
        out: dict[str, Any] = {
            f"q{round(q * 100)}": None if d is None else d.isoformat() for q, (d, _) in quantiles.items()
        }
        out["mcse_days"] = {f"q{round(q * 100)}": None if math.isnan(m) else m for q, (_, m) in quantiles.items()}
        return out

    responders, settled = f.orr_evidence
    return {
        "as_of": f.as_of.isoformat(),
        "observed": {
            "source": f.observed.source,
            "n_enrolled": f.observed.n_enrolled,
            "sample_size": f.scenario.trial.sample_size,
            "outcomes_known": f.observed.outcomes_known,
            "confirmed_responders": responders,
            "settled_non_responders": settled,
        },
        "replicates": f.conditional.summary.replicates,
        "seed": f.conditional.seed,
        "engine": f.conditional.engine,
        "p_enrollment_complete_by_close": _estimate(f.p_enrollment_complete_by_close),
        "enrollment_complete_date": dates("enrollment_complete_date"),
        "primary_cutoff_date": dates("primary_cutoff_date"),
        "final_cutoff_date": dates("final_cutoff_date"),
        "conditional_power": _estimate(f.conditional_power),
        "predictive_probability": _estimate(f.predictive_probability),
        "predictive_probability_sceptical": _estimate(f.sceptical_predictive_probability),
        "assumed_orr": f.scenario.efficacy.orr,
        "orr_prior": {"source": f.prior.source, "law": f.prior.law.describe()},
        "orr_posterior": _orr_document(f.orr_posterior, f.orr_ceiling),
        "sceptical_prior": {"source": f.sceptical_prior.source, "law": f.sceptical_prior.law.describe()},
        "sceptical_posterior": _orr_document(f.sceptical_posterior, f.orr_ceiling),
        "rate_sensitivity": _rate_sensitivity_document(f),
        "hazards": None if f.hazards is None else hazard_document(f.hazards),
        "pfs": None if f.pfs is None else pfs_document(f.pfs, f.prior.law),
        "sites": [
            {
                "name": s.name,
                "enrolled": s.enrolled,
                "rate_prior": s.prior,
                "posterior_rate_per_month": {
                    "mean": s.rate_per_month(),
                    "q05": s.rate_per_month(0.05),
                    "q95": s.rate_per_month(0.95),
                },
            }
            for s in f.sites
        ],
        "screening": _screening_document(f),
        "interim_looks_held": [
            {"look": i + 1, "patients": n, "responders": k} for i, (n, k) in enumerate(f.looks_held)
        ],
        "notes": list(f.notes),
    }


def _rate_sensitivity_document(f: Forecast) -> dict[str, Any] | None:
    """The enrollment figures again under the sites' other rate prior (None when not run)."""
    run = f.rate_sensitivity
    if run is None:
        return None
    quantiles = f.date_quantiles("enrollment_complete_date", run)
    return {
        "rate_prior": [s.prior for s in f.rate_sensitivity_sites],
        "p_enrollment_complete_by_close": _estimate(run.summary.target_reached),
        "enrollment_complete_date": {
            **{f"q{round(q * 100)}": None if d is None else d.isoformat() for q, (d, _) in quantiles.items()},
            "mcse_days": {f"q{round(q * 100)}": None if math.isnan(m) else m for q, (_, m) in quantiles.items()},
        },
        "sites": [{"name": s.name, "mean_rate_per_month": s.rate_per_month()} for s in f.rate_sensitivity_sites],
    }


def _orr_document(law: BetaMixture | OrrPosterior, ceiling: float) -> dict[str, Any]:
    """The ORR's posterior: in words, its mean and 90% interval, the prior, and the patients in its likelihood."""
    prior = law.prior if isinstance(law, OrrPosterior) else law
    if isinstance(law, OrrPosterior):
        mean, q05, q95, patients = law.mean(), law.quantile(0.05), law.quantile(0.95), law.patients
    else:
        mean, q05, q95, patients = law.mean(ceiling), law.quantile(0.05, ceiling), law.quantile(0.95, ceiling), 0
    return {
        "law": law.describe(),
        "mean": mean,
        "q05": q05,
        "q95": q95,
        "patients_in_likelihood": patients,
        "likelihood_error": law.likelihood_error() if isinstance(law, OrrPosterior) else None,
        "prior": {"law": prior.describe(), "weights": list(prior.weights), "a": list(prior.a), "b": list(prior.b)},
    }


def _screening_document(f: Forecast) -> dict[str, Any] | None:
    """The screening counts given and the screen-failure posterior (None without counts)."""
    if f.screening is None or f.screen_failure_posterior is None:
        return None
    a, b = f.screen_failure_posterior
    enrolled = {name: sum(p.site == name for p in f.observed.patients) for name in f.screening.screened}
    return {
        "sites": [
            {
                "name": name,
                "screened": f.screening.screened[name],
                "screen_failed": f.screening.failed[name],
                "in_screening": f.screening.pending(name, enrolled[name]),
            }
            for name in f.screening.screened
        ],
        "screen_failure_posterior": {"a": a, "b": b, "mean": a / (a + b)},
    }


def date_quantile(days: np.ndarray, q: float) -> tuple[float, float]:
    """The ``q`` quantile of days where NaN means "never" (after every finite day), with its bootstrap MCSE.

    NaN when the quantile falls among the "never" replicates. The order statistic (inverted CDF)
    keeps the answer a day that some replicate reached.
    """
    x = np.where(np.isnan(days), np.inf, days)
    x.sort()
    value = float(np.quantile(x, q, method="inverted_cdf"))
    if not math.isfinite(value):
        return math.nan, math.nan
    finite = np.where(np.isfinite(x), x, x[np.isfinite(x)].max() + 1.0)
    return value, quantile_mcse(finite, q)


RUNS = ("conditional", "predictive", "sceptical", "rate_sensitivity")
"""The forecast's runs: the scenario's ORR, the ORR's posterior, its posterior under the sceptical prior, and the
scenario's ORR with the other prior of the sites' rates (vague for planned, planned for vague)."""


def _runs(models: list[TrialModel], settings: RunSettings) -> list[RunResult]:
    """The runs of :data:`RUNS`, dispatched together (checkpoints in subfolders named after them)."""
    root = settings.checkpoint_dir
    folders = [None] * len(RUNS) if root is None else [root / n for n in RUNS]
    with ProgressBar(len(RUNS), settings, "forecast") as bar:
        done = dict(run_many(models, settings.without_checkpoints(), folders, bar))
    return [done[i] for i in range(len(RUNS))]


def _law(state: TrialState) -> BetaMixture | OrrPosterior:
    """The ORR law a predictive state draws from."""
    law = state.orr_posterior
    assert isinstance(law, BetaMixture | OrrPosterior)
    return law


def conditional_model(
    model: TrialModel,
    observed: ObservedTrial,
    as_of: dt.date,
    vague_rate_prior: bool = False,
    screening: ScreeningCounts | None = None,
    looks: Sequence[int] = (),
) -> TrialModel:
    """The conditional model of a forecast alone (no ORR posterior to compute): the scenario's ORR."""
    state = start_state(model, observed, as_of, vague_rate_prior=vague_rate_prior, screening=screening, looks=looks)
    return forecast_model(model, state)


def forecast_models(
    model: TrialModel,
    observed: ObservedTrial,
    as_of: dt.date,
    vague_rate_prior: bool = False,
    screening: ScreeningCounts | None = None,
    looks: Sequence[int] = (),
) -> tuple[TrialModel, TrialModel]:
    """The conditional and the predictive models of a forecast, from one start state."""
    state = start_state(model, observed, as_of, vague_rate_prior=vague_rate_prior, screening=screening, looks=looks)
    return forecast_model(model, state), forecast_model(model, predictive_state(model, state))


def forecast(
    scenario: Scenario | TrialModel,
    observed: ObservedTrial,
    as_of: dt.date,
    *,
    vague_rate_prior: bool = False,
    screening: ScreeningCounts | None = None,
    looks: Sequence[int] = (),
    settings: RunSettings | None = None,
    **changes: Any,
) -> Forecast:
    """Forecast the trial from ``as_of`` with the observed patients, run as ``settings`` (amended by ``changes``) say.

    The runs' chunks go to the workers as one stream, under one progress bar (``progress``: None
    shows it on a terminal only).

    ``scenario`` is a validated scenario or the trial model already built from one.

    ``screening`` gives the patients screened and failed per site (see :func:`start_state`);
    ``looks`` the responders each interim look already held counted (:mod:`.looks`).
    ``settings.checkpoint_dir`` keeps the runs' chunks in its ``conditional``, ``predictive`` and
    ``sceptical`` subfolders, so an interrupted forecast resumes.
    """
    model = scenario if isinstance(scenario, TrialModel) else TrialModel.from_scenario(scenario)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KnownRateWarning)
        sites = site_posteriors(model, observed, as_of, vague_rate_prior, screening)
    notes = tuple(str(w.message) for w in caught)
    if not observed.outcomes_known:
        notes += (
            "the observed file gives no outcomes: the forecast conditions on enrollment alone, and its "
            "conditional power and predictive probability ignore the patients' outcomes so far",
        )
    settings = settings_with(settings, changes)
    prior, sceptical = orr_prior(model), sceptical_prior(model)
    with Dispatch(settings.n_jobs, settings.backend, settings.scheduler) as likelihood:  # on the runs' workers
        state = start_state(
            model,
            observed,
            as_of,
            vague_rate_prior=vague_rate_prior,
            screening=screening,
            looks=looks,
            spread=likelihood.map,
        )
        predictive = predictive_state(model, state, prior, likelihood.map)
    pfs = state.pfs_hazard if isinstance(state.pfs_hazard, PfsPosterior) else None
    if pfs is not None:
        notes += pfs_notes(pfs, prior.law)
    doubting = with_prior(predictive, sceptical)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KnownRateWarning)
        other_sites = site_posteriors(model, observed, as_of, not vague_rate_prior, screening)
    starts = [state, predictive, doubting, with_rates(state, other_sites)]
    runs = _runs([forecast_model(model, s) for s in starts], settings)
    return Forecast(
        as_of=as_of,
        observed=observed,
        sites=tuple(sites),
        conditional=runs[0],
        predictive=runs[1],
        orr_posterior=_law(predictive),
        orr_evidence=orr_evidence(observed),
        prior=prior,
        sceptical=runs[2],
        sceptical_prior=sceptical,
        sceptical_posterior=_law(doubting),
        orr_ceiling=state.orr_ceiling,
        notes=notes + tuple(note for r in runs for note in r.notes),
        screening=screening,
        screen_failure_posterior=state.screen_failure,
        looks_held=tuple(zip(model.rule.look_sizes, state.looks_held)),
        rate_sensitivity=runs[3],
        hazards=state.hazards if isinstance(state.hazards, HazardPosterior) else None,
        rate_sensitivity_sites=tuple(other_sites),
        pfs=pfs,
    )
