"""Scenario files: shipped scenarios load, and bad input gets a pinned, field-naming message."""

from __future__ import annotations

import re

import pytest

from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.scenario import ScenarioError, builtin_scenarios, load_scenario, parse_scenario, read_scenario_file


def test_shipped_scenarios_load() -> None:
    names = set(builtin_scenarios())
    assert {"base", "optimistic", "pessimistic", "slow_recruitment"} <= names
    for name in names:
        scenario = load_scenario(name)
        assert scenario.trial.sample_size == 35


def test_contract_keys(base) -> None:
    assert base.trial.sample_size == 35
    assert base.efficacy.orr == 0.15
    assert base.analysis.p0 == 0.10
    assert base.analysis.alpha == 0.05


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("efficacy.orr=1.3", "efficacy.orr must be a probability in [0, 1], got 1.3"),
        ("trial.sample_size=0", "trial.sample_size must be a whole number in [1, 10000], got 0"),
        ("trial.sample_size=3.5", "trial.sample_size must be a whole number in [1, 10000], got 3.5"),
        ("analysis.alpha=0.7", "analysis.alpha must be a number in (0, 0.5], got 0.7"),
        ("analysis.population='itt'", "analysis.population must be one of 'all_treated', 'evaluable', got 'itt'"),
        ("trial.study_start='soon'", "trial.study_start must be a date like 2026-01-31, got 'soon'"),
        ("efficacy.pfs.family='gompertz'", "efficacy.pfs.family must be one of 'exponential', 'weibull', 'loglogistic', 'lognormal', 'piecewise_exponential', got 'gompertz'"),
        ("efficacy.pfs.scale=3", "efficacy.pfs.scale is not a parameter of the weibull family; allowed: median_months, shape"),
        ("efficacy.pfs.median_months=-1", "efficacy.pfs.median_months must be a number in (0, 1200], got -1"),
        ("trial.sample_sise=30", "trial.sample_sise is not a known field; allowed: name, sample_size, study_start, recruitment_open, recruitment_close, study_end, registry_id, replace_non_evaluable"),
        ("recruitment.sites.0.screened_per_month=0", "recruitment.sites[0].screened_per_month must be a number in (0, 1000], got 0"),
        ("recruitment.screening_days=[9, 3]", "recruitment.screening_days must be a [min, max] pair of whole days with 0 <= min <= max <= 3650, got [9, 3]"),
        ("trial.recruitment_close=2025-10-01", "2 problems: trial.recruitment_close (2025-10-01) must be after trial.recruitment_open (2025-11-15); recruitment.sites[0].activation (2025-11-15) must not be after trial.recruitment_close (2025-10-01)"),
        ("safety.ae_discontinuation_share=0.5", "safety.ae_interruption_share + safety.ae_discontinuation_share must not exceed 1, got 1.1"),
        ("analysis.final_cutoff.rule='os_events'", "analysis.final_cutoff.events is required when analysis.final_cutoff.rule is 'os_events'"),
        ("schedule.scan_window_days=21", "schedule.scan_window_days (21) must be less than half of schedule.scan_interval_days (42) so scans keep their order"),
        ("analysis.ci_level=1", "analysis.ci_level must be a number in [0.5, 1), got 1"),
        ("analysis.ci_level=1e-9", "analysis.ci_level must be a number in [0.5, 1), got 1e-09"),
        ("schedule.max_treatment_months=1e7", "schedule.max_treatment_months must be a number in (0, 120], got 10000000.0"),
        ("recruitment.sites.0.screened_per_month=1e9", "recruitment.sites[0].screened_per_month must be a number in (0, 1000], got 1000000000.0"),
        ("analysis.primary_cutoff={rule='date', date=2025-11-02}", "analysis.primary_cutoff.date must lie after trial.recruitment_open and not after trial.study_end, got 2025-11-02"),
    ],
)
def test_validation_messages(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("base", [override])
    assert str(info.value) == message


@pytest.mark.parametrize(
    "override, message",
    [
        ("efficacy.orr=0.6", "efficacy.orr (0.6) must be below the share of patients still progression-free on day 91, when a response seen at the first scan is surely confirmed (0.512); lower efficacy.orr, lengthen efficacy.pfs.median_months or shorten schedule.scan_interval_days"),
        ("efficacy.os_median_months=3", "efficacy.os_median_months (3) must exceed the PFS median (3.1829): OS includes PFS"),
    ],
)
def test_efficacy_that_cannot_hold_is_refused_when_the_model_is_built(override: str, message: str) -> None:
    scenario = load_scenario("base", [override])  # each field is valid on its own
    with pytest.raises(ScenarioError) as info:
        TrialModel.from_scenario(scenario)
    assert str(info.value) == message


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ScenarioError, match=re.escape("2 problems: trial.sample_size must be a whole number in [1, 10000], got -2; efficacy.orr must be a probability in [0, 1], got 2")):
        load_scenario("base", ["efficacy.orr=2", "trial.sample_size=-2"])


def test_missing_field_and_exclusive_os() -> None:
    with pytest.raises(ScenarioError, match=r"^efficacy\.post_progression_survival cannot be given with efficacy\.os_median_months; give one of them$"):
        load_scenario("base", ["efficacy.post_progression_survival={family='exponential', median_months=8}"])
    raw = read_scenario_file("base")
    del raw["efficacy"]["os_median_months"]
    with pytest.raises(ScenarioError, match=r"^efficacy\.os_median_months is required \(or efficacy\.post_progression_survival instead\)$"):
        parse_scenario(raw)
    raw = read_scenario_file("base")
    del raw["trial"]["sample_size"]
    with pytest.raises(ScenarioError, match=r"^trial\.sample_size is required$"):
        parse_scenario(raw)


def test_overrides_reach_lists_and_tables() -> None:
    scenario = load_scenario("base", ["recruitment.sites.0.screened_per_month=3.5", "efficacy.pfs={family='exponential', median_months=5}"])
    assert scenario.recruitment.sites[0].screened_per_month == 3.5
    assert scenario.efficacy.pfs.median == pytest.approx(5.0, rel=1e-14)
    with pytest.raises(ScenarioError, match=r"^overrides recruitment\.sites\.4\.name: recruitment\.sites\.4 must be a list index below 1$"):
        load_scenario("base", ["recruitment.sites.4.name='x'"])
    with pytest.raises(ScenarioError, match=r"^overrides trial\.sample_size\.x: trial\.sample_size is a value, not a table$"):
        load_scenario("base", ["trial.sample_size.x=1"])
    with pytest.raises(ScenarioError, match=r"^overrides expects dotted\.path=value, got 'efficacy\.orr'$"):
        load_scenario("base", ["efficacy.orr"])
    with pytest.raises(ScenarioError, match=r"^overrides expects dotted\.path=value, got 'efficacy\.=1'$"):
        load_scenario("base", ["efficacy.=1"])


def test_unknown_scenario_name() -> None:
    with pytest.raises(ScenarioError, match=r"^scenario 'basic' is neither a file nor a shipped scenario \(base"):
        load_scenario("basic")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("recruitment.rate_cv=50", "recruitment.rate_cv must be 0 or a number in [0.001, 5], got 50"),
        ("recruitment.rate_cv=1e-200", "recruitment.rate_cv must be 0 or a number in [0.001, 5], got 1e-200"),
        ("safety.withdrawal_per_month=1e9", "safety.withdrawal_per_month must be 0 or a number in [1e-6, 100], got 1000000000.0"),
        ("safety.loss_to_follow_up_per_month=-1", "safety.loss_to_follow_up_per_month must be 0 or a number in [1e-6, 100], got -1"),
        ("analysis.primary_cutoff.months=1e300", "analysis.primary_cutoff.months must be a number in [0, 600], got 1e+300"),
        ("analysis.p0=1", "analysis.p0 must be a number in (0, 1), got 1"),
        ("analysis.p0=0", "analysis.p0 must be a number in (0, 1), got 0"),
        ("efficacy.orr=5e-324", "efficacy.orr must be a probability in [0, 1], got 4.94066e-324, too close to 0 to compute with; give 0 or at least 2.23e-308"),
        ("recruitment.screening_days=[1, 99999]", "recruitment.screening_days must be a [min, max] pair of whole days with 0 <= min <= max <= 3650, got [1, 99999]"),
        ("efficacy.pfs.shape=0.0005", "efficacy.pfs: these weibull parameters are too extreme to compute with (event times beyond 1e200 months, or a cumulative hazard that overflows within 1000 months); make them less extreme"),
        ("efficacy.pfs={family='piecewise_exponential', median_months=3, cuts_months=[1e300], relative_hazards=[1e300, 1]}", "efficacy.pfs: these piecewise_exponential parameters are too extreme to compute with (event times beyond 1e200 months, or a cumulative hazard that overflows within 1000 months); make them less extreme"),
        ("monitoring={rule='bayesian', looks=[10], futility_predictive=0.1, success_posterior=0}", "monitoring.success_posterior must be a number in (0, 1), got 0"),
    ],
)
def test_extreme_values_are_bounded_where_the_model_stops_making_sense(override: str, message: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("base", [override])
    assert str(info.value) == message


def test_a_schedule_too_large_to_hold_in_memory_is_refused_naming_what_to_change() -> None:
    daily = ["trial.sample_size=10000", "schedule.cycle_days=1", "schedule.max_treatment_months=12", "schedule.scan_interval_days=7", "schedule.scan_window_days=0"]
    with pytest.raises(ScenarioError, match=re.escape("trial.sample_size x (treatment cycles + scheduled scans per patient) is 10000 x (365 + 158) = 5,230,000; at most 5,000,000 can be simulated: lower trial.sample_size, raise schedule.cycle_days or schedule.scan_interval_days")):
        load_scenario("base", daily)


def test_continuous_bayesian_monitoring_of_a_huge_trial_is_refused() -> None:
    looks = list(range(1, 3000))
    with pytest.raises(ScenarioError, match=r"^monitoring\.looks has 2999 looks and trial\.sample_size is 3000; looks x sample size may be at most 2,000,000 .*: look less often$"):
        load_scenario("base", ["trial.sample_size=3000", f"monitoring={{rule='bayesian', looks={looks}, futility_predictive=0.01, success_posterior=0.9}}"])


@pytest.mark.parametrize(
    "override",
    [
        "recruitment.rate_cv=5",
        "recruitment.rate_cv=0.001",
        "safety.withdrawal_per_month=100",
        "safety.loss_to_follow_up_per_month=1e-6",
        "recruitment.sites.0.ramp_up_months=600",
        "analysis.final_cutoff.months=600",
        "analysis.p0=0.999999",
        "schedule.survival_follow_up_months=600",
        "analysis.landmark_months=600",
        "recruitment.screening_days=[3650, 3650]",
        "efficacy.pfs.shape=0.01",
        "monitoring={rule='bayesian', looks=[10], futility_predictive=0.1, success_posterior=0.999999, prior_a=10000, prior_b=1e-9}",
    ],
)
def test_the_model_honours_every_declared_bound(override: str) -> None:
    result = run(load_scenario("base", [override]), replicates=2, seed=1, progress=False)
    assert len(result.replicates) == 2
