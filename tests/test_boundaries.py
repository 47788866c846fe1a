"""Behaviour exactly at the boundaries: traffic lights at their thresholds, what a checkpoint's code
fingerprint covers, and what the forecast knows on its as-of date."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.forecast import ObservedError, parse_observed
from sim.forecast.state import as_of_day, orr_evidence
from sim.model.trial_model import TrialModel
from sim.reports.story import _date, _probability
from sim.runs.checkpoints import code_fingerprint
from sim.scenario import load_scenario
from sim.stats.mcse import Estimate
from sim.units import DAYS_PER_MONTH

# --- traffic lights ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, light",
    [(0.80, "green"), (0.80 - 1e-12, "amber"), (0.50, "amber"), (0.50 - 1e-12, "red"), (float("nan"), "red")],
)
def test_a_probability_light_at_its_thresholds(value: float, light: str) -> None:
    """Green from the green threshold on, amber from the amber one: the threshold itself is the better colour."""
    assert _probability("power", "Power", Estimate(value, 0.01, 100), 0.80, 0.50).light == light


ORIGIN, DEADLINE = dt.date(2025, 11, 1), dt.date(2027, 11, 30)


@pytest.mark.parametrize(
    "shift, light",
    [(-1.0, "green"), (0.0, "green"), (1e-9, "amber"), (None, "amber"), ("deadline+1", "red")],
)
def test_a_date_light_at_its_margin_and_deadline(shift, light: str) -> None:
    """Green at least 3 months before the deadline, amber up to and on the deadline, red after it."""
    green_day = (DEADLINE - ORIGIN).days - 3 * DAYS_PER_MONTH
    if shift is None:
        day = float((DEADLINE - ORIGIN).days)  # on the deadline
    elif shift == "deadline+1":
        day = float((DEADLINE - ORIGIN).days) + 1
    else:
        day = green_day + shift
    assert _date("lpi", "Last patient in", Estimate(day, 1.0, 100), ORIGIN, DEADLINE, 3.0).light == light


# --- the checkpoint fingerprint ---------------------------------------------------------------


def _package(root) -> None:
    (root / "sub").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "model.py").write_text("RATE = 1\n")
    (root / "sub" / "__init__.py").write_text("")
    (root / "sub" / "engine.py").write_text("STEP = 2\n")


def test_the_fingerprint_covers_subpackages_file_names_and_contents(tmp_path) -> None:
    _package(tmp_path)
    before = code_fingerprint(tmp_path)
    assert code_fingerprint(tmp_path) == before  # a fixed function of the source
    (tmp_path / "sub" / "engine.py").write_text("STEP = 3\n")  # a change inside a subpackage
    changed = code_fingerprint(tmp_path)
    assert changed != before
    (tmp_path / "sub" / "engine.py").rename(tmp_path / "sub" / "engines.py")  # same bytes, another module
    assert code_fingerprint(tmp_path) != changed
    (tmp_path / "notes.txt").write_text("not code")  # only Python source counts
    assert code_fingerprint(tmp_path) == code_fingerprint(tmp_path)


def test_the_installed_fingerprint_reads_every_subpackage() -> None:
    from pathlib import Path

    import sim

    root = Path(sim.__file__).resolve().parent
    assert code_fingerprint() == code_fingerprint(root)
    assert any(p.parent != root for p in root.rglob("*.py"))  # there are subpackages to cover


# --- the forecast on its as-of date -----------------------------------------------------------

AS_OF = dt.date(2026, 11, 13)


def _frame(**cells: str) -> pd.DataFrame:
    row = {"patient_id": "P1", "site": "Lead centre", "enrollment_date": "2026-01-10", "first_dose_date": "2026-01-14"}
    row.update(cells)
    return pd.DataFrame([row], dtype=str)


def test_what_happened_on_the_as_of_date_is_known_and_settles_the_patient() -> None:
    scenario = load_scenario("base")
    on_a_scan = {"first_dose_date": "2026-01-17", "best_response": "SD"}  # the seventh scan, 294 + 6 days on
    observed = parse_observed(_frame(**on_a_scan, progression_date=str(AS_OF)), scenario, AS_OF, "test")
    assert orr_evidence(observed) == (0, 1)  # a progression dated on the as-of date settles a non-responder
    death = {"death_date": str(AS_OF), "treatment_end_date": str(AS_OF), "treatment_end_reason": "death"}
    died = parse_observed(_frame(best_response="SD", **death), scenario, AS_OF, "test")
    assert orr_evidence(died) == (0, 1)  # so does a death
    confirmed = parse_observed(_frame(best_response="PR", confirmed="true"), scenario, AS_OF, "test")
    assert orr_evidence(confirmed) == (1, 0)
    # the as-of day runs to its end: every day-number on the date is before it
    model = TrialModel.from_scenario(scenario)
    assert as_of_day(model, AS_OF) == (AS_OF - scenario.trial.study_start).days + 1.0


@pytest.mark.parametrize("column", ["progression_date", "death_date", "enrollment_date"])
def test_a_date_after_the_as_of_date_is_refused_naming_it(column: str) -> None:
    later = str(AS_OF + dt.timedelta(days=1))
    cells = {column: later}
    if column != "enrollment_date":
        cells["best_response"] = "SD"
    with pytest.raises(ObservedError, match=column):
        parse_observed(_frame(**cells), load_scenario("base"), AS_OF, "test")


def test_an_enrollment_on_the_as_of_date_is_in_the_data() -> None:
    observed = parse_observed(
        _frame(enrollment_date=str(AS_OF), first_dose_date=""), load_scenario("base"), AS_OF, "test"
    )
    assert observed.n_enrolled == 1
