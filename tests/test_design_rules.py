"""The design rules as objects: each owns its checks, decisions, thresholds, exact characteristics and words."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.scenario import load_scenario
from sim.scenario.model import Monitoring
from sim.scenario.rules import RULES, BayesianRule, SimonRule, SingleStageRule, design_rule, rule_problems
from sim.sizing.candidates import Design
from sim.stats import posterior_prob_above, simon_characteristics

SIMON = Monitoring(rule="simon", stage1_patients=10, stage1_max_responders=1, final_max_responders=5)
BAYES = Monitoring(rule="bayesian", looks=(10, 20), futility_predictive=0.05, success_posterior=0.9)


def test_every_monitoring_rule_builds_its_own_object() -> None:
    analysis = load_scenario("base").analysis
    built = {m.rule: design_rule(m, analysis, 29) for m in (Monitoring(), SIMON, BAYES)}
    assert set(built) == set(RULES)
    assert isinstance(built["none"], SingleStageRule) and built["none"].look_sizes == ()
    assert isinstance(built["simon"], SimonRule) and built["simon"].look_sizes == (10,)
    assert isinstance(built["bayesian"], BayesianRule) and built["bayesian"].look_sizes == (10, 20)
    assert all(rule.name == name for name, rule in built.items())
    assert load_scenario("base").rule == built["none"].__class__(35, analysis.p0, analysis.alpha)


def test_the_single_stage_threshold_and_exact_power_are_the_binomial_test() -> None:
    rule = SingleStageRule(35, 0.10, 0.05)
    r = rule.threshold(35)
    assert stats.binom.sf(r - 1, 35, 0.10) <= 0.05 < stats.binom.sf(r - 2, 35, 0.10)
    assert rule.exact(0.25).success == pytest.approx(stats.binom.sf(r - 1, 35, 0.25), rel=1e-12)
    assert rule.exact(0.25).early_stop == 0.0 and rule.exact(0.25).expected_n == 35.0
    assert not rule.succeeds(0, 0, True) and rule.succeeds(r, 35, True) and not rule.succeeds(r, 35, False)


def test_simons_exact_characteristics_and_threshold_are_simons() -> None:
    rule = SimonRule(29, 10, 1, 5)
    pet, en, reject = simon_characteristics(1, 10, 5, 29, 0.3)
    assert rule.exact(0.3) == type(rule.exact(0.3))(reject, pet, en)
    assert rule.threshold(3) == rule.threshold(29) == 6 and rule.fixed_threshold
    assert rule.words() == "the Simon design's final rule"


def test_the_bayesian_threshold_is_the_first_count_whose_posterior_clears_the_bar() -> None:
    rule = BayesianRule(35, 0.10, (10,), 0.05, 0.9, 0.5, 0.5)
    k = rule.threshold(35)
    assert posterior_prob_above(0.10, k, 35, 0.5, 0.5) > 0.9 >= posterior_prob_above(0.10, k - 1, 35, 0.5, 0.5)
    assert rule.exact(0.3) is None and not rule.fixed_threshold


def test_each_rule_checks_its_own_fields() -> None:
    assert rule_problems(Monitoring(), 35) == []
    assert rule_problems(Monitoring(rule="simon"), 35) == [
        f"monitoring.{f} is required when monitoring.rule is 'simon'"
        for f in ("stage1_patients", "stage1_max_responders", "final_max_responders")
    ]
    assert rule_problems(SIMON, 10) == ["monitoring.stage1_patients (10) must be below trial.sample_size (10)"]
    assert rule_problems(BAYES, 20)[0].startswith("monitoring.looks must increase strictly")
    assert np.all([rule_problems(m, 35) == [] for m in (SIMON, BAYES)])


@pytest.mark.parametrize(
    "design", [Design("single", 40, 7), Design("simon-optimal", 43, 7, 18, 2)], ids=["single", "simon"]
)
def test_a_searched_design_is_the_rule_its_overrides_give_the_scenario(design: Design) -> None:
    """The design search and the scenario speak of one rule: the search's object is what its overrides load."""
    scenario = load_scenario("base", design.overrides(pause=False))
    a = scenario.analysis
    expected = (
        SingleStageRule(design.n, a.p0, a.alpha)
        if design.n1 is None
        else SimonRule(design.n, design.n1, design.r1, design.r)  # type: ignore[arg-type]
    )
    assert scenario.rule == expected and scenario.rule.threshold(design.n) == design.r + 1
