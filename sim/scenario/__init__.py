"""Scenario files: the validated description of a trial and its assumptions."""

from .checks import FieldError
from .load import (
    ScenarioError,
    apply_overrides,
    builtin_scenarios,
    load_scenario,
    parse_scenario,
    read_scenario_file,
    scenario_path,
)
from .model import Analysis, CalendarPeriod, Cutoff, Efficacy, Recruitment, Safety, Scenario, Schedule, Site, Trial

__all__ = [
    "Analysis",
    "CalendarPeriod",
    "Cutoff",
    "Efficacy",
    "FieldError",
    "Recruitment",
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
    "read_scenario_file",
    "scenario_path",
]
