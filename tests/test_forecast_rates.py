"""The sites' rate prior: an explicit weight, and the forecast's sensitivity row under the other prior (vague or planned)."""

from __future__ import annotations

import math
import warnings

import pytest
from scipy import stats

from sim.forecast.result import forecast, forecast_document
from sim.forecast.state import KnownRateWarning, site_posteriors
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario
from sim.units import DAYS_PER_MONTH
from tests.test_forecast import AS_OF, SIMPLE, _enrolled


def _model(*overrides: str) -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", [*SIMPLE, *overrides]))


def _exposure(model: TrialModel) -> float:
    """The planned enrollments by the as-of date of the one constant-rate site (1.5 per month)."""
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    return 1.5 / DAYS_PER_MONTH * (as_of_day - model.open_day)


def test_an_explicit_weight_is_the_prior_in_enrollments_and_learns_even_with_rate_cv_0() -> None:
    model = _model("recruitment.rate_cv=0.0", "forecast.rate_prior_patients=5")
    with warnings.catch_warnings():
        warnings.simplefilter("error", KnownRateWarning)  # a weight given: the rate is not taken as known
        (site,) = site_posteriors(model, _enrolled(20), AS_OF, vague=False)
    assert site.shape == pytest.approx(5 + 20) and site.rate == pytest.approx(5 + _exposure(model), rel=1e-12)
    assert site.prior == "planned rate worth 5 enrollments"
    (default,) = site_posteriors(_model(), _enrolled(20), AS_OF, vague=False)
    assert default.prior_weight == pytest.approx(1 / 0.4**2)  # SIMPLE's rate_cv = 0.4


def test_the_sensitivity_row_is_the_negative_binomial_under_the_vague_prior() -> None:
    """P(complete by close) with the vague Gamma(0.5, 0) prior: Gamma(0.5 + n, E) posterior, the gamma-Poisson tail."""
    model = _model()
    n = 20
    result = forecast(model, _enrolled(n), AS_OF, replicates=1500, seed=12, progress=False)
    assert result.rate_sensitivity is not None and result.rate_sensitivity_sites[0].prior == "vague prior"
    shape, rate = 0.5 + n, _exposure(model)
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    mean = 1.5 / DAYS_PER_MONTH * (model.close_day - as_of_day)
    still = model.scenario.trial.sample_size - n
    expected = float(stats.nbinom.sf(still - 1, shape, rate / (rate + mean)))
    got = result.rate_sensitivity.summary.target_reached
    assert abs(got.value - expected) <= 4 * math.sqrt(expected * (1 - expected) / got.n)
    document = forecast_document(result)["rate_sensitivity"]
    assert document["rate_prior"] == ["vague prior"] and document["p_enrollment_complete_by_close"]["n"] == 1500
