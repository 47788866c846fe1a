"""Who the file says was judged for a look is who the engine judged, under both triggers and both confirmation rules."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.engines.des import simulate_trial
from sim.forecast import parse_observed
from sim.forecast.looks import counts_as_confirmed, judged_by
from sim.forecast.synthetic import observed_frame
from sim.model.monitoring import LookTrigger, judged_days
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds
from sim.scenario import load_scenario

AS_OF = dt.date(2027, 2, 1)
TRIGGERS = {
    "assessments": [],
    "assessments, confirmation not required": ["schedule.confirmation_required=false"],
    "judgement_window": ['monitoring.look_trigger="judgement_window"', "monitoring.judgement_days=365"],
    "judgement_window, confirmation not required": [
        'monitoring.look_trigger="judgement_window"',
        "monitoring.judgement_days=365",
        "schedule.confirmation_required=false",
    ],
}


@pytest.mark.parametrize("overrides", TRIGGERS.values(), ids=list(TRIGGERS))
def test_judged_by_agrees_with_the_engine_for_patients_without_a_pending_response(overrides) -> None:
    """Simulated trials without missed scans: judged_by (from the file) equals judged_days < the as-of date's end.

    Patients whose CR/PR awaits confirmation are left out: the file cannot tell (module doc of looks); so are
    those who withdrew or were lost after a treatment that ended otherwise (the file has one end reason).
    Without required confirmation the file's ``confirmed`` is set false: any CR/PR still counts.
    """
    scenario = load_scenario("base", ["schedule.missed_scan_probability=0.0", *overrides])
    model = TrialModel.from_scenario(scenario)
    trigger = LookTrigger.from_scenario(scenario.monitoring, scenario.schedule)
    end = (AS_OF - scenario.trial.study_start).days + 1.0
    compared = judged = 0
    for trial in range(3):
        history = simulate_trial(model, replicate_seeds(90_000, trial, trial + 1)[0])
        frame = observed_frame(history, model, AS_OF)
        if not scenario.schedule.confirmation_required:  # a database that leaves the column unset then
            frame.loc[frame["best_response"].isin(["CR", "PR"]), "confirmed"] = "false"
        observed = parse_observed(frame, scenario, AS_OF, "synthetic")
        enrolled = np.flatnonzero(history.enrollment_day < end)
        journeys = history.journeys.take(enrolled)
        truth = history.first_dose_day[enrolled] + judged_days(journeys, trigger) < end
        left = history.first_dose_day[enrolled] + journeys.follow_up_end_day < end
        for patient, engine, gone in zip(observed.patients, truth, left):
            pending = patient.best_response in ("CR", "PR") and not counts_as_confirmed(patient, scenario)
            if patient.first_dose_date is None or (pending and trigger.kind == "assessments"):
                continue
            if gone and patient.treatment_end_reason not in ("withdrawal", "lost_to_follow_up"):
                continue  # withdrew or was lost after treatment ended otherwise: the file has no column for it
            assert judged_by(patient, AS_OF, scenario) == bool(engine), patient
            compared += 1
            judged += bool(engine)
    assert compared >= 30 and 0 < judged < compared  # both answers occur: the check has teeth
