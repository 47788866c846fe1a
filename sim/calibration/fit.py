"""Fit the latent efficacy model to published summary statistics, corrected for the assessment grid.

The free parameters are the PFS distribution's (median and, for the shaped families, shape) and,
when OS landmarks are targets, a post-progression survival distribution's. Every target is read
off a synthetic cohort observed on the source's scan grid (:mod:`sim.calibration.cohort`), so a
published PFS median is matched as a median of progression dated at scans, not as the latent
median. ORR is not fitted: the model holds it exactly, provided the PFS leaves enough patients
progression-free to confirm that many responses.

``scipy.optimize.least_squares`` minimises the squared misses (:mod:`sim.calibration.criteria`);
with one target per free parameter that is a root solve. A first stage fits PFS with (almost) no
responders on a smaller cohort, so the ORR ceiling cannot stop the search, and gives the start of
the second, on the full cohort with the target ORR. A target missed by more than ``tolerance``, or a
shape driven to the edge of ``SHAPE_BOUNDS``, means the targets are inconsistent with each other,
the model or the family, and raises :class:`CalibrationError` with the best fit and what to try.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..patient_model import ModelError
from ..recist import earliest_sure_confirmation_day
from ..scenario import load_scenario
from ..scenario.model import Efficacy, Scenario
from ..units import DAYS_PER_MONTH
from .cohort import DEFAULT_COHORT_SIZE, DEFAULT_SEED, CohortStatistics, horizon_months, observe_cohort, source_scenario
from .criteria import PENALTY, Criterion, TargetFit, orr_criterion, target_criteria
from .errors import CalibrationError, Message, named
from .messages import PFS_LANDMARK, inconsistency_message, notes, orr_ceiling_message
from .parameters import (
    FITTABLE_FAMILIES,
    SHAPE_BOUNDS,
    at_shape_edge,
    bounds,
    distribution,
    parameter_count,
    pfs_start,
    pps_start,
    rounded,
)
from .solver import least_squares
from .targets import CalibrationTargets

__all__ = ["DEFAULT_TOLERANCE", "CalibrationResult", "calibrate"]

DEFAULT_TOLERANCE = 0.01
"""Largest miss allowed on the survival-probability scale (one percentage point of a rate)."""

_STAGE1_SIZE = 10_000
_STAGE1_ORR = 1e-6
_XTOL = 1e-4


@dataclass(frozen=True)
class CalibrationResult:
    """A calibrated efficacy block with the targets it meets and how it was obtained."""

    targets: CalibrationTargets
    family: str
    efficacy: Efficacy
    fits: tuple[TargetFit, ...]
    template: str
    scan_interval_days: int
    scan_window_days: int
    cohort_size: int
    seed: int
    os_method: str
    notes: tuple[Message, ...]

    def parameters(self) -> dict[str, Any]:
        """The efficacy block's values, as a scenario file spells them."""
        e = self.efficacy
        out: dict[str, Any] = {
            "orr": e.orr,
            "complete_response_share": e.complete_response_share,
            "response_pfs_association": e.response_pfs_association,
            "death_without_progression_share": e.death_without_progression_share,
            "pfs": e.pfs.parameters(),
            "time_to_response": e.time_to_response.parameters(),
        }
        if e.os_median_months is not None:
            out["os_median_months"] = e.os_median_months
        if e.post_progression_survival is not None:
            out["post_progression_survival"] = e.post_progression_survival.parameters()
        return out


@dataclass(frozen=True)
class _Setup:
    """Everything fixed during a fit: the targets, the template, the families and the cohort."""

    targets: CalibrationTargets
    template: Scenario
    family: str
    pps_family: str | None
    os_method: str
    follow_up_months: float
    seed: int

    @property
    def families(self) -> list[str]:
        """The fitted families in parameter-vector order: PFS, then post-progression survival."""
        return [self.family] + ([self.pps_family] if self.pps_family is not None else [])

    def efficacy(self, orr: float, x: np.ndarray) -> Efficacy:
        """The efficacy block for parameter vector ``x``."""
        k = parameter_count(self.family)
        change: dict[str, Any] = {"orr": orr, "pfs": distribution(self.family, x[:k])}
        if self.os_method == "median":
            change.update(os_median_months=self.targets.median_os_months, post_progression_survival=None)
        elif self.pps_family is not None:
            change.update(os_median_months=None, post_progression_survival=distribution(self.pps_family, x[k:]))
        return dataclasses.replace(self.template.efficacy, **change)

    def scenario(self, efficacy: Efficacy) -> Scenario:
        """The source study: the template on the source's scan grid, without dropout or AEs."""
        t = self.targets
        return source_scenario(self.template, efficacy, t.scan_interval_days, t.confirmed, self.follow_up_months)

    def observe(self, efficacy: Efficacy, size: int) -> CohortStatistics:
        """The statistics of ``size`` patients with this efficacy, on the fixed seed."""
        return observe_cohort(self.scenario(efficacy), size, self.seed)


def _fit(setup: _Setup, orr: float, criteria: list[Criterion], x0: list[float], size: int) -> np.ndarray:
    """Least squares of the criteria's misses over a cohort of ``size`` patients."""

    def evaluate(x: np.ndarray) -> np.ndarray:
        try:
            stats = setup.observe(setup.efficacy(orr, x), size)
        except ModelError:
            return np.full(len(criteria), PENALTY)
        return np.array([c.residual(stats) for c in criteria])

    low, high = bounds(setup.families)
    x, converged, message = least_squares(evaluate, x0, low, high, _XTOL)
    if not converged:
        raise CalibrationError(
            f"the fit did not converge ({message}); try fewer targets, another {named('family')} "
            f"({', '.join(FITTABLE_FAMILIES)}) or a larger {named('cohort_size')}"
        )
    return x


def _check_orr_fits(setup: _Setup, orr: float, efficacy: Efficacy) -> None:
    """The model's ORR ceiling: responders must still be progression-free when confirmation is sure."""
    day = earliest_sure_confirmation_day(setup.scenario(efficacy).schedule)
    still_free = float(efficacy.pfs.sf(day / DAYS_PER_MONTH))
    if orr > 0 and orr >= still_free:
        raise CalibrationError(
            orr_ceiling_message(setup.targets, orr, setup.family, efficacy.pfs.median, day, still_free)
        )


def _os_method(t: CalibrationTargets) -> tuple[str, str | None]:
    """How OS is set: kept from the template, the engine's exact median solve, or a fitted distribution."""
    if t.os_target_count == 0:
        return "template", None
    if not t.os_at:
        return "median", None
    return "fitted", "exponential" if t.os_target_count == 1 else "weibull"


def _check_inputs(t: CalibrationTargets, family: str, cohort_size: int, tolerance: float) -> None:
    """A known family, at least one PFS target per PFS parameter, a usable cohort and tolerance."""
    if not (isinstance(cohort_size, int) and cohort_size >= 1000):
        raise CalibrationError(
            f"{named('cohort_size')} must be a whole number of at least 1000 patients, got {cohort_size!r}"
        )
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise CalibrationError(f"{named('tolerance')} must be a number strictly between 0 and 1, got {tolerance!r}")
    if family not in FITTABLE_FAMILIES:
        raise CalibrationError(f"{named('family')} must be one of {', '.join(FITTABLE_FAMILIES)}, got {family!r}")
    if t.pfs_target_count == 0:
        raise CalibrationError(
            f"give at least one PFS target: {named('median_pfs_months')}, {named('dcr')} or {named(PFS_LANDMARK)}"
        )
    if t.pfs_target_count < parameter_count(family):
        raise CalibrationError(
            f"{named('family')} {family} has two PFS parameters (median and shape) but only one PFS target was "
            f"given; add {named('dcr')}, {named('median_pfs_months')} or {named(PFS_LANDMARK)}, "
            f"or use {named('family')} exponential"
        )


def _as_written(efficacy: Efficacy, os_method: str) -> Efficacy:
    """The efficacy block with its fitted distributions rounded as the TOML block writes them."""
    pps = efficacy.post_progression_survival
    if os_method == "fitted" and pps is not None:
        pps = rounded(pps)
    return dataclasses.replace(efficacy, pfs=rounded(efficacy.pfs), post_progression_survival=pps)


def _shape_edge(efficacy: Efficacy, os_method: str) -> str | None:
    """Which fitted shape, if any, ended on the edge of SHAPE_BOUNDS, described for a message."""
    fitted = {"PFS": efficacy.pfs}
    if os_method == "fitted" and efficacy.post_progression_survival is not None:
        fitted["post-progression survival"] = efficacy.post_progression_survival
    for label, dist in fitted.items():
        if at_shape_edge(dist):
            low, high = SHAPE_BOUNDS
            return f"{label} shape {dist.parameters()['shape']:g} on the edge of the allowed range [{low:g}, {high:g}]"
    return None


def _setup(t: CalibrationTargets, family: str, template: Scenario, seed: int) -> _Setup:
    """The fixed parts of a fit: families, how OS is set, and a follow-up long enough for every target."""
    os_method, pps_family = _os_method(t)
    longest = max([t.median_pfs_months or 0.0, t.median_os_months or 0.0] + [lm.months for lm in t.pfs_at + t.os_at])
    return _Setup(t, template, family, pps_family, os_method, horizon_months(longest), seed)


def calibrate(
    targets: CalibrationTargets,
    family: str = "weibull",
    template: str | Scenario = "base",
    cohort_size: int = DEFAULT_COHORT_SIZE,
    seed: int = DEFAULT_SEED,
    tolerance: float = DEFAULT_TOLERANCE,
) -> CalibrationResult:
    """Fit an efficacy block to ``targets`` on the source's scan grid.

    ``template`` (a scenario or the name of a shipped one) supplies everything that is not fitted:
    the time to response, CR share, response-PFS association, death-without-progression share, the
    scan window and confirmation rules, and ORR or OS when they are not targets.
    """
    _check_inputs(targets, family, cohort_size, tolerance)
    name = template if isinstance(template, str) else "(given scenario)"
    scenario = load_scenario(template) if isinstance(template, str) else template
    setup = _setup(targets, family, scenario, seed)
    orr = scenario.efficacy.orr if targets.orr is None else targets.orr
    pfs_criteria, os_criteria = target_criteria(targets)
    fitted = pfs_criteria + (os_criteria if setup.os_method == "fitted" else [])

    x0 = pfs_start(targets, family)
    if setup.pps_family is not None:
        x0 += pps_start(targets, math.exp(x0[0]), setup.pps_family)
    x1 = _fit(setup, _STAGE1_ORR, fitted, x0, min(_STAGE1_SIZE, cohort_size))
    _check_orr_fits(setup, orr, setup.efficacy(orr, x1))
    x2 = _fit(setup, orr, fitted, list(x1), cohort_size)

    efficacy = _as_written(setup.efficacy(orr, x2), setup.os_method)
    _check_orr_fits(setup, orr, efficacy)
    try:
        stats = setup.observe(efficacy, cohort_size)
    except ModelError as exc:
        raise CalibrationError(f"the fitted efficacy does not hold together: {exc}") from None

    reported = ([orr_criterion(targets, orr)] if targets.orr is not None else []) + pfs_criteria + os_criteria
    fits = [c.result(stats) for c in reported]
    window = setup.scenario(efficacy).schedule.scan_window_days
    edge = _shape_edge(efficacy, setup.os_method)
    if edge is not None or any(abs(f.miss) > tolerance for f in fits):
        raise CalibrationError(inconsistency_message(targets, family, fits, tolerance, edge, window))
    return CalibrationResult(
        targets=targets,
        family=family,
        efficacy=efficacy,
        fits=tuple(fits),
        template=name,
        scan_interval_days=targets.scan_interval_days,
        scan_window_days=window,
        cohort_size=cohort_size,
        seed=seed,
        os_method=setup.os_method,
        notes=notes(targets, name, scenario.efficacy, setup.os_method, setup.pps_family, window),
    )
