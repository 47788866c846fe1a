"""Bad observed files and forecast options: one line naming the row and the column, exit 2, no traceback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.forecast import ObservedError, parse_observed
from sim.forecast.looks import LookError
from sim.forecast.result import conditional_model, forecast_models
from sim.model.conditioning import ConditioningError, draw_given_status, status_at
from sim.model.journey import plan_journeys
from sim.model.trial_model import TrialModel
from sim.model.trial_state import KnownOutcomes
from sim.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"
AS_OF = dt.date(2026, 11, 15)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)


def _parse(frame: pd.DataFrame, *overrides: str) -> None:
    parse_observed(frame, load_scenario("base", list(overrides)), AS_OF, "observed file f.csv")


def _edited(frame: pd.DataFrame, row: int, **cells: str) -> pd.DataFrame:
    out = frame.copy()
    for column, value in cells.items():
        out.loc[row, column] = value
    return out


# (description, row (0-based), cells to set, the message's row and column, words it must hold)
BAD_ROWS = [
    ("unknown site", 2, {"site": "Other centre"}, "row 3 (patient MADE-UP-03), column site", "allowed: Lead centre"),
    (
        "date after the as-of date",
        4,
        {"last_scan_date": "2026-11-20"},
        "row 5 (patient MADE-UP-05), column last_scan_date",
        "after the as-of date",
    ),
    (
        "enrollment before the site's activation",
        0,
        {"enrollment_date": "2025-11-01"},
        "row 1 (patient MADE-UP-01), column enrollment_date",
        "could enroll",
    ),
    (
        "response without a first dose",
        11,
        {
            "enrollment_date": "2026-11-12",
            "first_dose_date": "",
            "best_response": "PR",
            "confirmed": "false",
            "last_scan_date": "",
        },
        "row 12 (patient MADE-UP-12), column best_response",
        "needs a first dose",
    ),
    (
        "death before enrollment",
        5,
        {"death_date": "2026-06-01"},
        "row 6 (patient MADE-UP-06), column death_date",
        "before the patient's enrollment",
    ),
    (
        "unparseable date",
        1,
        {"first_dose_date": "1 Feb 2026"},
        "row 2 (patient MADE-UP-02), column first_dose_date",
        "YYYY-MM-DD",
    ),
    (
        "unknown response",
        3,
        {"best_response": "MR"},
        "row 4 (patient MADE-UP-04), column best_response",
        "allowed: CR, PR, SD, PD, NE",
    ),
    (
        "confirmed missing for a PR",
        1,
        {"confirmed": ""},
        "row 2 (patient MADE-UP-02), column confirmed",
        "true or false",
    ),
    (
        "unknown end reason",
        3,
        {"treatment_end_reason": "boredom"},
        "row 4 (patient MADE-UP-04), column treatment_end_reason",
        "adverse_event",
    ),
    (
        "first dose long overdue",
        11,
        {"first_dose_date": "", "last_known_alive_date": "", "enrollment_date": "2026-10-01"},
        "row",
        "enrollment_to_first_dose_days",
    ),
]


@pytest.mark.parametrize(("what", "row", "cells", "where", "words"), BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_named_with_its_column(frame, what, row, cells, where, words) -> None:
    with pytest.raises(ObservedError) as caught:
        _parse(_edited(frame, row, **cells))
    message = str(caught.value)
    assert where in message and words in message and "\n" not in message


def test_duplicate_ids_and_too_many_patients_are_refused(frame) -> None:
    with pytest.raises(ObservedError, match=r"row 4, column patient_id: 'MADE-UP-01' repeats row 1"):
        _parse(_edited(frame, 3, patient_id="MADE-UP-01"))
    with pytest.raises(ObservedError, match=r"12 patients, more than trial.sample_size \(10\)"):
        _parse(frame, "trial.sample_size=10")


def test_unknown_and_missing_columns_are_named(frame) -> None:
    with pytest.raises(ObservedError, match="unknown column 'bor'; allowed columns: patient_id, site"):
        _parse(frame.rename(columns={"best_response": "bor"}))
    with pytest.raises(ObservedError, match="column 'site' is missing"):
        _parse(frame.drop(columns="site"))


def test_without_outcome_columns_the_forecast_conditions_on_enrollment_alone(frame) -> None:
    scenario = load_scenario("base")
    observed = parse_observed(frame[["patient_id", "site", "enrollment_date", "first_dose_date"]], scenario, AS_OF, "f")
    assert not observed.outcomes_known
    conditional = conditional_model(TrialModel.from_scenario(scenario), observed, AS_OF)
    assert conditional.start is not None and not conditional.start.outcomes.conditioned.any()


def test_a_look_already_due_is_refused_naming_monitoring(frame) -> None:
    """The first 7 patients were all judged by the as-of date: the look has happened, and its outcome is needed."""
    simon = [
        'monitoring.rule="simon"',
        "monitoring.stage1_patients=7",
        "monitoring.stage1_max_responders=0",
        "monitoring.final_max_responders=5",
    ]
    scenario = load_scenario("base", simon)
    observed = parse_observed(frame, scenario, AS_OF, "f")
    with pytest.raises(LookError, match="monitoring: the interim look 1 at 7 patients is due"):
        forecast_models(TrialModel.from_scenario(scenario), observed, AS_OF)


def test_a_status_the_model_cannot_produce_is_refused_naming_the_patient() -> None:
    """A confirmed CR on day 10 after first dose: no scan has happened yet in the model."""
    model = TrialModel.from_scenario(load_scenario("base"))
    wanted = KnownOutcomes(
        np.array([1], np.int8), np.array([True]), np.array([False]), np.array([False]), np.array([-1], np.int8)
    )
    with pytest.raises(ConditioningError, match="patient ODD-1: no draw"):
        draw_given_status(model.patients, wanted, np.array([100.0]), 110.0, np.random.default_rng(1), ("ODD-1",))


def test_an_accepted_draw_has_exactly_the_status_asked_for() -> None:
    """Conditioned on statuses the model itself produced, every draw shows that status at the as-of day."""
    model = TrialModel.from_scenario(load_scenario("base"))
    rng = np.random.default_rng(4)
    dose = np.full(300, 100.0)
    source = plan_journeys(model.patients, model.patients.draw(rng, 300))
    wanted = status_at(source, dose, 250.0, model.scenario.schedule.sd_min_days)
    drawn = draw_given_status(model.patients, wanted, dose, 250.0, rng)
    got = status_at(drawn, dose, 250.0, model.scenario.schedule.sd_min_days)
    for name in ("best_scan", "confirmed", "progressed", "dead", "end_reason"):
        np.testing.assert_array_equal(getattr(got, name), getattr(wanted, name))


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["--as-of", "15/11/2026"], "--as-of must be a date written YYYY-MM-DD"),
        (["--as-of", "2026-11-15", "--engine", "reference"], "--engine reference cannot start from a running trial"),
        (["--as-of", "2026-11-15", "--restart"], "--restart discards the checkpoints in --out and needs it"),
        (["--as-of", "2026-11-15", "--set", "trial.sample_size=10"], "more than trial.sample_size (10)"),
        (["--as-of", "2026-11-01"], "after the as-of date 2026-11-01"),
    ],
)
def test_cli_refusals_are_one_line_with_exit_2(capsys, words, message) -> None:
    assert main(["forecast", "--observed", str(EXAMPLE), "--replicates", "5", "--no-progress", *words]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
