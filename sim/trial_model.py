"""The trial model: a validated scenario in day counts, with everything a replicate needs derived once.

Built once per run, after the scenario is validated and before any replicate is simulated: the
efficacy numbers are checked to hold together and the post-progression survival that gives the
OS median is solved here, so a scenario that cannot work fails before any compute, with the
field to change named in a :class:`~sim.scenario.ScenarioError`. Every engine reads this model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .monitoring import DecisionRule
from .patient_model import ModelError, PatientModel
from .recist import judgement_days
from .recruitment import CalendarRates
from .scenario import ScenarioError
from .scenario.model import Scenario
from .trial_state import TrialState
from .units import dates_of_days, day_number

__all__ = ["TrialModel"]


@dataclass(frozen=True)
class TrialModel:
    """A scenario with its derived constants (days from study start)."""

    scenario: Scenario
    patients: PatientModel
    calendar: CalendarRates
    open_day: float
    close_day: float
    horizon_day: float
    rule: DecisionRule
    judgement_days: float
    start: TrialState | None = None

    @property
    def identity(self) -> str:
        """What the model's replicates depend on, as text: the scenario and the state it starts from."""
        return repr(self.scenario) if self.start is None else repr((self.scenario, self.start.identity))

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> TrialModel:
        """Derive the model; raise ScenarioError naming the field when the efficacy cannot hold."""
        t = scenario.trial
        horizon = day_number(t.study_end, t.study_start)
        try:
            patients = PatientModel.from_scenario(scenario.efficacy, scenario.safety, scenario.schedule, horizon)
        except ModelError as exc:
            raise ScenarioError(f"{exc.field} {exc.detail}") from None
        return cls(
            scenario=scenario,
            patients=patients,
            calendar=CalendarRates.from_recruitment(scenario.recruitment, t.study_start),
            open_day=day_number(t.recruitment_open, t.study_start),
            # Enrollment is allowed through the whole closing day.
            close_day=day_number(t.recruitment_close, t.study_start) + 1.0,
            horizon_day=horizon,
            rule=DecisionRule(scenario.monitoring, scenario.analysis, t.sample_size),
            judgement_days=judgement_days(scenario.monitoring),
        )

    def dates(self, days: NDArray[np.float64] | float) -> NDArray[np.datetime64]:
        """Calendar dates (day resolution) of days counted from the study start; NaT where not finite."""
        return dates_of_days(self.scenario.trial.study_start, days)
