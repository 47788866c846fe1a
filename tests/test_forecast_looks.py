"""A forecast after an interim look: the look's outcome given, the rest of the design forecast; bad looks refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.forecast import parse_observed
from sim.forecast.looks import LookError
from sim.forecast.result import conditional_model, forecast_document
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import load_scenario

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"
AS_OF = dt.date(2026, 11, 15)


def _simon(n1: int, r1: int = 0, r: int = 5) -> list[str]:
    return [
        'monitoring.rule="simon"',
        f"monitoring.stage1_patients={n1}",
        f"monitoring.stage1_max_responders={r1}",
        f"monitoring.final_max_responders={r}",
    ]


def _setup(n1: int, r1: int = 0):
    scenario = load_scenario("base", _simon(n1, r1))
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    return TrialModel.from_scenario(scenario), parse_observed(frame, scenario, AS_OF, "example")


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_after_a_held_look_the_engine_runs_no_look_and_the_final_rule_is_simons(engine: str) -> None:
    """Stage 1 passed with 1 responder of 7: no replicate looks or stops, success is more than r = 5 responders."""
    model, observed = _setup(7)
    conditional = conditional_model(model, observed, AS_OF, looks=[1])
    table = run(conditional, replicates=60, seed=3, engine=engine, progress=False).replicates
    assert (table["interim_looks"] == 0).all() and not table["stopped_early"].any()
    assert (table["reject_h0"] == (table["responders"] > 5)).all()
    assert table["reject_h0"].any() and not table["reject_h0"].all()  # both verdicts occur: the check has teeth


@pytest.mark.parametrize("engine", ["des", "vector"])
def test_a_look_whose_patients_are_still_being_judged_happens_after_the_as_of_date(engine: str) -> None:
    """Ten enrolled, two unconfirmed responses not yet settled: the look is still to come, and the engine holds it."""
    model, observed = _setup(10)
    table = run(conditional_model(model, observed, AS_OF), replicates=60, seed=3, engine=engine, progress=False)
    table = table.replicates
    assert (table["interim_looks"] == 1).all()
    assert (pd.to_datetime(table["first_look_date"]) > pd.Timestamp(AS_OF)).all()
    # a responder confirmed by the look counts: the one confirmed already is always among them
    assert (table["first_look_responders"] >= 1).all()


@pytest.mark.parametrize(
    ("n1", "looks", "message"),
    [
        (7, [0], "--look 0 (look 1, at 7 patients): that many responders stop the trial for futility"),
        (7, [2], "the first 7 patients in the file have 1 confirmed responses"),
        (7, [1, 1], "--look: 2 looks given, but the design has 1 interim look(s) (7,)"),
        (12, [1], "patient MADE-UP-11 was not judged by the as-of date"),
        (13, [1], "only 12 patients are enrolled, so it cannot have been held"),
        (7, [], "monitoring: the interim look 1 at 7 patients is due (all 7 were judged by the as-of date)"),
    ],
)
def test_looks_that_do_not_fit_are_refused(n1, looks, message) -> None:
    model, observed = _setup(n1)
    with pytest.raises(LookError) as caught:
        conditional_model(model, observed, AS_OF, looks=looks)
    assert message in str(caught.value)


def test_the_cli_takes_the_look_and_says_so(capsys) -> None:
    words = ["forecast", "--observed", str(EXAMPLE), "--as-of", str(AS_OF), "--replicates", "20", "--no-progress"]
    simon = [f"--set={s}" for s in _simon(7)]
    assert main([*words, *simon, "--look", "1", "--json"]) == 0
    document = capsys.readouterr().out
    assert '"interim_looks_held": [\n    {\n      "look": 1,\n      "patients": 7,\n      "responders": 1' in document
    assert main([*words, *simon]) == 2
    assert "give its outcome, the responders it counted, with --look" in capsys.readouterr().err


def test_the_document_lists_the_looks_held() -> None:
    from sim.forecast.result import forecast

    model, observed = _setup(7)
    result = forecast(model, observed, AS_OF, looks=[1], replicates=10, seed=1, progress=False)
    assert forecast_document(result)["interim_looks_held"] == [{"look": 1, "patients": 7, "responders": 1}]
