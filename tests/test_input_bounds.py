"""Input a user types by mistake: refused before any compute, or read the way it was meant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.model.recruitment import site_rates
from sim.runs.runner import RunError
from sim.scenario import ScenarioError, load_scenario, scenario_path


def test_an_absurd_recruitment_rate_is_refused_naming_the_fields() -> None:
    with pytest.raises(ScenarioError, match=r"recruitment implies about 2.45e\+06 screened patients per simulated trial .* lower recruitment.sites\[i\].screened_per_month or recruitment.periods\[i\].rate_factor"):
        load_scenario("base", ["recruitment.periods.0.rate_factor=100", "recruitment.sites.0.screened_per_month=1000"])
    with pytest.raises(ScenarioError, match=r"recruitment.periods\[0\].rate_factor must be a number in \[0, 100\], got 1000000.0"):
        load_scenario("base", ["recruitment.periods.0.rate_factor=1e6"])


def test_a_study_of_thousands_of_years_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"trial.study_end \(9999-12-31\) is 7974 years after trial.study_start; at most 50 years"):
        load_scenario("base", ["trial.study_end=9999-12-31"])


def test_a_byte_order_mark_is_read(tmp_path) -> None:
    text = scenario_path("base").read_text(encoding="utf-8")
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert load_scenario(path) == load_scenario("base")


def test_one_override_may_be_a_string() -> None:
    assert load_scenario("base", "efficacy.orr=0.2").efficacy.orr == 0.2


def test_run_takes_a_scenario_name_and_numpy_integers() -> None:
    by_name = sim.run("base", replicates=np.int64(4), seed=np.int64(3), progress=False)
    by_object = sim.run(load_scenario("base"), replicates=4, seed=3, progress=False)
    pd.testing.assert_frame_equal(by_name.replicates, by_object.replicates)
    with pytest.raises(RunError, match="scenario must be a Scenario, a TrialModel or a scenario file or name, got 3"):
        sim.run(3)  # type: ignore[arg-type]


def test_a_site_activated_before_opening_has_ramped_up_by_then(base) -> None:
    site = base.recruitment.sites[0]
    early = type(site)(name=site.name, activation=base.trial.recruitment_open.replace(year=2025, month=9), screened_per_month=3.0, ramp_up_months=2.0)
    open_day = float((base.trial.recruitment_open - base.trial.study_start).days)
    rates = site_rates(early, 0, base.trial.study_start, open_day, 0.0, np.random.default_rng(0))
    assert rates.activation_day == open_day
    # activated 2025-09-15, two months' ramp: fully ramped by the opening on 2025-11-15
    assert rates.ramps(np.array([open_day]))[0] == pytest.approx(1.0)
    assert rates.ramps(np.array([open_day - 31.0]))[0] < 1.0
