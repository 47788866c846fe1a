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

from sim.model.monitoring import Look, LookTrigger, judged_days, monitor_process
from sim.model.recist import Response
from sim.runs.grid_result import GridCell
from sim.runs.runner import run
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.model import Monitoring
from sim.scenario.rules import DesignRule, design_rule
from sim.stats.designs import predictive_probability, simon_characteristics
from tests.helpers import IDEAL, hand_built_journeys, journey_patient

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


WINDOW = "monitoring.look_trigger='judgement_window'"


@pytest.mark.slow
@pytest.mark.parametrize("orr", [0.10, 0.30])
def test_simon_looks_wait_for_settled_responses_on_the_base_schedule(scenario_with, orr: float) -> None:
    """With a 273-day response-evaluation window, PET and power are the design's (issue: 44% of
    responders are confirmed by day 91, so judging then stopped about twice as often)."""
    scenario = scenario_with(*BASE_RESPONSES, SIMON, WINDOW, f"efficacy.orr={orr}")
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
    scenario = scenario_with(*BASE_RESPONSES, SIMON, WINDOW, "efficacy.orr=0.30", "monitoring.judgement_days=91")
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


# The stage-1 trigger a protocol writes (issue 27): hand-built patients at its boundaries.

PR, SD, PD, NONE = int(Response.PR), int(Response.SD), int(Response.PD), int(Response.NO_SCAN)


def _trigger(scans: int = 2, wait: bool = True, kind: str = "assessments", min_days: float = 28.0) -> LookTrigger:
    return LookTrigger(kind, scans, wait, 273.0, True, min_days)


def _judged(trigger: LookTrigger, *patients: dict[str, object]) -> list[float]:
    return judged_days(hand_built_journeys(*(journey_patient(**p) for p in patients)), trigger).tolist()


def test_the_assessments_trigger_at_its_boundaries() -> None:
    stable = {}  # scans on days 42, 84, 126 and 168, all SD
    confirmed_at_second = {"scan_status": [PR, PR, PR, SD], "confirmation_day": 84.0}
    pending_at_second = {"scan_status": [SD, PR, PR, SD], "confirmation_day": 126.0}
    missed_second = {"scan_status": [SD, NONE, SD, SD], "scan_missed": [False, True, False, False]}
    progressed_first = {"scan_status": [PD, NONE, NONE, NONE], "progression_day": 42.0, "response_closed_day": 42.0}
    left_before_any = {"scan_status": [NONE] * 4, "response_closed_day": 30.0}
    never_confirmed = {"scan_status": [SD, PR, SD, SD]}  # a transient PR: its confirmation scan reads SD
    died_pending = {"scan_status": [SD, PR, NONE, NONE], "response_closed_day": 100.0}
    patients = (stable, confirmed_at_second, pending_at_second, missed_second, progressed_first, left_before_any,
                never_confirmed, died_pending)
    assert _judged(_trigger(), *patients) == [84.0, 84.0, 126.0, 126.0, 42.0, 30.0, 126.0, 100.0]
    # counted as a non-responder: nobody waits for a confirmation scan
    assert _judged(_trigger(wait=False), *patients) == [84.0, 84.0, 84.0, 126.0, 42.0, 30.0, 84.0, 84.0]
    assert _judged(_trigger(scans=1), stable, pending_at_second) == [42.0, 42.0]
    assert _judged(_trigger(scans=3), pending_at_second) == [126.0]


def test_the_confirmation_scan_is_the_first_one_done_at_least_the_minimum_after_the_response() -> None:
    # PR on day 84; the next scans on days 111 (27 days on: too soon) and 112 (28 days on: the confirmation scan)
    too_soon = {"scan_day": [42.0, 84.0, 111.0, 168.0], "scan_status": [SD, PR, PR, PR], "confirmation_day": 168.0}
    on_the_day = {"scan_day": [42.0, 84.0, 112.0, 168.0], "scan_status": [SD, PR, SD, SD]}
    assert _judged(_trigger(), too_soon, on_the_day) == [168.0, 112.0]
    # a response seen by the second scan and confirmed at it is not pending
    confirmed = {"scan_day": [42.0, 84.0, 126.0, 168.0], "scan_status": [PR, PR, SD, SD], "confirmation_day": 84.0}
    assert _judged(_trigger(min_days=42.0), confirmed) == [84.0]
    # without required confirmation no response is ever pending
    no_confirmation = LookTrigger("assessments", 2, True, 273.0, False, 28.0)
    assert judged_days(hand_built_journeys(journey_patient(scan_status=[SD, PR, SD, SD])), no_confirmation).tolist() == [84.0]


def test_the_judgement_window_trigger_is_the_first_of_confirmation_closure_and_window() -> None:
    window = _trigger(kind="judgement_window")
    confirmed = {"scan_status": [PR, PR, PR, SD], "confirmation_day": 84.0}
    closed = {"response_closed_day": 200.0}
    assert _judged(window, {}, confirmed, closed) == [273.0, 84.0, 200.0]


def test_the_trigger_comes_from_the_scenario(base) -> None:
    assert LookTrigger.from_scenario(base.monitoring, base.schedule) == LookTrigger("assessments", 2, True, 273.0, True, 28.0)
    m = Monitoring(look_trigger="judgement_window", look_scans=3, pending_response="non_responder", judgement_days=91)
    assert LookTrigger.from_scenario(m, base.schedule) == LookTrigger("judgement_window", 3, False, 91.0, True, 28.0)


@pytest.mark.parametrize(
    ("overrides", "field", "kind"),
    [
        (["monitoring.judgement_days=91"], "judgement_days", "judgement_window"),
        (["monitoring.look_trigger='judgement_window'", "monitoring.look_scans=3"], "look_scans", "assessments"),
        (
            ["monitoring.look_trigger='judgement_window'", "monitoring.pending_response='non_responder'"],
            "pending_response",
            "assessments",
        ),
    ],
)
def test_a_field_of_the_other_trigger_is_refused_not_ignored(overrides: list[str], field: str, kind: str) -> None:
    """A window given under the default (assessments) trigger would change nothing: the scenario says so."""
    with pytest.raises(ScenarioError, match=rf"monitoring\.{field} applies only with monitoring\.look_trigger = '{kind}'"):
        load_scenario("base", [SIMON, *overrides])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("monitoring.look_trigger='scans'", "monitoring.look_trigger must be one of 'assessments', 'judgement_window', got 'scans'"),
        ("monitoring.pending_response='wait'", "monitoring.pending_response must be one of 'await_confirmation', 'non_responder', got 'wait'"),
        ("monitoring.look_scans=0", "monitoring.look_scans must be a whole number in [1, 50], got 0"),
    ],
)
def test_trigger_validation_names_the_field_and_allowed_values(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("base", [override])
    assert str(info.value) == message


@pytest.mark.slow
def test_on_the_base_schedule_the_protocol_trigger_trades_early_stops_for_months(scenario_with) -> None:
    """Two scans and a wait for pending confirmations: the look comes about 3.5 months sooner than with the
    273-day window, and stops more often than designed (late responders are not yet confirmed); counting a
    pending response as none stops more often still. Simon 1/10, 5/29 at ORR 0.30 (exact PET 0.149)."""
    pet = simon_characteristics(1, 10, 5, 29, 0.30)[0]
    runs = {
        name: run(scenario_with(*BASE_RESPONSES, SIMON, "efficacy.orr=0.30", *extra), replicates=R, seed=33,
                  n_jobs=2, progress=False).summary
        for name, extra in {
            "await": (), "non_responder": ("monitoring.pending_response='non_responder'",), "window": (WINDOW,)
        }.items()
    }
    stop = {name: s.early_stop for name, s in runs.items()}
    look = {name: s.timing.looks[0][1] for name, s in runs.items()}
    assert _within(stop["window"].value, pet, stop["window"].mcse)
    assert stop["await"].value - pet > 4 * stop["await"].mcse
    assert stop["non_responder"].value - stop["await"].value > 4 * math.hypot(stop["await"].mcse, stop["non_responder"].mcse)
    assert look["window"].value - look["await"].value > 3.0 and look["await"].value > look["non_responder"].value
    for s in runs.values():  # the final analysis comes after the look, and every look is timed
        assert s.timing.final.value > s.timing.looks[0][1].value and s.timing.looks[0][1].n == R


def test_the_months_to_each_decision_are_read_from_the_look_and_replicate_tables(scenario_with) -> None:
    """Each look's mean months over the trials that had it, the final analysis's over those not stopped;
    the summary, its JSON and a grid row give the same figures."""
    rule = "monitoring={rule='bayesian', looks=[8, 16], futility_predictive=0.2, success_posterior=0.9}"
    result = run(scenario_with(rule, "efficacy.orr=0.1"), replicates=120, seed=8, progress=False)
    looks, table, timing = result.looks, result.replicates, result.summary.timing
    opening = np.datetime64(result.scenario.trial.recruitment_open, "D")
    for (n, estimate), k in zip(timing.looks, (1, 2)):
        mine = looks[looks["patients"] == n]
        months = mine["look_months"].to_numpy()
        whole_days = (mine["look_date"].to_numpy(dtype="datetime64[D]") - opening).astype(float)
        assert np.all((months * (365.25 / 12) >= whole_days) & (months * (365.25 / 12) < whole_days + 1))
        assert len(mine) == estimate.n > 0 and (mine["look"] == k).all()
        assert estimate.value == pytest.approx(months.mean(), rel=1e-12)
        assert estimate.mcse == pytest.approx(months.std(ddof=1) / math.sqrt(len(mine)), rel=1e-12)
    assert timing.looks[1][1].n < timing.looks[0][1].n  # some trials stopped at the first look
    going_on = table.loc[~table["stopped_early"], "decision_months"]
    assert timing.final.value == pytest.approx(going_on.mean(), rel=1e-12) and timing.final.n == len(going_on)
    document = result.summary.to_dict()["decision_timing"]
    assert [look["patients"] for look in document["looks"]] == [8, 16]
    assert document["final_months"]["estimate"] == pytest.approx(timing.final.value, rel=1e-12)
    labels = result.summary.table()["figure"].tolist()
    assert labels.index(f"Months from opening to the look at 8 patients (mean of {timing.looks[0][1].n})") == 3
    assert "Months from opening to the final analysis | no stop (mean)" in labels
    row = GridCell({"efficacy.orr": "0.1"}, result.summary).row()
    assert row["look2_months"] == timing.looks[1][1].value and row["final_months_mcse"] == timing.final.mcse
