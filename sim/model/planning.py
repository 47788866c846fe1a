"""What a planner reads from a scenario before simulating anything: its figures in closed form.

No randomness: each figure is the expectation the scenario implies, with the accrual rate known
(``rate_cv`` taken as 0), so a planner can see at once whether the recruitment plan reaches the
sample size and how close the efficacy numbers are to what the model can carry.

Recruitment. Site *s* screens at ``λ_s(t) = r_s · ramp_s(t) · f(t)`` patients a day (the rate, the
linear ramp-up and the product of the calendar factors, exactly as :mod:`sim.model.recruitment` draws
them) from its first screening day to the recruitment close. With ``Λ(x) = Σ_s ∫ λ_s`` up to day
``x``, the expected screened patients by the close are ``Λ(close)``. An eligible patient (share
``1 - screen_failure_probability``) screened on day ``t`` is enrolled on ``t + D``, ``D`` uniform
on ``screening_days``, and only before the close, so the expected enrolled by day ``x`` is
``E(x) = (1 - p_fail) · mean_D Λ(x - D)``. ``Λ`` is integrated by the midpoint rule on an
eighth-of-a-day grid (the factors change at whole days, the ramp is linear). ``E(close)`` ignores
that screening stops once the sample size is enrolled: it is the recruitment plan's capacity.

Efficacy. A confirmed responder must still be progression-free on the day a response present at
the first scan is surely confirmed, so ``efficacy.orr`` can be at most the PFS survival that day
(the ORR ceiling, checked when the trial model is built). With ``os_median_months``, the
post-progression survival is the exponential solved so that the OS median is exact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..units import DAYS_PER_MONTH
from .pfs_link import linked_ceiling
from .recist import earliest_sure_confirmation_day
from .recruitment import site_rates
from .trial_model import TrialModel

__all__ = ["PlanningFigures", "planning_figures"]

_STEP_DAYS = 0.125
"""Integration step of the expected screening intensity."""


@dataclass(frozen=True)
class PlanningFigures:
    """The figures a scenario implies before any simulation (module docstring for the formulas).

    Rates are per month of 30.4375 days at every site's full rate, before ramp-up and calendar
    factors; counts are expectations with the accrual rate known.
    """

    sample_size: int
    recruitment_months: float
    screened_per_month: float
    enrolled_per_month: float
    months_to_sample_size: float
    expected_screened_by_close: float
    expected_enrolled_by_close: float
    sample_size_reached: dt.date | None
    confirmation_day: float
    orr: float
    orr_ceiling: float
    post_progression_median_months: float
    post_progression_solved: bool
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON values (the date as an ISO string, or null when it is not reached)."""
        doc = dataclasses.asdict(self)
        doc["sample_size_reached"] = self.sample_size_reached.isoformat() if self.sample_size_reached else None
        doc["warnings"] = list(self.warnings)
        return doc


def _cumulative_screening(model: TrialModel) -> tuple[np.ndarray, np.ndarray]:
    """Grid days and the expected screened patients ``Λ`` by each, from the first screening day to the close."""
    scenario = model.scenario
    # rate_cv 0: site_rates draws nothing from the generator, so any generator gives the planned rate
    unused = np.random.default_rng(0)
    sites = [
        site_rates(site, i, scenario.trial.study_start, model.open_day, 0.0, unused)
        for i, site in enumerate(scenario.recruitment.sites)
    ]
    start = min(site.activation_day for site in sites)
    steps = max(int(math.ceil((model.close_day - start) / _STEP_DAYS)), 0)
    edges = start + _STEP_DAYS * np.arange(steps + 1)
    edges[-1] = max(model.close_day, start)
    middles = (edges[:-1] + edges[1:]) / 2
    widths = np.diff(edges)
    factors = model.calendar.factors_at(middles)
    intensity = np.zeros_like(middles)
    for site in sites:
        active = middles >= site.activation_day
        intensity += np.where(active, site.per_day * site.ramps(middles), 0.0)
    cumulative = np.concatenate(([0.0], np.cumsum(intensity * factors * widths)))
    return edges, cumulative


def _day_reached(days: np.ndarray, expected: np.ndarray, target: float, close_day: float) -> float | None:
    """The day (from study start) the expected enrollment reaches ``target``, before the close; else None.

    Linear between grid points, so the crossing falls on its own day, not on the next grid point.
    """
    full = np.flatnonzero(expected >= target)
    if not full.size or full[0] == 0:
        return None if not full.size else float(days[0])
    i = full[0]
    share = (target - expected[i - 1]) / (expected[i] - expected[i - 1])
    day = float(days[i - 1] + share * (days[i] - days[i - 1]))
    return day if day < close_day else None


def planning_figures(model: TrialModel) -> PlanningFigures:
    """The recruitment and efficacy figures ``model``'s scenario implies, with no simulation."""
    scenario = model.scenario
    trial, recruitment, efficacy = scenario.trial, scenario.recruitment, scenario.efficacy
    eligible = 1.0 - recruitment.screen_failure_probability
    screened = sum(site.screened_per_month for site in recruitment.sites)
    edges, cumulative = _cumulative_screening(model)
    low, high = recruitment.screening_days
    delays = np.arange(low, high + 1, dtype=float)

    def enrolled_by(days: np.ndarray) -> np.ndarray:
        reached = np.interp(days[:, None] - delays[None, :], edges, cumulative, left=0.0)
        return eligible * reached.mean(axis=1)

    by_close = float(enrolled_by(np.array([model.close_day]))[0])
    reached = _day_reached(edges, enrolled_by(edges), trial.sample_size, model.close_day)
    confirm_day = earliest_sure_confirmation_day(scenario.schedule)
    enrolled_rate = screened * eligible
    return PlanningFigures(
        sample_size=trial.sample_size,
        recruitment_months=(model.close_day - model.open_day) / DAYS_PER_MONTH,
        screened_per_month=screened,
        enrolled_per_month=enrolled_rate,
        months_to_sample_size=trial.sample_size / enrolled_rate if enrolled_rate > 0 else math.inf,
        expected_screened_by_close=float(cumulative[-1]),
        expected_enrolled_by_close=by_close,
        sample_size_reached=None if reached is None else trial.study_start + dt.timedelta(days=math.floor(reached)),
        confirmation_day=confirm_day,
        orr=efficacy.orr,
        orr_ceiling=linked_ceiling(efficacy, confirm_day / DAYS_PER_MONTH),
        post_progression_median_months=model.patients.post_progression_survival.median,
        post_progression_solved=efficacy.post_progression_survival is None,
        warnings=tuple(_warnings(model, by_close)),
    )


LEAST_ENROLLED = 1.0
"""Expected enrollments by the close below which no simulated trial has anything to analyse."""

MOST_LOST_BEFORE_SCAN = 0.99
"""Share of patients leaving before their first scan above which almost no response can be seen."""


def _warnings(model: TrialModel, enrolled_by_close: float) -> list[str]:
    """What makes a valid scenario useless to simulate: nobody enrolls, or everybody leaves before a scan."""
    s = model.scenario
    out = []
    if enrolled_by_close < LEAST_ENROLLED:
        out.append(
            f"the scenario expects {enrolled_by_close:.2g} patients enrolled by trial.recruitment_close "
            f"({s.trial.recruitment_close}): almost no simulated trial will have anyone to analyse; check the sites' "
            "screened_per_month and ramp_up_months, the calendar periods' rate_factor and recruitment.screening_days"
        )
    per_month = s.safety.withdrawal_per_month + s.safety.loss_to_follow_up_per_month
    first_scan = (s.schedule.scan_interval_days - s.schedule.scan_window_days) / DAYS_PER_MONTH
    gone = 1.0 - math.exp(-per_month * first_scan)
    if gone > MOST_LOST_BEFORE_SCAN:
        out.append(
            f"safety.withdrawal_per_month and loss_to_follow_up_per_month ({per_month:g} a month together) make "
            f"{gone:.1%} of patients leave before their first scan: almost no response or progression can be seen"
        )
    return out


