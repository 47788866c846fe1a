"""What a scenario implies before simulating (``sim.model.planning``, ``trialsim check``): against hand sums and the engine."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys

import numpy as np
import pytest

from sim.cli import main
from sim.model.patient_model import solve_post_progression_survival
from sim.model.planning import planning_figures
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import ScenarioError, builtin_scenarios, load_scenario, parse_scenario, read_scenario_file
from sim.scenario.variants import resolved_scenario
from sim.units import DAYS_PER_MONTH

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# One site at a known rate from the opening day, no ramp-up, no holidays, a fixed screening time.
STEADY = [
    "recruitment.sites=[{name = 'one', activation = 2025-11-15, screened_per_month = 3.0}]",
    "recruitment.periods=[]",
    "recruitment.rate_cv=0",
    "recruitment.screen_failure_probability=0.2",
    "recruitment.screening_days=[10, 10]",
]


def _figures(*overrides: str):
    return planning_figures(TrialModel.from_scenario(load_scenario("base", overrides)))


def test_steady_recruitment_matches_the_hand_sums() -> None:
    f = _figures(*STEADY)
    open_to_close = (dt.date(2027, 11, 30) - dt.date(2025, 11, 15)).days + 1
    per_day = 3.0 / DAYS_PER_MONTH
    assert f.screened_per_month == 3.0 and f.enrolled_per_month == pytest.approx(2.4)
    assert f.recruitment_months == pytest.approx(open_to_close / DAYS_PER_MONTH)
    assert f.months_to_sample_size == pytest.approx(35 / 2.4)
    assert f.expected_screened_by_close == pytest.approx(per_day * open_to_close, rel=1e-9)
    # enrolled only when screening (10 days) ends before the close
    assert f.expected_enrolled_by_close == pytest.approx(0.8 * per_day * (open_to_close - 10), rel=1e-9)
    # 35 enrolled expected once 35 / (0.8 per_day) days of screening have ended, 10 days later
    day = 10 + 35 / (0.8 * per_day)
    assert f.sample_size_reached == dt.date(2025, 11, 15) + dt.timedelta(days=math.floor(day))
    assert day % 1 > 0.5  # so a crossing read off the grid's next point would be a day late


def test_ramp_up_and_calendar_factors_enter_the_expected_counts() -> None:
    steady = _figures(*STEADY)
    ramped = _figures(*STEADY, "recruitment.sites.0.ramp_up_months=2")
    per_day = 3.0 / DAYS_PER_MONTH
    lost = per_day * 2 * DAYS_PER_MONTH / 2  # a linear ramp loses half of its span
    assert ramped.expected_screened_by_close == pytest.approx(steady.expected_screened_by_close - lost, rel=1e-6)
    holiday = _figures(*STEADY, "recruitment.periods=[{name = 'h', start = 2026-02-01, end = 2026-02-28, rate_factor = 0.25}]")
    assert holiday.expected_screened_by_close == pytest.approx(steady.expected_screened_by_close - 0.75 * 28 * per_day, rel=1e-9)


def test_a_plan_that_falls_short_says_so() -> None:
    f = _figures(*STEADY, "recruitment.sites.0.screened_per_month=1")
    assert f.expected_enrolled_by_close < 35 and f.sample_size_reached is None
    assert f.to_dict()["sample_size_reached"] is None


@pytest.mark.slow
def test_expected_accrual_is_what_the_engine_simulates() -> None:
    """The base plan (ramp-up, four holidays, screening 7-28 days) with a known rate: the engine's
    mean screened and enrolled counts are within 4 MCSE of the planning figures. The sample size is
    out of reach, so enrollment never stops early and the counts are the plan's capacity."""
    model = TrialModel.from_scenario(load_scenario("base", ["trial.sample_size=200", "recruitment.rate_cv=0"]))
    f = planning_figures(model)
    table = run(model, replicates=400, seed=3, progress=False).replicates
    assert (table["n_enrolled"] < 200).all()
    for column, expected in (("n_screened", f.expected_screened_by_close), ("n_enrolled", f.expected_enrolled_by_close)):
        values = table[column].to_numpy(dtype=float)
        mcse = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - expected) <= 4 * mcse, (column, values.mean(), expected, mcse)


def test_orr_ceiling_is_where_the_trial_model_refuses() -> None:
    f = _figures()
    assert f.confirmation_day == 91
    assert f.orr_ceiling == pytest.approx(float(load_scenario("base").efficacy.pfs.sf(91 / DAYS_PER_MONTH)))
    TrialModel.from_scenario(load_scenario("base", [f"efficacy.orr={f.orr_ceiling - 1e-6!r}"]))
    with pytest.raises(ScenarioError, match=r"efficacy.orr .* must be below the share of patients still progression-free"):
        TrialModel.from_scenario(load_scenario("base", [f"efficacy.orr={f.orr_ceiling + 1e-6!r}"]))


def test_post_progression_median_is_the_solved_one_or_the_given_one() -> None:
    base = load_scenario("base")
    f = _figures()
    solved = solve_post_progression_survival(base.efficacy.pfs, 12.0, base.efficacy.death_without_progression_share)
    assert f.post_progression_solved and f.post_progression_median_months == pytest.approx(solved.median, rel=1e-12)
    # --set cannot remove os_median_months, so the table is edited: post-progression survival given instead
    raw = read_scenario_file("base")
    del raw["efficacy"]["os_median_months"]
    raw["efficacy"]["post_progression_survival"] = {"family": "weibull", "median_months": 7.5, "shape": 1.3}
    given = planning_figures(TrialModel.from_scenario(parse_scenario(raw)))
    assert not given.post_progression_solved and given.post_progression_median_months == pytest.approx(7.5)


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_the_resolved_scenario_is_every_field_and_reads_back(name: str) -> None:
    scenario = load_scenario(name, ["efficacy.orr=0.2"])
    resolved = resolved_scenario(scenario, iso_dates=True)
    json.dumps(resolved)  # JSON as it is: dates are ISO strings
    assert resolved["trial"]["study_start"] == scenario.trial.study_start.isoformat()
    assert resolved["efficacy"]["orr"] == 0.2 and resolved["efficacy"]["pfs"]["family"] == scenario.efficacy.pfs.family
    assert "monitoring" in resolved and "judgement_days" in resolved["monitoring"]  # defaults shown too
    # absent optional fields are null and an empty list is the default: leave both out to read it back
    assert parse_scenario(_as_written(resolved)) == scenario


def _as_written(value):
    """A resolved table as a file would hold it: no null fields, no empty lists."""
    if isinstance(value, dict):
        return {k: _as_written(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [_as_written(v) for v in value]
    return value


# --- trialsim check -----------------------------------------------------------------------------


def test_check_prints_the_heading_the_resolved_scenario_and_the_figures(capsys) -> None:
    assert main(["check", "slow_recruitment", "--set", "trial.sample_size=20"]) == 0
    out = capsys.readouterr().out
    heading, rest = out.split("\n\n", 1)
    assert heading.splitlines()[0].startswith("Scenario slow_recruitment (") and "slow_recruitment.toml" in heading
    assert heading.splitlines()[1:] == ["Overrides trial.sample_size=20", "H0: ORR <= 0.1, one-sided alpha 0.05"]
    toml = rest.split("\n\n", 1)[1].split("\n\nPlanning figures")[0]
    assert parse_scenario(tomllib.loads(toml)) == load_scenario("slow_recruitment", ["trial.sample_size=20"])
    f = _figures_of("slow_recruitment", "trial.sample_size=20")
    figures = out.split("Planning figures", 1)[1]
    assert f"{f.expected_enrolled_by_close:.1f}" in figures and f"{f.orr_ceiling:.4f}" in figures
    assert f"the sample size (20) is reached on {f.sample_size_reached.isoformat()}" in figures


def _figures_of(name: str, *overrides: str):
    return planning_figures(TrialModel.from_scenario(load_scenario(name, overrides)))


def test_check_json(capsys) -> None:
    assert main(["check", "pessimistic", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["scenario_file"] == "pessimistic" and doc["overrides"] == []
    assert doc["resolved_scenario"] == resolved_scenario(load_scenario("pessimistic"), iso_dates=True)
    expected = _figures_of("pessimistic").to_dict()
    assert doc["planning"].pop("warnings") == expected.pop("warnings") == []
    assert doc["planning"] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["efficacy.orr=1.3"], "efficacy.orr must be a probability in [0, 1], got 1.3"),
        (["efficacy.orr=0.6"], "efficacy.orr (0.6) must be below the share of patients still progression-free"),
    ],
)
def test_check_refuses_what_a_run_refuses(overrides, message, capsys) -> None:
    assert main(["check", *[w for o in overrides for w in ("--set", o)]]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trialsim: error: {message}") and err.count("\n") == 1


def test_steady_figures_are_finite() -> None:
    f = _figures(*STEADY)
    assert all(np.isfinite(v) for v in (f.expected_enrolled_by_close, f.expected_screened_by_close, f.orr_ceiling))
