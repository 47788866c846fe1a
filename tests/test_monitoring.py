"""Interim monitoring in calendar time against exact results.

In the idealised trial (no dropout, responses present at the first scan, certain enrollment) the
stage-1 responder count is Binomial(n1, ORR), so Simon's PET, E[N] and rejection probability, and
a Bayesian look's stopping probability, are known exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from scipy import stats

from sim.model.monitoring import Look, monitor_process
from sim.runs.runner import run
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.model import Monitoring
from sim.scenario.rules import DesignRule, design_rule
from sim.stats.designs import predictive_probability, simon_characteristics
from tests.helpers import IDEAL

R = 1500
SIMON = "monitoring={rule='simon', stage1_patients=10, stage1_max_responders=1, final_max_responders=5, pause_enrollment=true}"


def _within(estimate: float, exact: float, se: float) -> bool:
    return abs(estimate - exact) <= 4 * se


@pytest.mark.slow
@pytest.mark.parametrize("orr", [0.10, 0.30])
def test_simon_optimal_matches_exact_pet_en_and_rejection(scenario_with, orr: float) -> None:
    scenario = scenario_with(*IDEAL, "trial.sample_size=29", SIMON, f"efficacy.orr={orr}")
    table = run(scenario, replicates=R, seed=31, progress=False).replicates
    pet, en, reject = simon_characteristics(1, 10, 5, 29, orr)
    stopped = table["stopped_early"].to_numpy()
    assert (table["interim_looks"] == 1).all()
    assert _within(stopped.mean(), pet, math.sqrt(pet * (1 - pet) / R))
    n = table["n_enrolled"].to_numpy()
    assert (n[stopped] == 10).all() and (n[~stopped] == 29).all()
    assert _within(n.mean(), en, math.sqrt(19**2 * pet * (1 - pet) / R))
    assert _within(table["reject_h0"].mean(), reject, math.sqrt(reject * (1 - reject) / R))
    # A futility stop comes months before the primary analysis would have.
    assert table.loc[stopped, "decision_months"].mean() < table.loc[~stopped, "decision_months"].mean() - 6


# The base schedule and time to response, with nothing that loses a patient's response: no
# withdrawal or loss, fast full enrollment, and a primary cutoff late enough to confirm every
# response. Only the interim look's timing can then bias the design.
BASE_RESPONSES = (
    "safety.withdrawal_per_month=0",
    "safety.loss_to_follow_up_per_month=0",
    "recruitment.rate_cv=0",
    "recruitment.sites.0.screened_per_month=20",
    "analysis.primary_cutoff.months=12",
    "trial.sample_size=29",
)


@pytest.mark.slow
@pytest.mark.parametrize("orr", [0.10, 0.30])
def test_simon_looks_wait_for_settled_responses_on_the_base_schedule(scenario_with, orr: float) -> None:
    """With the default response-evaluation window, PET and power are the design's (issue: 44% of
    responders are confirmed by day 91, so judging then stopped about twice as often)."""
    scenario = scenario_with(*BASE_RESPONSES, SIMON, f"efficacy.orr={orr}")
    table = run(scenario, replicates=R, seed=32, n_jobs=2, progress=False).replicates
    pet, _, reject = simon_characteristics(1, 10, 5, 29, orr)
    assert _within(table["stopped_early"].mean(), pet, math.sqrt(pet * (1 - pet) / R))
    assert _within(table["reject_h0"].mean(), reject, math.sqrt(reject * (1 - reject) / R))
    # the cost in time: each look waits months after its tenth enrollment
    wait = table["interim_wait_days"].to_numpy()
    assert (wait > 0).all() and 60 < wait.mean() < 273


@pytest.mark.slow
def test_a_91_day_window_stops_too_often(scenario_with) -> None:
    """The old default judged at the first sure confirmation day: PET 0.31 against the design's 0.15."""
    scenario = scenario_with(*BASE_RESPONSES, SIMON, "efficacy.orr=0.30", "monitoring.judgement_days=91")
    stopped = run(scenario, replicates=R, seed=32, n_jobs=2, progress=False).replicates["stopped_early"].mean()
    pet = simon_characteristics(1, 10, 5, 29, 0.30)[0]
    assert stopped - pet > 4 * math.sqrt(pet * (1 - pet) / R)


def test_without_pause_enrollment_overruns_the_look(scenario_with) -> None:
    scenario = scenario_with(*IDEAL, "trial.sample_size=29", SIMON.replace("true", "false"), "efficacy.orr=0.1")
    table = run(scenario, replicates=100, seed=5, progress=False).replicates
    stopped = table[table["stopped_early"]]
    assert len(stopped) > 50
    assert (stopped["n_enrolled"] > 10).mean() > 0.9


@pytest.mark.slow
def test_bayesian_look_stops_with_the_exact_probability(scenario_with) -> None:
    rule = "monitoring={rule='bayesian', looks=[10], prior_a=0.5, prior_b=0.5, futility_predictive=0.10, success_posterior=0.90}"
    scenario = scenario_with(*IDEAL, rule, "efficacy.orr=0.15")
    table = run(scenario, replicates=R, seed=41, progress=False).replicates
    pp = np.array([predictive_probability(k, 10, 35, 0.10, 0.90, 0.5, 0.5) for k in range(11)])
    exact = float(stats.binom.pmf(np.arange(11), 10, 0.15)[pp < 0.10].sum())
    assert _within(table["stopped_early"].mean(), exact, math.sqrt(exact * (1 - exact) / R))
    # each stop follows the rule applied to the responders seen at the look
    k = table["first_look_responders"].to_numpy()
    np.testing.assert_array_equal(table["stopped_early"].to_numpy(), pp[k] < 0.10)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("monitoring.rule='simon'", "3 problems: monitoring.stage1_patients is required when monitoring.rule is 'simon'; monitoring.stage1_max_responders is required when monitoring.rule is 'simon'; monitoring.final_max_responders is required when monitoring.rule is 'simon'"),
        ("monitoring={rule='simon', stage1_patients=40, stage1_max_responders=1, final_max_responders=5}", "monitoring.stage1_patients (40) must be below trial.sample_size (35)"),
        ("monitoring={rule='bayesian', looks=[10, 5], futility_predictive=0.05, success_posterior=0.9}", "monitoring.looks must increase strictly and stay below trial.sample_size (35), got [10, 5]"),
        ("monitoring={rule='group'}", "monitoring.rule must be one of 'none', 'simon', 'bayesian', got 'group'"),
    ],
)
def test_monitoring_validation(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("base", [override])
    assert str(info.value) == message


# The look's rules on hand-built judgement and confirmation days (issue 15).


def _look(rule: DesignRule, judged: list[float], confirmed: list[float], enrolled_on: float = 30.0, pause: bool = True):
    """Run one look of ``len(judged)`` patients whose n-th patient enrolls on ``enrolled_on``."""
    env = simpy.Environment()
    log: list[object] = []

    def enrolled(n: int):
        return env.timeout(enrolled_on)

    def judged_and_confirmed(n: int):
        return np.array(judged[:n]), np.array(confirmed[:n])

    env.process(
        monitor_process(env, rule, pause, enrolled, judged_and_confirmed, lambda on: log.append(("hold", on, env.now)),
                        lambda: log.append(("close", env.now)), log.append)
    )
    env.run()
    return log


def test_a_look_happens_when_its_last_patient_is_judged_and_counts_responses_confirmed_that_day(base) -> None:
    simon = Monitoring(rule="simon", pause_enrollment=True, stage1_patients=3, stage1_max_responders=0, final_max_responders=1)
    rule = design_rule(simon, base.analysis, 10)
    # judged on days 50, 80 and 80 (the second by its confirmation on day 80), a third response
    # confirmed after the look: one responder, more than r1 = 0, so the trial goes on
    log = _look(rule, judged=[50.0, 80.0, 80.0], confirmed=[math.inf, 80.0, 95.0])
    assert log == [("hold", True, 30.0), Look(day=80.0, patients=3, responders=1, stop=False), ("hold", False, 80.0)]
    # no response confirmed by the look: stop for futility, close recruitment, resume nothing more
    log = _look(rule, judged=[50.0, 80.0, 80.0], confirmed=[math.inf, math.inf, 95.0])
    assert log == [("hold", True, 30.0), Look(day=80.0, patients=3, responders=0, stop=True), ("hold", False, 80.0), ("close", 80.0)]


def test_simon_decisions_at_their_boundaries(base) -> None:
    simon = Monitoring(rule="simon", stage1_patients=10, stage1_max_responders=1, final_max_responders=5)
    rule = design_rule(simon, base.analysis, 29)
    assert rule.stops(1, 10) and not rule.stops(2, 10)  # stop when responders <= r1
    assert not rule.succeeds(5, 29, True) and rule.succeeds(6, 29, False)  # success when responders > r
    assert not rule.succeeds(0, 0, True)  # nobody analysed is never a success


def test_bayesian_decisions_at_their_boundaries(base) -> None:
    """Stop when the predictive probability is strictly below the bound; succeed when the posterior is strictly above."""
    p0, a, b = base.analysis.p0, 0.5, 0.5
    chance = predictive_probability(2, 10, 35, p0, 0.9, a, b)
    at_bound = Monitoring(rule="bayesian", looks=(10,), prior_a=a, prior_b=b, futility_predictive=chance, success_posterior=0.9)
    rule = design_rule(at_bound, base.analysis, 35)
    assert not rule.stops(2, 10)
    assert rule.stops(1, 10)
    posterior = float(stats.beta.sf(p0, a + 6, b + 35 - 6))
    exactly = design_rule(Monitoring(rule="bayesian", looks=(10,), futility_predictive=0.1, success_posterior=posterior), base.analysis, 35)
    assert not exactly.succeeds(6, 35, True) and exactly.succeeds(7, 35, False)
