"""Assurance: the probability of success averaged over a prior on the true ORR, against exact sums.

In the idealised trial (no dropout, every patient analysed, every response confirmed) each patient
is a confirmed responder with probability equal to the replicate's true ORR, so the simulated
assurance must equal the closed form of :mod:`sim.stats.assurance` within 4 MCSE; the closed form
itself is held to the beta-binomial tail and to numerical integration.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from sim.cli.simulate import vary_axis
from sim.forecast import ObservedTrial
from sim.forecast.result import forecast_models
from sim.model.trial_model import TrialModel
from sim.reports import summary_text
from sim.reports.figures import all_figures, assurance_figures
from sim.reports.figures.wording import percent_estimate
from sim.reports.story import scenario_sentences
from sim.runs.folder import read_run, write_run
from sim.runs.runner import run
from sim.runs.sweep import InputError, build_cells, oc_grid, run_grid
from sim.scenario import ScenarioError, load_scenario
from sim.stats.assurance import expected_success, simon_coefficients, single_stage_coefficients
from sim.stats.beta_mixture import BetaMixture
from sim.stats.proportions import critical_responders
from tests.helpers import IDEAL, SIMON_29

R = 4000
BETA = "efficacy.orr_prior={beta=[3, 12]}"
MIXTURE = "efficacy.orr_prior={mixture=[{weight=0.6, beta=[2, 18]}, {weight=0.4, responders=6, patients=20}]}"
LAWS = {
    BETA: BetaMixture.beta(3, 12),
    MIXTURE: BetaMixture.mixture([(0.6, BetaMixture.beta(2, 18)), (0.4, BetaMixture.beta(6.5, 14.5))]),
}


def _success_probability(p: float, log_coefficients: np.ndarray) -> float:
    n = log_coefficients.shape[0] - 1
    t = np.arange(n + 1)
    return float(np.sum(np.exp(log_coefficients) * p**t * (1 - p) ** (n - t)))


# --- the closed forms -------------------------------------------------------------------------


@pytest.mark.parametrize("n, r, a, b", [(35, 7, 3, 12), (20, 2, 0.5, 0.5), (60, 11, 30, 170), (3000, 450, 30, 170)])
def test_single_stage_assurance_is_the_beta_binomial_tail(n: int, r: int, a: float, b: float) -> None:
    exact = expected_success(single_stage_coefficients(n, r), BetaMixture.beta(a, b))
    # the bar for the exact path; sums of thousands of terms keep about 1e-11
    assert exact == pytest.approx(float(stats.betabinom.sf(r, n, a, b)), abs=1e-9)


def test_simon_assurance_is_the_sum_over_the_stage_one_outcome() -> None:
    """Against P(success | p) written as the stage-1 sum, integrated numerically over a truncated mixture."""
    law = LAWS[MIXTURE]
    coefficients = simon_coefficients(1, 10, 5, 29)
    for p in (0.05, 0.2, 0.4):
        direct = sum(stats.binom.pmf(x1, 10, p) * stats.binom.sf(5 - x1, 19, p) for x1 in range(2, 11))
        assert _success_probability(p, coefficients) == pytest.approx(direct, abs=1e-13)
    for ceiling, band in ((1.0, (0.0, 1.0)), (0.5, (0.0, 1.0)), (0.5, (0.25, 1.0)), (0.5, (0.0, 0.1))):

        def integrand(p: float, ceiling: float = ceiling) -> float:
            return _success_probability(p, coefficients) * float(law.pdf(p, ceiling))

        numeric = integrate.quad(integrand, band[0], min(band[1], ceiling), epsabs=1e-13, epsrel=1e-12)[0]
        assert expected_success(coefficients, law, ceiling, band) == pytest.approx(numeric, abs=1e-9)


def test_a_mixture_updates_as_bayes_rule_says() -> None:
    law = LAWS[MIXTURE]
    posterior = law.posterior(3, 9)
    grid = np.linspace(1e-6, 1 - 1e-6, 20001)
    unnormalised = law.pdf(grid) * grid**3 * (1 - grid) ** 9
    numeric = unnormalised / integrate.trapezoid(unnormalised, grid)
    assert np.max(np.abs(posterior.pdf(grid) - numeric)) < 1e-5 * np.max(numeric)
    assert sum(posterior.weights) == pytest.approx(1.0, abs=1e-12)


def test_one_beta_draws_as_the_forecast_always_has() -> None:
    """A single component is F^-1(u F(c)), bit for bit, so forecasts keep their seeded results."""
    u = np.random.default_rng(1).random(50)
    for a, b, c in ((2.5, 17.5, 0.51), (0.5, 0.5, 0.3), (40, 60, 0.9)):
        expected = [stats.beta.ppf(x * stats.beta.cdf(c, a, b), a, b) for x in u]
        assert [float(BetaMixture.beta(a, b).draw(x, c)) for x in u] == expected


def test_mixture_draws_follow_the_truncated_law() -> None:
    law, ceiling = LAWS[MIXTURE], 0.3
    draws = law.draw(np.random.default_rng(2).random(20000), ceiling)
    assert draws.max() <= ceiling
    for x in (0.05, 0.1, 0.2):
        share = float(np.mean(draws <= x))
        exact = float(law.cdf(x)) / law.mass_below(ceiling)
        assert abs(share - exact) <= 4 * math.sqrt(exact * (1 - exact) / draws.size)
    assert law.quantile(0.5, ceiling) == pytest.approx(float(np.median(draws)), abs=0.01)


# --- the simulation against them --------------------------------------------------------------


def _ideal_run(*overrides: str, engine: str = "des") -> tuple[TrialModel, pd.DataFrame, object]:
    model = TrialModel.from_scenario(load_scenario("base", [*IDEAL, "analysis.p1=0.25", *overrides]))
    result = run(model, replicates=R, seed=11, progress=False, engine=engine)
    assert result.engine == engine
    return model, result.replicates, result.summary


def _check_decisions(model: TrialModel, summary, coefficients: np.ndarray, law: BetaMixture) -> None:
    """Assurance and each decision figure within 4 MCSE of its exact sum."""
    a, c = model.scenario.analysis, model.orr_ceiling
    d = summary.decisions
    everything = np.log([math.comb(coefficients.shape[0] - 1, t) for t in range(coefficients.shape[0])])
    above_p1 = expected_success(everything, law, c, (a.p1, 1.0))
    pairs = [
        (d.assurance, expected_success(coefficients, law, c)),
        (d.positive_and_effective, expected_success(coefficients, law, c, (a.p1, 1.0))),
        (d.false_go, expected_success(coefficients, law, c, (0.0, a.p0))),
        (d.false_stop, above_p1 - expected_success(coefficients, law, c, (a.p1, 1.0))),
    ]
    for estimate, exact in pairs:
        assert abs(estimate.value - exact) <= 4 * max(estimate.mcse, math.sqrt(exact * (1 - exact) / R)), (
            estimate, exact
        )
    assert summary.power.value == d.assurance.value  # P(reject H0), now averaged over the prior


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["des", "vector"])
@pytest.mark.parametrize("prior", [BETA, MIXTURE], ids=["beta", "mixture"])
def test_single_stage_assurance_matches_the_exact_sum(prior: str, engine: str) -> None:
    model, table, summary = _ideal_run(prior, engine=engine)
    assert (table["n_analysed"] == 35).all()
    law = LAWS[prior]
    assert model.orr_prior == law
    r = critical_responders(35, model.scenario.analysis.p0, model.scenario.analysis.alpha)
    _check_decisions(model, summary, single_stage_coefficients(35, r - 1), law)
    # each replicate drew its true ORR from the truncated prior
    true_orr = table["true_orr"].to_numpy()
    mean = law.mean(model.orr_ceiling)
    assert abs(true_orr.mean() - mean) <= 4 * true_orr.std(ddof=1) / math.sqrt(R)
    assert true_orr.max() < model.orr_ceiling


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["des", "vector"])
def test_simon_assurance_matches_the_exact_sum(engine: str) -> None:
    model, table, summary = _ideal_run(MIXTURE, *SIMON_29, engine=engine)
    law = LAWS[MIXTURE]
    _check_decisions(model, summary, simon_coefficients(1, 10, 5, 29), law)
    # P(stopped at the look) is the prior-averaged P(stage-1 responders <= 1)
    at_most_one_of_ten = np.array([math.log(math.comb(10, t)) if t <= 1 else -np.inf for t in range(11)])
    stop = expected_success(at_most_one_of_ten, law, model.orr_ceiling)
    (at_look,) = summary.decisions.stop_at_look
    assert abs(at_look.value - stop) <= 4 * at_look.mcse


def test_without_a_prior_every_replicate_has_the_scenario_orr_and_assurance_is_power() -> None:
    result = run("base", replicates=60, seed=4, progress=False)
    assert (result.replicates["true_orr"] == 0.15).all()
    summary = result.summary.to_dict()
    assert summary["assurance"] == summary["power"]
    assert summary["decisions"]["prior"] == "point"


def test_the_predictive_probability_before_any_data_is_the_assurance() -> None:
    """One code path: a forecast with nothing observed draws each replicate's ORR from the same prior,
    with the same stream, as the run that gives the assurance, so the two are equal replicate by replicate."""
    model = TrialModel.from_scenario(load_scenario("base", [BETA]))
    _, predictive = forecast_models(model, ObservedTrial((), outcomes_known=True), dt.date(2025, 11, 14))
    assurance = run(model, replicates=40, seed=3, progress=False)
    forecast = run(predictive, replicates=40, seed=3, progress=False)
    pd.testing.assert_frame_equal(assurance.replicates, forecast.replicates)
    assert forecast.summary.decisions.assurance == assurance.summary.decisions.assurance


# --- bad priors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["efficacy.orr_prior={beta=[0, 3]}"], r"efficacy\.orr_prior\.beta must be an \[a, b\] pair of Beta shapes"),
        (["efficacy.orr_prior={responders=8, patients=5}"], r"responders \(8\) must not exceed .*patients \(5\)"),
        (["efficacy.orr_prior={beta=[1, 4], responders=1, patients=5}"], "either beta"),
        (["efficacy.orr_prior={responders=3}"], "needs both responders and patients"),
        (["efficacy.orr_prior={beta=[1, 4], weight=0.5}"], r"orr_prior\.weight discounts earlier data"),
        (
            ["efficacy.orr_prior={mixture=[{weight=0.5, beta=[1, 4]}, {weight=0.3, beta=[2, 2]}]}"],
            "mixture weights must sum to 1, got 0.8",
        ),
        (["efficacy.orr_prior={mixture=[{weight=1.0}]}"], r"mixture\[0\] must give either beta"),
        (["analysis.p1=0.05"], r"analysis\.p1 \(0\.05\) must be above analysis\.p0"),
    ],
)
def test_a_bad_prior_is_refused_naming_the_field(overrides: list[str], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        load_scenario("base", overrides)


def test_a_prior_the_pfs_cannot_carry_is_refused() -> None:
    scenario = load_scenario("base", ["efficacy.orr_prior={beta=[300, 30]}"])
    with pytest.raises(ScenarioError, match=r"efficacy\.orr_prior \(Beta\(300, 30\)\) has .* of its mass below 0\.5"):
        TrialModel.from_scenario(scenario)


def test_the_truncated_mass_is_reported() -> None:
    result = run(load_scenario("base", ["efficacy.orr_prior={beta=[6, 8]}"]), replicates=20, seed=1, progress=False)
    decisions = result.summary.to_dict()["decisions"]
    kept = float(stats.beta.cdf(decisions["orr_ceiling"], 6, 8))
    assert decisions["prior_mass_kept"] == pytest.approx(kept, rel=1e-12) and 0.5 < kept < 0.99
    assert (result.replicates["true_orr"] < decisions["orr_ceiling"]).all()


# --- grids, the report and the command line ---------------------------------------------------


def test_a_varied_value_may_be_a_list_or_a_table() -> None:
    assert vary_axis("efficacy.orr_prior.beta=[1, 9], [3, 12]") == ("efficacy.orr_prior.beta", ["[1, 9]", "[3, 12]"])
    assert vary_axis("efficacy.orr_prior={beta = [1, 9]},{responders = 2, patients = 9}") == (
        "efficacy.orr_prior",
        ["{beta = [1, 9]}", "{responders = 2, patients = 9}"],
    )
    assert vary_axis("efficacy.orr=0.1,0.2") == ("efficacy.orr", ["0.1", "0.2"])


def test_a_prior_sensitivity_grid_gives_each_cell_its_decision_figures() -> None:
    cells = build_cells("base", ["analysis.p1=0.25"], {"efficacy.orr_prior.beta": ["[1, 9]", "[6, 14]"]})
    grid = run_grid(cells, replicates=300, seed=2, progress=False, engine="auto")
    table = grid.table()
    assert list(table["engine"]) == ["vector", "vector"]  # auto: the vector engine draws a prior too
    for name in ("assurance", "positive_and_effective", "false_go", "false_stop"):
        assert table[name].notna().all() and table[f"{name}_mcse"].notna().all()
    # a more optimistic prior: more positive trials, well beyond their MCSEs
    low, high = table["assurance"]
    assert high - low > 4 * math.hypot(*table["assurance_mcse"])


def test_a_sweep_refuses_to_vary_the_orr_that_a_prior_overrides() -> None:
    with pytest.raises(InputError, match="efficacy.orr cannot be varied while efficacy.orr_prior is given"):
        build_cells("base", [BETA], {"efficacy.orr": ["0.1", "0.2"]})


def test_an_oc_grid_simulates_point_orrs_whatever_the_prior() -> None:
    grid = oc_grid("base", [BETA], [0.2], replicates=20, seed=1, keep_replicates=True, progress=False)
    for cell in grid.cells:
        assert cell.replicates is not None
        assert (cell.replicates["true_orr"] == float(cell.setting["efficacy.orr"])).all()
        assert cell.summary.decisions.prior is None


def test_the_report_draws_the_prior_over_the_power_curve(tmp_path) -> None:
    scenario = load_scenario("base", [MIXTURE, "analysis.p1=0.25"])
    result = run(scenario, replicates=60, seed=3, progress=False)
    oc = oc_grid("base", [MIXTURE], [0.1, 0.3], replicates=40, seed=3, progress=False).table()
    write_run(tmp_path, result, command="trialsim test", oc=oc)
    saved = read_run(tmp_path)
    (figure,) = assurance_figures([saved])
    prior = figure.data[figure.data["kind"] == "prior"]
    ceiling = result.summary.decisions.orr_ceiling
    assert integrate.trapezoid(prior["density"], prior["true_orr"]) == pytest.approx(1.0, abs=1e-3)
    assert prior["true_orr"].max() == pytest.approx(ceiling)
    assert list(figure.data.loc[figure.data["kind"] == "power", "true_orr"]) == [0.1, 0.3]
    assurance = percent_estimate(result.summary.decisions.assurance)
    assert f"has a {assurance} chance of a positive result" in figure.caption
    assert "no better than p0 = 10%" in figure.caption and "at least p1 = 25%" in figure.caption
    sentences = scenario_sentences(saved)
    assert sentences[1].startswith(percent_estimate(result.summary.decisions.false_go))
    assert "would be positive though the treatment is no better than p0 = 10%" in sentences[1]
    # the power curve shows no point for the run itself: with a prior its share is the assurance
    (curve,) = [f for f in all_figures([saved]) if f.key == "power_curve"]
    assert "this run" not in set(curve.data["source"])


def test_the_printed_table_names_the_prior_and_what_was_cut() -> None:
    result = run(load_scenario("base", ["efficacy.orr_prior={beta=[6, 8]}"]), replicates=20, seed=1, progress=False)
    text = summary_text(result.summary)
    kept = result.summary.decisions.prior_kept
    assert f"True ORR drawn per trial from Beta(6, 8), truncated at 0.512 (the largest ORR the PFS can carry): {kept:.2%} of the prior kept" in text
    assert "Assurance: P(positive) over the ORR prior" in text
    assert "Power: P(reject H0)" not in text
