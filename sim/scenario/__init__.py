"""Scenario files: the validated description of a trial and its assumptions."""

from .checks import FieldError
from .load import (
    ScenarioError,
    apply_overrides,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    parse_value,
    read_scenario_file,
    scenario_path,
)
from .model import Analysis, CalendarPeriod, Cutoff, Efficacy, Recruitment, Safety, Scenario, Schedule, Site, Trial
from .reference import ReferenceRow, reference_rows, reference_table
from .variants import resolved_scenario, vary

__all__ = [
    "Analysis",
    "CalendarPeriod",
    "Cutoff",
    "Efficacy",
    "FieldError",
    "Recruitment",
    "ReferenceRow",
    "Safety",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "Site",
    "Trial",
    "apply_overrides",
    "builtin_scenarios",
    "load_scenario",
    "parse_scenario",
    "parse_value",
    "read_scenario_file",
    "reference_rows",
    "reference_table",
    "resolved_scenario",
    "scenario_path",
    "vary",
]
