"""The trial model: a validated scenario in day counts, with everything a replicate needs derived once.

Built once per run, after the scenario is validated and before any replicate is simulated: the
efficacy numbers are checked to hold together and the post-progression survival that gives the
OS median is solved here, so a scenario that cannot work fails before any compute, with the
field to change named in a :class:`~sim.scenario.ScenarioError`. Every engine reads this model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..scenario import ScenarioError
from ..scenario.model import OrrPrior, Scenario
from ..scenario.rules import DesignRule, design_rule
from ..stats.beta_mixture import BetaMixture
from ..units import DAYS_PER_MONTH, dates_of_days, day_number
from .monitoring import LookTrigger
from .patient_model import ModelError, PatientModel
from .pfs_link import linked_ceiling, linked_efficacy, pfs_at, with_hazard_ratio
from .recist import earliest_sure_confirmation_day
from .recruitment import CalendarRates
from .trial_state import TrialState

__all__ = ["MIN_PRIOR_MASS", "TrialModel", "orr_ceiling", "orr_prior_law"]

MIN_PRIOR_MASS = 1e-6
"""Least share of an ORR prior that must lie below the ORR ceiling; less is a prior the PFS cannot carry."""


def orr_ceiling(scenario: Scenario, pfs_hazard_ratio: float = 1.0) -> float:
    """The largest true ORR the scenario's patient model can carry (``efficacy.orr``'s bound), just below it.

    A responder is never seen to progress before confirmation, so the ORR cannot exceed the share
    still progression-free on the day a response at the first scan is surely confirmed. With
    ``pfs_hazard_ratio``, every PFS hazard is multiplied by it (a forecast learning the PFS).
    """
    confirm = earliest_sure_confirmation_day(scenario.schedule) / DAYS_PER_MONTH
    efficacy = scenario.efficacy
    if pfs_hazard_ratio != 1.0:
        efficacy = dataclasses.replace(efficacy, pfs=with_hazard_ratio(efficacy.pfs, pfs_hazard_ratio))
    return linked_ceiling(efficacy, confirm) * (1.0 - 1e-9)  # with a link the PFS moves with the ORR


def orr_prior_law(prior: OrrPrior) -> BetaMixture:
    """The scenario's ``efficacy.orr_prior`` as a Beta mixture (the checks in scenario/load.py have run)."""

    def one(
        beta: tuple[float, float] | None, responders: int | None, patients: int | None, weight: float
    ) -> BetaMixture:
        if beta is not None:
            return BetaMixture.beta(*beta)
        assert responders is not None and patients is not None
        return BetaMixture.from_data(responders, patients, weight)

    if prior.mixture:
        return BetaMixture.mixture([(c.weight, one(c.beta, c.responders, c.patients, 1.0)) for c in prior.mixture])
    return one(prior.beta, prior.responders, prior.patients, 1.0 if prior.weight is None else prior.weight)


@dataclass(frozen=True)
class TrialModel:
    """A scenario with its derived constants (days from study start)."""

    scenario: Scenario
    patients: PatientModel
    calendar: CalendarRates
    open_day: float
    close_day: float
    horizon_day: float
    rule: DesignRule
    look_trigger: LookTrigger
    orr_prior: BetaMixture | None = None
    start: TrialState | None = None

    @property
    def orr_ceiling(self) -> float:
        """The largest true ORR the patient model can carry, just below it (:func:`orr_ceiling`)."""
        return orr_ceiling(self.scenario)

    def with_orr(self, orr: float, pfs_hazard_ratio: float = 1.0) -> PatientModel:
        """The patient model of a replicate whose true ORR is ``orr`` (its PFS moved by ``efficacy.pfs_orr_link``),
        every PFS hazard multiplied by ``pfs_hazard_ratio`` (a forecast learning the PFS)."""
        efficacy = dataclasses.replace(self.patients.efficacy, orr=orr)
        if self.scenario.efficacy.pfs_orr_link is not None:
            efficacy = dataclasses.replace(efficacy, pfs=pfs_at(self.scenario.efficacy, orr))
        if pfs_hazard_ratio != 1.0:
            efficacy = dataclasses.replace(efficacy, pfs=with_hazard_ratio(efficacy.pfs, pfs_hazard_ratio))
        return dataclasses.replace(self.patients, efficacy=efficacy)

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
            efficacy = linked_efficacy(scenario.efficacy, scenario.efficacy.orr)
            patients = PatientModel.from_scenario(efficacy, scenario.safety, scenario.schedule, horizon)
        except ModelError as exc:
            raise ScenarioError(f"{exc.field} {exc.detail}") from None
        model = cls(
            scenario=scenario,
            patients=patients,
            calendar=CalendarRates.from_recruitment(scenario.recruitment, t.study_start),
            open_day=day_number(t.recruitment_open, t.study_start),
            # Enrollment is allowed through the whole closing day.
            close_day=day_number(t.recruitment_close, t.study_start) + 1.0,
            horizon_day=horizon,
            rule=design_rule(scenario.monitoring, scenario.analysis, t.sample_size),
            look_trigger=LookTrigger.from_scenario(scenario.monitoring, scenario.schedule),
        )
        if scenario.efficacy.orr_prior is None:
            return model
        law = orr_prior_law(scenario.efficacy.orr_prior)
        kept = law.mass_below(model.orr_ceiling)
        if kept < MIN_PRIOR_MASS:
            raise ScenarioError(
                f"efficacy.orr_prior ({law.describe()}) has {kept:.2g} of its mass below {model.orr_ceiling:.3f}, "
                "the largest ORR this PFS can carry (the share still progression-free when a response at the first "
                "scan is surely confirmed); centre the prior lower, or lengthen efficacy.pfs.median_months"
            )
        return dataclasses.replace(model, orr_prior=law)

    def dates(self, days: NDArray[np.float64] | float) -> NDArray[np.datetime64]:
        """Calendar dates (day resolution) of days counted from the study start; NaT where not finite."""
        return dates_of_days(self.scenario.trial.study_start, days)
