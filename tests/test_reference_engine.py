"""The reference engine: its independence, its protocol rules on hand-built patients, its plumbing,
the regression cases of every disagreement found with the default engine, and agreement in
distribution with the default engine on independent seeds (4 combined MCSE).
"""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.engines import resolve_engine
from sim.engines.contract import ChunkEngine, HistoryEngine
from sim.engines.reference import REFERENCE_ENGINE
from sim.engines.reference.database import EnrolledPatient, at_cutoff
from sim.engines.reference.patient import PatientCourse, Protocol, follow_patient
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.stats import Estimate
from tests.test_reference_agreement import BAYES, SIMON

PACKAGE = Path(__file__).resolve().parents[1] / "sim" / "engines" / "reference"
ALLOWED = {
    "sim.scenario", "sim.model.patient_model", "sim.stats", "sim.units", "sim.model.trial_model", "sim.analysis.records",
    "sim.runs.checkpoints", "sim.engines.contract", "sim.distributions", "sim.engines.reference",
}
FORBIDDEN = {
    "sim.model.journey", "sim.model.recist", "sim.model.observe", "sim.engines.des", "sim.engines.chunk", "sim.engines.vector",
    "sim.model.recruitment", "sim.model.monitoring", "sim.analysis.batch", "sim.analysis.tables", "sim.model.history",
}
INF = math.inf


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of the ``sim`` modules a file of the package imports (relative imports resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["sim", "engines", "reference"][: 4 - node.level]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
    return {m for m in found if m.split(".")[0] == "sim"}


def test_the_reference_engine_imports_only_what_the_independence_rule_allows() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert {f.name for f in files} >= {"patient.py", "database.py", "trial.py", "analysis.py", "engine.py"}
    imported = {m for f in files for m in _imported_modules(f)}
    tops = {".".join(m.split(".")[: 3 if m.split(".")[1] in ("engines", "model", "analysis", "runs") else 2]) for m in imported}
    assert tops <= ALLOWED, tops - ALLOWED
    assert not tops & FORBIDDEN
    assert "sim.stats" in tops and "sim.model.patient_model" in tops  # the parser reads the imports we know are there


def test_it_is_the_chunk_engine_named_reference() -> None:
    assert isinstance(REFERENCE_ENGINE, ChunkEngine) and not isinstance(REFERENCE_ENGINE, HistoryEngine)
    assert REFERENCE_ENGINE.name == "reference"
    assert resolve_engine("reference") is REFERENCE_ENGINE


# ---- the protocol, on hand-built patients (base schedule: 21-day cycles, scans every 42 days) ----

PROTOCOL = Protocol(
    cycle_days=21, max_cycles=8, scan_interval_days=42, confirmation_required=True, confirmation_min_days=28,
    follow_up_days=1000.0, judgement_days=273.0,
)


def course(**given: Any) -> PatientCourse:
    """A patient who neither progresses nor dies within the scans, unless given."""
    row: dict[str, Any] = {
        "progression_day": 5000.0, "death_day": 6000.0, "responder": False, "complete_response": False,
        "response_onset_day": INF, "pfs_event_day": 5000.0, "withdrawal_day": INF, "lost_to_follow_up_day": INF,
        "ae_occurs": (False,) * 40, "ae_interrupts": (False,) * 40, "ae_discontinues": (False,) * 40,
        "interruption_days": (0,) * 40, "scan_offset_days": (0,) * 30, "scan_missed": (False,) * 30,
        "transient_response": False, "new_therapy_delay_days": INF,
        "unscheduled_progression": False, "unscheduled_fraction": 0.0,
    }
    row.update(given)
    return PatientCourse(**row)


def test_an_unscheduled_assessment_finds_progression_before_the_next_scan() -> None:
    """Day ceil(80 + 0.5 * (84 - 80)) = 82, also when the scan due on day 84 was to be missed."""
    missed = (False, True) + (False,) * 28
    for given in ({}, {"scan_missed": missed}):
        record = follow_patient(
            course(progression_day=80.0, pfs_event_day=80.0, unscheduled_progression=True, unscheduled_fraction=0.5,
                   **given),
            PROTOCOL,
            3000,
        )
        assert record.progression_day == 82 and [s.day for s in record.scans] == [42, 82]
        assert not record.missed_scans


def test_progression_found_on_a_cycle_day_ends_treatment_before_that_cycle() -> None:
    record = follow_patient(course(progression_day=80.0, pfs_event_day=80.0), PROTOCOL, 3000)
    assert [c.day for c in record.cycles] == [0, 21, 42, 63]  # the scan on day 84 is read before dosing
    assert (record.treatment_end_day, record.treatment_end_reason) == (84, "progression")


def test_progression_wins_over_an_ae_stop_on_the_same_day() -> None:
    record = follow_patient(
        course(progression_day=80.0, pfs_event_day=80.0, ae_occurs=(False, False, False, True) + (False,) * 36,
               ae_discontinues=(False, False, False, True) + (False,) * 36),
        PROTOCOL, 3000,
    )
    assert (record.treatment_end_day, record.treatment_end_reason) == (84, "progression")


def test_a_scan_on_the_day_of_death_is_not_done_and_death_ends_treatment() -> None:
    record = follow_patient(course(death_day=84.0, progression_day=INF), PROTOCOL, 3000)
    assert [s.day for s in record.scans] == [42]
    assert (record.treatment_end_day, record.treatment_end_reason, record.death_day) == (84, "death", 84)


def test_a_scan_on_the_last_day_of_follow_up_is_done() -> None:
    protocol = replace(PROTOCOL, max_cycles=2, follow_up_days=42.0)  # treatment ends day 42, follow-up to day 84
    record = follow_patient(course(), protocol, 3000)
    assert [s.day for s in record.scans] == [42, 84]
    assert record.contact_end_day == 84


def test_a_death_after_follow_up_is_never_in_the_database() -> None:
    protocol = replace(PROTOCOL, max_cycles=2, follow_up_days=42.0)
    record = follow_patient(course(death_day=100.0, progression_day=INF), protocol, 3000)
    assert record.death_day == INF and record.contact_end_day == 84


def test_a_response_is_confirmed_by_a_later_scan_at_least_the_minimum_apart() -> None:
    responder = course(responder=True, response_onset_day=40.0)
    assert follow_patient(responder, PROTOCOL, 3000).confirmation_day == 84
    assert follow_patient(responder, replace(PROTOCOL, confirmation_min_days=43), 3000).confirmation_day == 126
    assert follow_patient(responder, replace(PROTOCOL, confirmation_required=False), 3000).confirmation_day == 42


# ---- regression cases: every disagreement found (docs/reference_engine.md) ----

def test_disagreement_1_a_single_responding_scan_never_confirms_itself() -> None:
    """confirmation_min_days = 0: the default confirmed a lone PR (a transient one too) at its own scan."""
    from sim.model.recist import Response, confirmation_day

    scans = np.array([[42.0, 84.0, 126.0]])
    lone = np.array([[Response.PR, Response.SD, Response.SD]], dtype=np.int8)
    pair = np.array([[Response.PR, Response.PR, Response.SD]], dtype=np.int8)
    assert confirmation_day(scans, lone, True, 0)[0] == INF
    assert confirmation_day(scans, pair, True, 0)[0] == 84
    transient = follow_patient(course(transient_response=True), replace(PROTOCOL, confirmation_min_days=0), 3000)
    assert [s.reading for s in transient.scans[:2]] == ["PR", "SD"] and transient.confirmation_day == INF


def test_a_patient_at_cutoff_shows_only_what_is_dated_by_then() -> None:
    record = follow_patient(course(responder=True, response_onset_day=40.0), PROTOCOL, 3000)
    patient = EnrolledPatient(0, 0.0, 0.0, 10.0, record)
    before = at_cutoff(patient, 10.0 + 83.0, 35, "treatment_policy")
    on_the_day = at_cutoff(patient, 10.0 + 84.0, 35, "treatment_policy")
    assert before.best_overall_response == "SD" and before.any_response
    assert on_the_day.best_overall_response == "PR"
    assert (on_the_day.pfs_days, on_the_day.pfs_event) == (84, False)
    assert on_the_day.os_days == 84 and not on_the_day.os_event


# ---- agreement in distribution with the default engine (independent seeds) ----

def _close(a: Estimate, b: Estimate) -> bool:
    return abs(a.value - b.value) <= 4 * math.hypot(a.mcse, b.mcse) + 1e-12


def _figures(result: Any) -> dict[str, Estimate]:
    s = result.summary
    figures = {"power": s.power, "enrollment_complete": s.enrollment_complete, "orr_mean": s.orr_mean,
               "early_stop": s.early_stop, "n_enrolled": s.n_enrolled}
    for name, by_q in s.timeline.items():
        for q, estimate in by_q.items():
            figures[f"{name} q{q:g}"] = estimate
    if s.monitored and s.timing is not None:
        figures.update(s.timing.columns())
    return figures


@pytest.mark.slow
@pytest.mark.parametrize(
    "overrides",
    [
        (),
        ("efficacy.orr=0.3", SIMON),
        (BAYES, "recruitment.sites.0.screened_per_month=4"),
        ("trial.replace_non_evaluable=true", "safety.withdrawal_per_month=0.1", "schedule.missed_scan_probability=0.2"),
        ("efficacy.orr=0.2", SIMON, "trial.replace_non_evaluable=true", "safety.withdrawal_per_month=0.15"),
    ],
    ids=["base", "simon", "bayesian", "replacement", "replacement_simon"],
)
def test_figures_agree_with_the_default_engine_within_4_combined_mcse(overrides: tuple[str, ...]) -> None:
    scenario = load_scenario("base", overrides)
    default = _figures(run(scenario, replicates=1500, seed=11, n_jobs=1))
    reference = _figures(run(scenario, replicates=1500, seed=12, n_jobs=1, engine="reference"))
    far = {k: (default[k], reference[k]) for k in default if not _close(default[k], reference[k])}
    assert not far, far


def test_disagreement_2_an_end_of_treatment_seen_at_the_cutoff_has_its_date(base: Any) -> None:
    """An os_events cutoff on the day a patient died on treatment: the default showed reason 'death'
    with no date, because (dose + day) - dose can round below day."""
    from sim.analysis.tables import patient_table
    from sim.model.history import TrialHistory
    from sim.model.journey import END_REASONS
    from sim.model.observe import observe
    from tests.helpers import hand_built_journeys, journey_patient

    dose, died = 511.0, 475.232
    assert (dose + died) - dose < died  # the rounding that exposed it
    journeys = hand_built_journeys(
        journey_patient(death_day=died, treatment_end_day=died, treatment_end_reason=END_REASONS.index("death"),
                        follow_up_end_day=died)
    )
    history = TrialHistory(
        sample_size=1, enrollment_target=1, n_screened=1, n_screen_failed=0, n_turned_away=0,
        site=np.zeros(1, np.int64), consent_day=np.array([490.0]), enrollment_day=np.array([505.0]),
        first_dose_day=np.array([dose]), journeys=journeys, enrollment_complete_day=505.0, true_orr=0.15,
    )
    model = TrialModel.from_scenario(base)
    table = patient_table(history, model, observe(journeys, history.first_dose_day, dose + died, 35), 0, "final")
    assert table["treatment_end_reason"][0] == "death"
    assert table["treatment_end_date"][0] == model.dates(dose + died)

    record = follow_patient(course(death_day=died, progression_day=INF, pfs_event_day=died), replace(PROTOCOL, max_cycles=40), 3000)
    seen = at_cutoff(EnrolledPatient(0, 490.0, 505.0, dose, record), dose + died, 35, "treatment_policy")
    assert (seen.treatment_end_reason, seen.treatment_end_day, seen.os_event) == ("death", died, True)


REPLACING_SIMON = (
    "monitoring={rule='simon', stage1_patients=10, stage1_max_responders=1, final_max_responders=5, "
    "pause_enrollment=false}",
    "trial.replace_non_evaluable=true",
    "safety.withdrawal_per_month=0.3",
    "efficacy.orr=0.1",
    "recruitment.sites.0.screened_per_month=6",
)


def test_disagreement_3_the_reference_replaces_nobody_after_a_futility_stop() -> None:
    import simpy

    from sim.engines.reference.trial import EnrollmentDesk, PatientSupply

    model = TrialModel.from_scenario(load_scenario("base", REPLACING_SIMON))
    env = simpy.Environment()
    desk = EnrollmentDesk(env, model, np.random.default_rng(0), PatientSupply(model.patients, np.random.default_rng(1), 35))
    env.process(desk.replace_later(10.0))
    env.run(until=5.0)
    desk.closed = True  # a futility stop before the loss is known
    env.run(until=20.0)
    assert desk.log.enrollment_target == 35


def test_disagreement_3_the_default_engine_replaces_nobody_after_a_futility_stop(monkeypatch: Any) -> None:
    import sim.engines.des as default

    model = TrialModel.from_scenario(load_scenario("base", REPLACING_SIMON))
    raised_after_stop: list[float] = []
    replace_ = default._Enrollment._replace

    def watched(self: Any, event: Any) -> None:
        before = self.target
        replace_(self, event)
        if self.closed and self.target > before:
            raised_after_stop.append(self.env.now)

    monkeypatch.setattr(default._Enrollment, "_replace", watched)
    for seed in np.random.SeedSequence(5).spawn(10):
        default.simulate_trial(model, seed)
    assert not raised_after_stop
