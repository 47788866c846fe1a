"""The sites' rate prior: an explicit weight, and the forecast's sensitivity row under the other prior (vague or planned)."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
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


# Two sites at constant rates, no screening: site B opens later and enrolls more slowly than planned.
TWO_SITES = (
    "recruitment.periods=[]",
    "recruitment.screen_failure_probability=0.0",
    "recruitment.screening_days=[0, 0]",
    'recruitment.sites=[{name = "A", activation = 2025-11-15, screened_per_month = 1.5, ramp_up_months = 0.0}, '
    '{name = "B", activation = 2026-03-01, screened_per_month = 1.5, ramp_up_months = 0.0}]',
    "forecast.pool_sites=true",
)


def _two_sites(counts: dict[str, int]):
    from sim.forecast import ObservedPatient, ObservedTrial

    model = TrialModel.from_scenario(load_scenario("base", list(TWO_SITES)))
    patients, row = [], 0
    for site, n in counts.items():
        first = {"A": dt.date(2025, 12, 1), "B": dt.date(2026, 3, 10)}[site]
        for i in range(n):
            row += 1
            day = first + dt.timedelta(days=12 * i)
            patients.append(ObservedPatient(row, f"{site}{i}", site, day, day + dt.timedelta(days=3)))
    patients.sort(key=lambda p: p.enrollment_date)
    return model, ObservedTrial(tuple(patients), outcomes_known=False)


def test_pooled_rates_maximise_the_negative_binomial_likelihood_and_update_each_site() -> None:
    """(a, b) beat every point of a grid of the NB log-likelihood; each site's posterior is Gamma(a + n, b + E)."""
    model, observed = _two_sites({"A": 22, "B": 4})
    sites = site_posteriors(model, observed, AS_OF, vague=False)
    a, b = sites[0].pooled
    counts = np.array([22, 4])
    exposures = np.array([s.exposure for s in sites])

    def loglik(a: float, b: float) -> float:
        return float(np.sum(stats.nbinom.logpmf(counts, a, b / (b + exposures))))

    grid = [loglik(x, y) for x in np.geomspace(0.05, 500, 60) for y in np.geomspace(0.01, 500, 60)]
    assert loglik(a, b) >= max(grid) - 1e-6
    for site, n in zip(sites, counts):
        assert site.shape == pytest.approx(a + n) and site.rate == pytest.approx(b + site.exposure)
        assert site.prior.startswith("pooled across sites: Gamma(")
    # the slow site is pulled towards the pooled mean, the fast one too
    raw = counts / exposures
    pooled_mean = a / b
    assert abs(sites[1].shape / sites[1].rate - pooled_mean) < abs(raw[1] - pooled_mean)


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_pooled_forecast_is_the_sum_of_the_sites_negative_binomials(engine: str) -> None:
    """P(complete by close): the convolution of each site's gamma-Poisson future enrollments, within 4 MCSE."""
    from sim.forecast.result import conditional_model
    from sim.runs.runner import run

    model, observed = _two_sites({"A": 22, "B": 4})
    sites = site_posteriors(model, observed, AS_OF, vague=False)
    as_of_day = (AS_OF - model.scenario.trial.study_start).days + 1.0
    mean = 1.5 / DAYS_PER_MONTH * (model.close_day - as_of_day)  # each site's planned enrollments still to come
    still = model.scenario.trial.sample_size - observed.n_enrolled
    k = np.arange(still)
    pmfs = [stats.nbinom.pmf(k, s.shape, s.rate / (s.rate + mean)) for s in sites]
    expected = 1.0 - float(np.convolve(pmfs[0], pmfs[1])[:still].sum())
    table = run(conditional_model(model, observed, AS_OF), replicates=2000, seed=21, engine=engine, progress=False)
    done = ~table.replicates["closed_short"].to_numpy(dtype=bool)
    assert abs(done.mean() - expected) <= 4 * math.sqrt(expected * (1 - expected) / done.size)


def test_pooling_needs_two_sites_enrolling() -> None:
    from sim.forecast import ForecastError

    model = _model("forecast.pool_sites=true")
    with pytest.raises(ForecastError, match="forecast.pool_sites needs at least two sites"):
        site_posteriors(model, _enrolled(20), AS_OF, vague=False)


@pytest.mark.parametrize("counts", [{"A": 0, "B": 0}, {"A": 3, "B": 1}])
def test_too_few_enrollments_to_pool_keep_the_planned_prior_and_say_so(counts) -> None:
    """Counts (0, 0) once gave a = 0.004, b = 3444 (a degenerate maximum): below 5 enrollments the planned prior stays."""
    model, observed = _two_sites(counts)
    sites = site_posteriors(model, observed, AS_OF, vague=False)
    weight = sites[0].prior_weight
    for site, n in zip(sites, counts.values()):
        assert site.pooled is None
        assert site.shape == pytest.approx(weight + n) and site.rate == pytest.approx(weight + site.exposure)
        assert f"not pooled, {sum(counts.values())} enrollments in all are too few" in site.prior
        assert "forecast.pool_sites needs 5" in site.prior


def test_five_enrollments_are_pooled() -> None:
    model, observed = _two_sites({"A": 4, "B": 1})
    sites = site_posteriors(model, observed, AS_OF, vague=False)
    assert sites[0].pooled is not None and sites[0].prior.startswith("pooled across sites")


def test_a_failed_pooling_fit_is_refused_naming_the_field(monkeypatch) -> None:
    from scipy import optimize

    from sim.forecast import ForecastError

    real = optimize.minimize

    def failing(*args, **kwargs):
        result = real(*args, **kwargs)
        result.success, result.message = False, "ABNORMAL"
        return result

    monkeypatch.setattr(optimize, "minimize", failing)
    model, observed = _two_sites({"A": 22, "B": 4})
    with pytest.raises(ForecastError, match=r"forecast.pool_sites: the optimiser .* failed \(ABNORMAL\)"):
        site_posteriors(model, observed, AS_OF, vague=False)


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_a_site_still_to_open_opens_late_by_the_uniform_delay(engine: str) -> None:
    """Site B, planned for 2027-01-01, opens 0 to 180 days late: P(complete by close) is the average over the delay
    of the two sites' convolved negative binomials (B keeps its prior: it has no enrollment time yet)."""
    from sim.forecast.result import conditional_model
    from sim.runs.runner import run

    delay = 180
    overrides = [
        *TWO_SITES[:-1],
        "recruitment.sites.1.activation=2027-01-01",
        f"forecast.activation_delay_days={delay}",
    ]
    model = TrialModel.from_scenario(load_scenario("base", overrides))
    _, observed = _two_sites({"A": 10})
    sites = site_posteriors(model, observed, AS_OF, vague=False)
    assert sites[1].exposure == 0 and sites[1].shape == sites[1].rate == pytest.approx(1 / 0.3**2)  # base rate_cv
    study_start = model.scenario.trial.study_start
    as_of_day = (AS_OF - study_start).days + 1.0
    opens = (dt.date(2027, 1, 1) - study_start).days
    per_day = 1.5 / DAYS_PER_MONTH
    still = model.scenario.trial.sample_size - observed.n_enrolled
    k = np.arange(still)
    a, b = sites
    site_a = stats.nbinom.pmf(k, a.shape, a.rate / (a.rate + per_day * (model.close_day - as_of_day)))

    def complete(late: int) -> float:
        site_b = stats.nbinom.pmf(k, b.shape, b.rate / (b.rate + per_day * max(0.0, model.close_day - opens - late)))
        return 1.0 - float(np.convolve(site_a, site_b)[:still].sum())

    expected = float(np.mean([complete(late) for late in range(delay + 1)]))
    assert expected < complete(0) - 0.15  # the delay matters: 0.53 against 0.75 on the planned date
    table = run(conditional_model(model, observed, AS_OF), replicates=2000, seed=23, engine=engine, progress=False)
    done = ~table.replicates["closed_short"].to_numpy(dtype=bool)
    assert abs(done.mean() - expected) <= 4 * math.sqrt(expected * (1 - expected) / done.size)
