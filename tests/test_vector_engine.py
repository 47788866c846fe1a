"""The vector engine: the SimPy engine's histories from the SimPy engine's draws, reproducible chunks, refusals.

Given the SimPy engine's own random streams (:func:`sim.engines.vector.des_seeded_histories`), the
vectorised recruitment, enrollment and looks give the SimPy engine's histories replicate by
replicate; that pins every recruitment rule exactly. Statistical agreement on the engine's own
streams is ``tests/test_engine_agreement.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.batch import HistoryBatch
from sim.engines import AUTO_ENGINE, EngineError, choose_engine, resolve_engine
from sim.engines.contract import RunPlan, replicate_seeds
from sim.engines.des import simulate_trial
from sim.engines.vector import des_seeded_histories
from sim.engines.vector.arrivals import Arrivals
from sim.engines.vector.enrollment import enroll
from sim.engines.vector.lockstep_looks import LockstepLooks
from sim.engines.vector.replacement import enroll_replacing
from sim.forecast import ObservedTrial
from sim.forecast.result import forecast_models
from sim.model.journey import PatientJourneys
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario
from tests.data.make_golden import CASES

DAYS = {"consent_day", "enrollment_day", "first_dose_day", "enrollment_complete_day", "look_day"}
"""Days that SimPy reaches as ``now + (day - now)``: equal up to rounding (1e-9 days)."""

NO_PAUSE = ["monitoring.pause_enrollment=false"]
PRIOR = "efficacy.orr_prior={beta=[3, 12]}"
LINKED_PRIOR = [
    "efficacy.orr_prior={mixture=[{weight=0.6, beta=[2, 18]}, {weight=0.4, responders=6, patients=20}]}",
    "efficacy.pfs_orr_link={hazard_ratio=0.8, reference_orr=0.15}",
]


def _model(case: str, extra: list[str] | None = None) -> TrialModel:
    name, overrides = CASES[case]
    return TrialModel.from_scenario(load_scenario(name, [*overrides, *(extra or [])]))


@pytest.mark.parametrize(
    ("case", "extra"),
    [(c, None) for c in ("base", "optimistic", "pessimistic", "slow_recruitment", "deviations_fda", "bayesian")]
    + [("simon", NO_PAUSE), ("bayesian", ["monitoring.looks=[5, 12, 20]"])]
    + [("base", [PRIOR]), ("simon", [*NO_PAUSE, *LINKED_PRIOR])],
)
def test_the_simpy_engines_draws_give_the_simpy_engines_histories(case: str, extra: list[str] | None) -> None:
    model = _model(case, extra)
    vector = des_seeded_histories(model, 5, 0, 60)
    simpy = HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(5, 0, 60)])
    _assert_same_histories(vector, simpy)
    assert simpy.patients.sum() > 0


def _arrivals(day: list[float], screening: list[int], fails: list[bool] | None = None) -> Arrivals:
    n = len(day)
    return Arrivals(
        replicate=np.zeros(n, np.int64),
        day=np.asarray(day, float),
        site=np.zeros(n, np.int64),
        fails=np.zeros(n, bool) if fails is None else np.asarray(fails),
        screening_days=np.asarray(screening, np.int64),
        dose_days=np.ones(n, np.int64),
    )


def test_enrollment_fills_then_stops_screening() -> None:
    # decisions at 11, 7, 13, 24: the first two by decision day fill a target of 2 on day 11
    arrivals = _arrivals([1.0, 2.0, 3.0, 20.0], [10, 5, 10, 4], [False, False, False, False])
    e = enroll(arrivals, 1, 2, 100.0, np.full(1, np.inf), [])
    assert e.enrolled.tolist() == [True, True, False, False]
    assert e.rank[:2].tolist() == [1, 0]
    assert e.full_day.tolist() == [11.0]
    assert e.screened.tolist() == [True, True, True, False]  # day 20 comes after enrollment is full


def test_recruitment_close_and_a_futility_stop_turn_patients_away() -> None:
    arrivals = _arrivals([1.0, 2.0, 3.0], [10, 10, 10])
    closed = enroll(arrivals, 1, 5, 12.0, np.full(1, np.inf), [])
    assert closed.enrolled.tolist() == [True, False, False]  # decisions on 12 and 13 are on or after the close
    stopped = enroll(arrivals, 1, 5, 100.0, np.array([2.5]), [])
    assert stopped.screened.tolist() == [True, True, False] and not stopped.enrolled.any()


def test_a_paused_look_skips_arrivals_and_turns_away_decisions_inside_it() -> None:
    arrivals = _arrivals([1.0, 3.0, 6.0, 12.0], [2, 5, 1, 1])
    hold = [(np.array([3.0]), np.array([10.0]))]  # paused from the first enrollment (day 3) to the look (day 10)
    e = enroll(arrivals, 1, 5, 100.0, np.full(1, np.inf), hold)
    assert e.screened.tolist() == [True, True, False, True]  # day 6 arrives during the pause
    assert e.enrolled.tolist() == [True, False, False, True]  # day 3 + 5 = 8 is decided during the pause


def test_a_known_loss_raises_the_target_and_reopens_screening() -> None:
    # target 2: enrollments on days 2 and 3 fill it; patient 0's loss is known on 2 + (1 + 5) = 8
    arrivals = _arrivals([1.0, 2.0, 5.0, 6.0, 9.0, 12.0], [1, 1, 1, 5, 1, 1])
    evaluable = np.array([[False, True, True, True]])
    known_after = np.array([[5.0, 40.0, 40.0, 40.0]])
    e, short = enroll_replacing(arrivals, 1, 2, 100.0, evaluable, known_after, np.array([4]))
    assert e.screened.tolist() == [True, True, False, False, True, False]  # days 5, 6 in the pause; 12 after
    assert e.rank.tolist() == [0, 1, -1, -1, 2, -1]
    assert e.target.tolist() == [3] and e.full_day.tolist() == [10.0] and not short.any()
    late, _ = enroll_replacing(arrivals, 1, 2, 7.5, evaluable, known_after, np.array([4]))
    assert late.target.tolist() == [2] and late.rank.tolist() == [0, 1, -1, -1, -1, -1]  # known after the close


def test_a_replicate_that_runs_out_of_drawn_patients_is_flagged() -> None:
    arrivals = _arrivals([1.0, 2.0, 3.0], [1, 1, 1])
    e, short = enroll_replacing(arrivals, 1, 3, 100.0, np.ones((1, 2), bool), np.ones((1, 2)), np.array([2]))
    assert short.tolist() == [True] and e.count.tolist() == [2]


@pytest.mark.parametrize("prior", [[], [PRIOR]], ids=["point", "prior"])
def test_replacement_on_the_simpy_engines_draws_mostly_gives_its_histories(prior: list[str]) -> None:
    """Replicate by replicate only where no pause skipped an arrival (the SimPy engine then shifts its draws)."""
    model = _model("replace_evaluable", ["safety.withdrawal_per_month=0.2", *prior])
    vector = des_seeded_histories(model, 8, 0, 150)
    simpy = HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(8, 0, 150)])
    same = (vector.patients == simpy.patients) & (vector.enrollment_target == simpy.enrollment_target)
    same &= vector.n_screened == simpy.n_screened
    assert same.mean() >= 0.95 and (simpy.enrollment_target > 35).mean() > 0.5
    np.testing.assert_array_equal(vector.true_orr, simpy.true_orr)


def test_a_prior_gives_each_replicate_its_own_true_orr_whatever_the_chunks() -> None:
    """The block draws its replicates' true ORRs first; the chunking and the jobs change nothing."""
    reference = _tables(620, 620, 1, "base", [PRIOR])
    orr = reference.replicates["true_orr"].to_numpy()
    assert np.unique(orr).size == orr.size and (orr < TrialModel.from_scenario(load_scenario("base")).orr_ceiling).all()
    for chunk, jobs in ((97, 1), (250, 2)):
        other = _tables(620, chunk, jobs, "base", [PRIOR])
        pd.testing.assert_frame_equal(other.replicates, reference.replicates, check_exact=True)


def _tables(
    replicates: int, chunk: int, jobs: int, case: str = "bayesian", extra: list[str] | None = None
) -> sim.RunResult:
    return sim.run(
        _model(case, extra),
        replicates=replicates,
        seed=9,
        n_jobs=jobs,
        chunk_size=chunk,
        engine="vector",
        progress=False,
    )


def test_results_do_not_depend_on_chunk_size_or_jobs() -> None:
    reference = _tables(620, 620, 1)  # three seed blocks, the last one partly
    for chunk, jobs in ((97, 1), (250, 2), (300, 1)):
        other = _tables(620, chunk, jobs)
        pd.testing.assert_frame_equal(other.replicates, reference.replicates, check_exact=True)
        pd.testing.assert_frame_equal(other.looks, reference.looks, check_exact=True)
    shorter = _tables(260, 130, 1)
    pd.testing.assert_frame_equal(shorter.replicates, reference.replicates.iloc[:260], check_exact=True)


def test_a_chunk_where_nobody_enrolls_is_analysed() -> None:
    model = _model("base", ["trial.recruitment_close=2025-11-16"])
    result = sim.run(model, replicates=20, seed=1, engine="vector", progress=False)
    assert (result.replicates["n_enrolled"] == 0).all() and not result.replicates["reject_h0"].any()


# Replacement together with interim looks (issue 25, item 6). At 1.5 screened a month the target is
# never met, so screening never pauses: the histories are the SimPy engine's, every field of every replicate.
REPLACING = ["trial.replace_non_evaluable=true", "safety.withdrawal_per_month=0.2"]
NEVER_FULL = [*REPLACING, "recruitment.sites.0.screened_per_month=1.5"]


@pytest.mark.parametrize(
    ("case", "extra"),
    [
        ("simon", [*NEVER_FULL, *NO_PAUSE]),
        ("bayesian", NEVER_FULL),
        ("bayesian", [*NEVER_FULL, "monitoring.looks=[5, 12, 20]", "monitoring.pending_response='non_responder'"]),
    ],
)
def test_replacement_with_looks_on_the_simpy_engines_draws_gives_its_histories(case: str, extra: list[str]) -> None:
    model = _model(case, extra)
    # a seed under which no replicate fills (at seed 5 one does since issue 25 redrew the AEs): a full trial
    # reopened by a loss skips arrivals in the SimPy engine (the test below)
    vector = des_seeded_histories(model, 6, 0, 100)
    simpy = HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(6, 0, 100)])
    _assert_same_histories(vector, simpy)
    sample_size = model.scenario.trial.sample_size
    assert (simpy.enrollment_target > sample_size).mean() > 0.5  # losses were replaced
    assert simpy.look_stop.sum() >= 20 and simpy.look_replicate.size >= 90  # and looks stopped trials


def test_replacement_with_paused_looks_on_the_simpy_engines_draws_mostly_gives_its_histories() -> None:
    """A paused look, like a full trial reopened by a loss, skips arrivals in the SimPy engine and shifts
    its later screening draws; the rest agree replicate by replicate, the stops and looks in all."""
    model = _model("simon", REPLACING)
    vector = des_seeded_histories(model, 8, 0, 300)
    simpy = HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(8, 0, 300)])
    same = (vector.patients == simpy.patients) & (vector.enrollment_target == simpy.enrollment_target)
    same &= vector.n_screened == simpy.n_screened
    assert same.mean() >= 0.85 and (simpy.enrollment_target > 29).mean() > 0.5
    np.testing.assert_array_equal(vector.look_replicate, simpy.look_replicate)
    np.testing.assert_array_equal(vector.look_stop, simpy.look_stop)
    np.testing.assert_array_equal(vector.look_responders, simpy.look_responders)
    np.testing.assert_allclose(vector.look_day, simpy.look_day, rtol=0, atol=1e-9)


LATE_LOOK = ["monitoring.looks=[10, 30]", "trial.study_end=2028-01-31", "analysis.final_cutoff={rule='date', date=2028-01-31}"]


@pytest.mark.parametrize(
    "extra",
    [LATE_LOOK, [*LATE_LOOK, *NEVER_FULL, "monitoring.looks=[10, 20]", "efficacy.orr=0.3"]],
    ids=["fixed_target", "replacing_never_full"],
)
def test_a_look_due_after_the_study_end_never_happens_in_either_engine(extra: list[str]) -> None:
    model = _model("bayesian", extra)
    vector = des_seeded_histories(model, 5, 0, 100)
    simpy = HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(5, 0, 100)])
    _assert_same_histories(vector, simpy)
    second = np.zeros(100, bool)
    n = model.rule.look_sizes[1]
    second[simpy.look_replicate[simpy.look_patients == n]] = True
    went_on = np.ones(100, bool)
    went_on[simpy.look_replicate[simpy.look_stop]] = False
    assert (~second & went_on & (simpy.patients >= n)).any()  # enough enrolled, but the look would come too late


def test_a_futility_stop_closes_the_lockstep_and_a_later_loss_is_replaced_by_nobody() -> None:
    # Simon-like look of 2 patients: patient 0 enrolls on day 2 (dose day 3), patient 1 on day 4 (dose day 5);
    # both judged 10 days after first dose, so the look is on day 15; no response, so it stops.
    arrivals = _arrivals([1.0, 3.0, 6.0, 14.0, 16.0], [1, 1, 1, 1, 1])
    evaluable = np.array([[True, False, True, True, True]])
    known_after = np.array([[40.0, 9.0, 40.0, 40.0, 40.0]])  # patient 1's loss is known on 5 + 9 = 14, before the look

    def looks(pause: bool) -> LockstepLooks:
        return LockstepLooks(
            (2,), pause, 1000.0, np.full((1, 5), 10.0), np.full((1, 5), np.inf),
            lambda responders, n: responders <= 0,
        )

    overrun = looks(False)
    e, _ = enroll_replacing(arrivals, 1, 3, 100.0, evaluable, known_after, np.array([5]), overrun)
    # overrun: the decision on day 7 enrolls (then enrollment is full until the loss is known on day 14); the one
    # on day 15 comes on the stop's day, too late
    assert e.rank.tolist() == [0, 1, 2, -1, -1]
    assert e.screened.tolist() == [True, True, True, True, False]  # the arrival on day 16 comes after the stop
    assert e.target.tolist() == [4]  # the loss known on day 14 raised the target
    (record,) = overrun.look_records()
    assert record.day.tolist() == [15.0] and record.stop.tolist() == [True] and record.responders.tolist() == [0]
    paused = looks(True)
    e, _ = enroll_replacing(arrivals, 1, 3, 100.0, evaluable, known_after, np.array([5]), paused)
    # paused from the second enrollment (day 4) to the look: arrival 6 and 14 are not screened, and the stop closes
    assert e.rank.tolist() == [0, 1, -1, -1, -1] and e.screened.tolist() == [True, True, False, False, False]
    late = np.array([[40.0, 12.0, 40.0, 40.0, 40.0]])  # the loss is known on day 17, after the stop
    e, _ = enroll_replacing(arrivals, 1, 3, 100.0, evaluable, late, np.array([5]), looks(False))
    assert e.target.tolist() == [3]


def test_auto_picks_the_vector_engine_for_a_forecast_and_the_simpy_layout_is_for_runs_alone() -> None:
    """A forecast's trial state runs on vector (tests/test_vector_forecast.py); des_seeded_histories refuses it."""
    model = _model("simon")
    _, forecast = forecast_models(model, ObservedTrial((), outcomes_known=True), dt.date(2025, 11, 14))
    assert choose_engine(forecast) == "vector"
    with pytest.raises(EngineError, match=r"from the study start; a forecast has its own layout"):
        des_seeded_histories(forecast, 1, 0, 5)
    others = ("efficacy.orr_prior={beta=[3, 12]}", "trial.replace_non_evaluable=true")
    assert {choose_engine(_model("simon", [extra])) for extra in others} == {"vector"}


def _assert_same_histories(vector: HistoryBatch, simpy: HistoryBatch) -> None:
    """Every field equal, days to 1e-9 (SimPy's clock arithmetic)."""
    for field in dataclasses.fields(HistoryBatch):
        mine, theirs = getattr(vector, field.name), getattr(simpy, field.name)
        if isinstance(mine, PatientJourneys):
            for part in dataclasses.fields(PatientJourneys):
                np.testing.assert_array_equal(getattr(mine, part.name), getattr(theirs, part.name), err_msg=part.name)
        elif field.name in DAYS:
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-9, err_msg=field.name)
        else:
            np.testing.assert_array_equal(mine, theirs, err_msg=field.name)


def test_auto_runs_what_choose_engine_names_and_checkpoints_name_the_engine() -> None:
    model = _model("simon", ["efficacy.orr_prior={beta=[3, 12]}"])
    auto = sim.run(model, replicates=10, seed=4, engine="auto", progress=False)
    vector = sim.run(model, replicates=10, seed=4, engine="vector", progress=False)
    pd.testing.assert_frame_equal(auto.replicates, vector.replicates, check_exact=True)
    assert auto.engine == "vector"
    names = {RunPlan(model=model, seed=1, engine=resolve_engine(e)).fingerprint(250) for e in ("des", "vector", "auto")}
    assert len(names) == 3 and resolve_engine("auto") is AUTO_ENGINE
