"""The forecast's ORR prior: which one is used and said, the sceptical one beside it, and assurance before any data."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.forecast import ObservedTrial
from sim.forecast.result import forecast, forecast_document
from sim.forecast.state import forecast_model, orr_prior, predictive_state, sceptical_prior, start_state, with_prior
from sim.model.trial_model import TrialModel
from sim.reports import forecast_text
from sim.runs.runner import run
from sim.scenario import ScenarioError, load_scenario
from sim.stats.beta_mixture import BetaMixture

NOTHING = ObservedTrial((), outcomes_known=True)
BEFORE_OPENING = dt.date(2025, 11, 14)


def _model(*overrides: str) -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", list(overrides)))


@pytest.mark.parametrize(
    ("overrides", "law", "source"),
    [
        ((), BetaMixture.beta(1.5, 8.5), "default: centred on efficacy.orr (0.15), worth forecast.prior_patients (10)"),
        (("forecast.prior_patients=20",), BetaMixture.beta(3.0, 17.0), "worth forecast.prior_patients (20)"),
        (("forecast.prior_a=0.5", "forecast.prior_b=0.5"), BetaMixture.beta(0.5, 0.5), "forecast.prior_a, prior_b"),
        (("efficacy.orr_prior.beta=[3, 12]",), BetaMixture.beta(3, 12), "efficacy.orr_prior"),
    ],
)
def test_the_prior_used_and_where_it_comes_from(overrides, law, source) -> None:
    prior = orr_prior(_model(*overrides))
    assert prior.law == law and source in prior.source


def test_the_sceptical_prior_is_centred_on_p0() -> None:
    sceptical = sceptical_prior(_model("analysis.p0=0.2", "forecast.prior_patients=15"))
    assert sceptical.law == BetaMixture.beta(3.0, 12.0) and "analysis.p0 (0.2)" in sceptical.source


def test_a_beta_prior_needs_both_shapes() -> None:
    with pytest.raises(ScenarioError, match="forecast.prior_a and forecast.prior_b go together"):
        load_scenario("base", ["forecast.prior_a=2"])


@pytest.mark.parametrize("prior", ["forecast", "sceptical"])
def test_before_any_data_the_predictive_probability_is_the_assurance_of_its_prior(prior) -> None:
    """Nothing observed, before opening: each prior's predictive run is the run that gives its assurance.

    The assurance run is ``trialsim run`` (and ``trialsim size``) with the same Beta as
    ``efficacy.orr_prior``; the two draw the same replicates, so the estimates are equal, not only within MCSE.
    """
    model = _model()
    state = predictive_state(model, start_state(model, NOTHING, BEFORE_OPENING))
    law = orr_prior(model) if prior == "forecast" else sceptical_prior(model)
    predictive = forecast_model(model, with_prior(state, law))
    a, b = law.law.a[0], law.law.b[0]
    assurance_model = _model(f"efficacy.orr_prior.beta=[{a}, {b}]")
    assurance = run(assurance_model, replicates=200, seed=8, progress=False)
    forecasted = run(predictive, replicates=200, seed=8, progress=False)
    pd.testing.assert_series_equal(assurance.replicates["true_orr"], forecasted.replicates["true_orr"])
    assert forecasted.summary.power == assurance.summary.decisions.assurance


def test_the_output_says_which_prior_and_shows_the_sceptical_row() -> None:
    result = forecast(_model(), NOTHING, BEFORE_OPENING, replicates=30, seed=1, progress=False)
    document = forecast_document(result)
    assert document["orr_prior"] == {
        "source": "default: centred on efficacy.orr (0.15), worth forecast.prior_patients (10) patients",
        "law": "Beta(1.5, 8.5)",
    }
    assert document["sceptical_prior"]["law"] == "Beta(1, 9)"
    assert set(document["predictive_probability_sceptical"]) == {"estimate", "mcse", "n"}
    text = forecast_text(result)
    assert "ORR prior Beta(1.5, 8.5) (default: centred on efficacy.orr (0.15)" in text
    assert "under the sceptical prior Beta(1, 9)" in text
