"""Double programming: the reference engine and the default engine agree record by record.

Both are fed the same latent draws (``PatientModel.draw``) and the same enrollment and first-dose
days. The default side is :func:`sim.model.journey.plan_journeys`, :func:`sim.model.observe.observe`,
:func:`sim.analysis.tables.patient_table` and :func:`tests.replicate_analysis.analyse_replicate`; the reference side is
:mod:`sim.engines.reference`. Every column of the patient table at both cutoffs, and every column
of the replicate row computed from the same patients, must be identical. The slow test runs
50,000 patients over the shipped scenarios and the stress variants; every disagreement found on
the way (docs/reference_engine.md) is kept as a hand-built case in tests/test_reference_engine.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.analysis.records import PATIENT_COLUMNS, REPLICATE_COLUMNS
from sim.analysis.records import stored as as_stored
from sim.analysis.tables import patient_table
from sim.engines.reference.analysis import patient_rows, replicate_row
from sim.engines.reference.database import EnrolledPatient
from sim.engines.reference.patient import PatientCourse, Protocol, follow_patient
from sim.engines.reference.trial import TrialLog
from sim.model.history import TrialHistory
from sim.model.journey import plan_journeys
from sim.model.monitoring import judged_days
from sim.model.observe import cutoff_day
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario
from tests.replicate_analysis import analyse_replicate, response_test

SIMON = "monitoring={rule='simon', stage1_patients=10, stage1_max_responders=1, final_max_responders=5, pause_enrollment=true}"
BAYES = (
    "monitoring={rule='bayesian', looks=[10, 20], futility_predictive=0.05, success_posterior=0.9, "
    "pause_enrollment=false}"
)
EARLY = "analysis.primary_cutoff={rule='after_last_first_dose', months=0.5}"
DEATHS = "analysis.final_cutoff={rule='os_events', events=12}"

# name: (scenario, overrides, integer first-dose days)
CASES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "base": ("base", (), False),
    "optimistic": ("optimistic", (), False),
    "pessimistic": ("pessimistic", (), False),
    "slow_recruitment": ("slow_recruitment", (), False),
    "heavy_dropout": ("base", ("safety.withdrawal_per_month=0.2", "safety.loss_to_follow_up_per_month=0.1"), False),
    "many_aes": (
        "base",
        (
            "safety.ae_probability_by_cycle=[0.6, 0.4]",
            "safety.ae_interruption_share=0.5",
            "safety.ae_discontinuation_share=0.4",
            "safety.new_therapy_probability=0.7",
            "analysis.pfs_censoring='fda'",
        ),
        False,
    ),
    "long_scan_windows": (
        "base",
        ("schedule.scan_window_days=20", "schedule.missed_scan_probability=0.3", "analysis.pfs_censoring='fda'"),
        False,
    ),
    "fda_both_rules": (
        "base",
        (
            "safety.ae_probability_by_cycle=[0.7]",
            "safety.ae_discontinuation_share=0.4",
            "safety.new_therapy_probability=1",
            "safety.new_therapy_days=[1, 120]",
            "schedule.missed_scan_probability=0.4",
            "analysis.pfs_censoring='fda'",
        ),
        False,
    ),
    "unscheduled_progressions": (
        "base",
        (
            "schedule.unscheduled_progression_share=0.5",
            "schedule.missed_scan_probability=0.3",
            "efficacy.death_without_progression_share=0.05",
            "analysis.pfs_censoring='fda'",
        ),
        False,
    ),
    "no_confirmation": ("base", ("schedule.confirmation_required=false",), False),
    "confirmation_same_day_allowed": (
        "base",
        ("schedule.confirmation_min_days=0", "efficacy.unconfirmed_response_share=0.3"),
        False,
    ),
    "short_cutoffs": ("pessimistic", (EARLY, DEATHS), False),
    "date_cutoffs_whole_days": (
        "base",
        ("analysis.primary_cutoff={rule='date', date=2027-03-01}", "analysis.final_cutoff={rule='date', date=2027-09-01}"),
        True,
    ),
    "deaths_cutoff_whole_days": ("pessimistic", (DEATHS, "safety.withdrawal_per_month=0.05"), True),
    "cycles_meet_scans": (
        "base",
        (
            "schedule.cycle_days=14",
            "schedule.scan_interval_days=28",
            "schedule.scan_window_days=0",
            "schedule.max_treatment_months=3",
            "schedule.survival_follow_up_months=0",
            "safety.ae_probability_by_cycle=[0.5]",
            "safety.ae_discontinuation_share=0.5",
            "safety.ae_interruption_share=0.3",
            "safety.new_therapy_probability=0.5",
            "analysis.pfs_censoring='fda'",
        ),
        True,
    ),
    "whole_day_follow_up": (
        "base",
        ("schedule.survival_follow_up_months=4", "schedule.scan_window_days=0", "schedule.max_treatment_months=2"),
        True,
    ),
    "evaluable_population": (
        "pessimistic",
        ("analysis.population='evaluable'", "schedule.sd_min_days=0", "efficacy.unconfirmed_response_share=0.2"),
        False,
    ),
    "simon": ("base", (SIMON, "efficacy.orr=0.3"), False),
    "bayesian": ("optimistic", (BAYES,), False),
}


@dataclass(frozen=True)
class Enrolled:
    """Given days (from study start) for a block of enrolled patients."""

    site: np.ndarray
    consent: np.ndarray
    enrollment: np.ndarray
    first_dose: np.ndarray


def given_patients(model: TrialModel, rng: np.random.Generator, n: int, whole_days: bool) -> Enrolled:
    """Enrollment and first-dose days spread over the recruitment period (whole days when asked)."""
    first_dose = np.sort(rng.uniform(model.open_day + 30, model.close_day, n))
    if whole_days:
        first_dose = np.floor(first_dose)
    enrollment = first_dose - rng.integers(1, 8, n)
    consent = enrollment - rng.integers(7, 29, n) - rng.random(n)
    return Enrolled(np.zeros(n, np.int64), consent, enrollment, first_dose)


def default_side(model: TrialModel, latent: Any, given: Enrolled) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The default engine's patient table (both cutoffs) and replicate row for these patients."""
    n = given.first_dose.shape[0]
    history = TrialHistory(
        sample_size=n,
        enrollment_target=n,
        n_screened=n,
        n_screen_failed=0,
        n_turned_away=0,
        site=given.site,
        consent_day=given.consent,
        enrollment_day=given.enrollment,
        first_dose_day=given.first_dose,
        journeys=plan_journeys(model.patients, latent),
        enrollment_complete_day=float(given.enrollment[-1]), true_orr=model.scenario.efficacy.orr,
    )
    plan = model.scenario.analysis
    row, primary, final = analyse_replicate(history, model, response_test(plan))
    tables = [patient_table(history, model, primary, 0, "primary"), patient_table(history, model, final, 0, "final")]
    assert primary.cutoff_day == cutoff_day(plan.primary_cutoff, history, model)
    return pd.concat(tables, ignore_index=True), row


def reference_side(
    model: TrialModel, latent: Any, given: Enrolled, protocol: Protocol | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The reference engine's patient table and replicate row for the same patients (its protocol unless given)."""
    s = model.scenario
    protocol = protocol or Protocol.from_schedule(s.schedule, s.monitoring)
    patients = [
        EnrolledPatient(
            int(given.site[i]),
            float(given.consent[i]),
            float(given.enrollment[i]),
            float(given.first_dose[i]),
            follow_patient(PatientCourse.of(latent, i), protocol, model.horizon_day - float(given.first_dose[i])),
        )
        for i in range(latent.size)
    ]
    n = len(patients)
    log = TrialLog(
        n_screened=n, enrollment_target=n, enrollment_complete_day=float(given.enrollment[-1]), patients=patients
    )
    plan = s.analysis
    row, primary, final = replicate_row(log, model, response_test(plan))
    tables = [patient_rows(patients, model, primary, 0, "primary"), patient_rows(patients, model, final, 0, "final")]
    return pd.concat(tables, ignore_index=True), row


def _same(a: Any, b: Any) -> bool:
    """Equal values, NaN and NaT equal to themselves; lists compared item by item."""
    if isinstance(a, (list, np.ndarray)) or isinstance(b, (list, np.ndarray)):
        a, b = list(a), list(b)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if pd.isna(a) and pd.isna(b):
        return True
    return bool(a == b)


def disagreements(
    model: TrialModel, seed: int, n: int, whole_days: bool, protocol: Protocol | None = None
) -> list[str]:
    """Every (patient, cutoff, column) and replicate column where the two engines differ."""
    rng = np.random.default_rng(seed)
    latent = model.patients.draw(rng, n)
    given = given_patients(model, rng, n, whole_days)
    default_table, default_row = default_side(model, latent, given)
    reference_table, reference_row = reference_side(model, latent, given, protocol)
    found = []
    d = as_stored(default_table, PATIENT_COLUMNS)
    r = as_stored(reference_table, PATIENT_COLUMNS)
    if len(d) != len(r):
        found.append(f"seed {seed}: {len(d)} patient rows by default, {len(r)} by reference")
        return found
    for column in [c.name for c in PATIENT_COLUMNS]:
        dc, rc = d[column].to_numpy(), r[column].to_numpy()
        if dc.dtype != object:
            equal = (dc == rc) | (pd.isna(dc) & pd.isna(rc))
            rows = np.flatnonzero(~equal)
        else:
            rows = np.array([k for k in range(len(d)) if not _same(dc[k], rc[k])], dtype=int)
        for k in rows:
            found.append(
                    f"seed {seed} patient {d['patient'].iloc[k]} {d['cutoff'].iloc[k]} {column}: "
                    f"default {d[column].iloc[k]!r}, reference {r[column].iloc[k]!r}"
                )
    for column in [c.name for c in REPLICATE_COLUMNS if c.name != "replicate"]:
        if not _same(default_row[column], reference_row[column]):
            found.append(f"seed {seed} replicate {column}: default {default_row[column]!r}, reference {reference_row[column]!r}")
    return found


def _model(case: str) -> tuple[TrialModel, bool]:
    name, overrides, whole_days = CASES[case]
    return TrialModel.from_scenario(load_scenario(name, overrides)), whole_days


@pytest.mark.parametrize("case", list(CASES))
def test_patient_tables_agree_record_by_record(case: str) -> None:
    model, whole_days = _model(case)
    found = [d for seed in range(3) for d in disagreements(model, seed, 100, whole_days)]
    assert not found, "\n".join(found[:20])


PATIENTS_PER_CASE = math.ceil(50_000 / len(CASES) / 200) * 200


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_fifty_thousand_patients_agree(case: str) -> None:
    """50,000 patients over all cases, in trials of 200 patients, every column at both cutoffs."""
    model, whole_days = _model(case)
    found = [d for seed in range(100, 100 + PATIENTS_PER_CASE // 200) for d in disagreements(model, seed, 200, whole_days)]
    assert not found, "\n".join(found[:20])


def test_the_comparison_sees_a_rule_moved() -> None:
    """A protocol that confirms later or gives cycles a day apart more must show up as disagreements."""
    model, _ = _model("base")
    s = model.scenario
    protocol = Protocol.from_schedule(s.schedule, s.monitoring)
    later = replace(protocol, confirmation_min_days=protocol.confirmation_min_days + 14)
    assert any("best_overall_response" in d for d in disagreements(model, 0, 200, False, later))
    longer = replace(protocol, cycle_days=protocol.cycle_days + 1)
    assert any("cycles_received" in d for d in disagreements(model, 0, 200, False, longer))


# The interim look's trigger (issue 27): the day each patient is judged for a look, both ways.
TRIGGERS = {
    "assessments": (),
    "three_scans_non_responder": ("monitoring.look_scans=3", "monitoring.pending_response='non_responder'"),
    "one_scan": ("monitoring.look_scans=1",),
    "window": ("monitoring.look_trigger='judgement_window'", "monitoring.judgement_days=91"),
}
TRIGGER_CASES = (
    "base",
    "heavy_dropout",
    "long_scan_windows",
    "confirmation_same_day_allowed",
    "no_confirmation",
    "unscheduled_progressions",
)


@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("case", TRIGGER_CASES)
def test_patients_are_judged_for_a_look_on_the_same_day(case: str, trigger: str) -> None:
    """The journey's vectorised trigger (:func:`sim.model.monitoring.judged_days`) against the reference's process."""
    name, overrides, _ = CASES[case]
    responders = ("efficacy.orr=0.35",) if case == "no_confirmation" else ("efficacy.orr=0.35", TRANSIENT)
    model = TrialModel.from_scenario(load_scenario(name, (*overrides, *responders, SIMON, *TRIGGERS[trigger])))
    protocol = Protocol.from_schedule(model.scenario.schedule, model.scenario.monitoring)
    latent = model.patients.draw(np.random.default_rng(3), 600)
    journeys = plan_journeys(model.patients, latent)
    vectorised = judged_days(journeys, model.look_trigger)
    by_process = np.array(
        [follow_patient(PatientCourse.of(latent, i), protocol, 5000.0).judged_day for i in range(latent.size)]
    )
    np.testing.assert_array_equal(vectorised, by_process)
    if trigger == "assessments" and case != "no_confirmation":
        # some patients wait for a pending response's confirmation scan, which the other rule does not
        other = replace(model.look_trigger, await_confirmation=False)
        assert (judged_days(journeys, other) < vectorised).sum() >= 10


TRANSIENT = "efficacy.unconfirmed_response_share=0.3"
