"""Fit the latent efficacy model to published summary statistics, corrected for the assessment grid.

The free parameters are the PFS distribution's (median and, for the shaped families, shape; for
the piecewise exponential, the median and the hazard of each later interval relative to the first,
between cut points the user gives) and, when OS landmarks are targets, a post-progression survival
distribution's. Every target is read off a synthetic cohort observed on the source's scan grid
(:mod:`sim.calibration.cohort`), so a published PFS median is matched as a median of progression
dated at scans, not as the latent median. ORR is not fitted: the model holds it exactly, provided
the PFS leaves enough patients progression-free to confirm that many responses.

``scipy.optimize.least_squares`` minimises the squared misses (:mod:`sim.calibration.criteria`);
with one target per free parameter that is a root solve. A first stage fits PFS with (almost) no
responders on a smaller cohort, so the ORR ceiling cannot stop the search, and gives the start of
the second, on the full cohort with the target ORR. A target missed by more than ``tolerance``, or a
shape or relative hazard driven to the edge of its search range, means the targets are inconsistent
with each other, the model or the family, and raises :class:`CalibrationError` with the best fit and
what to try. A fit that meets its targets reports each achieved value with its Monte Carlo standard
error, what it implies beyond them, and warnings where that is fragile (:mod:`sim.calibration.robustness`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..distributions import SurvivalDistribution
from ..model.patient_model import ModelError
from ..model.recist import earliest_sure_confirmation_day
from ..scenario import load_scenario
from ..scenario.model import Efficacy, Scenario
from ..units import DAYS_PER_MONTH
from .cohort import DEFAULT_COHORT_SIZE, DEFAULT_SEED, CohortStatistics, horizon_months, observe_cohort, source_scenario
from .criteria import PENALTY, Criterion, TargetFit, orr_criterion, target_criteria, unconfirmed_orr_criterion
from .errors import CalibrationError, Message, named
from .messages import PFS_LANDMARK, inconsistency_message, notes, orr_ceiling_message
from .parameters import (
    FITTABLE_FAMILIES,
    PARAMETER_DECIMALS,
    FittedFamily,
    bounds,
    number_word,
    pfs_start,
    pps_start,
)
from .robustness import ImpliedValue, implied_values, robustness_warnings
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
    """A calibrated efficacy block with the targets it meets, what it implies, and how it was obtained.

    ``fits`` holds each target next to its achieved value and MCSE; ``implied`` the statistics the
    block implies that were not targets; ``warnings`` what makes the fit fragile (empty if nothing);
    ``notes`` what was kept from the template and how OS was set.
    """

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
    implied: tuple[ImpliedValue, ...] = ()
    warnings: tuple[Message, ...] = ()

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
        if e.unconfirmed_response_share:
            out["unconfirmed_response_share"] = e.unconfirmed_response_share
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
    pfs: FittedFamily
    pps: FittedFamily | None
    os_method: str
    follow_up_months: float
    seed: int

    @property
    def families(self) -> list[FittedFamily]:
        """The fitted families in parameter-vector order: PFS, then post-progression survival."""
        return [self.pfs] + ([self.pps] if self.pps is not None else [])

    def efficacy(self, orr: float, x: np.ndarray) -> Efficacy:
        """The efficacy block for parameter vector ``x``."""
        k = self.pfs.count
        change: dict[str, Any] = {"orr": orr, "pfs": self.pfs.distribution(x[:k])}
        if self.os_method == "median":
            change.update(os_median_months=self.targets.median_os_months, post_progression_survival=None)
        elif self.pps is not None:
            change.update(os_median_months=None, post_progression_survival=self.pps.distribution(x[k:]))
        return dataclasses.replace(self.template.efficacy, **change)

    def fitted(self, efficacy: Efficacy) -> list[tuple[str, FittedFamily, SurvivalDistribution]]:
        """(label, family, distribution) of each fitted distribution of ``efficacy``."""
        out: list[tuple[str, FittedFamily, SurvivalDistribution]] = [("PFS", self.pfs, efficacy.pfs)]
        if self.pps is not None and efficacy.post_progression_survival is not None:
            out.append(("post-progression survival", self.pps, efficacy.post_progression_survival))
        return out

    def as_written(self, efficacy: Efficacy) -> Efficacy:
        """The efficacy block with its fitted distributions rounded as the TOML block writes them."""
        pps = efficacy.post_progression_survival
        if self.pps is not None and pps is not None:
            pps = self.pps.rounded(pps)
        return dataclasses.replace(efficacy, pfs=self.pfs.rounded(efficacy.pfs), post_progression_survival=pps)

    def scenario(self, efficacy: Efficacy) -> Scenario:
        """The source study: the template on the source's scan grid, without dropout or AEs."""
        t = self.targets
        return source_scenario(
            self.template, efficacy, t.scan_interval_days, t.confirmed, self.follow_up_months, t.unscheduled_progression
        )

    def observe(self, efficacy: Efficacy, size: int) -> CohortStatistics:
        """The statistics of ``size`` patients with this efficacy, on the fixed seed."""
        return observe_cohort(self.scenario(efficacy), size, self.seed, self.targets.not_assessed)


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
            orr_ceiling_message(setup.targets, orr, setup.pfs.family, efficacy.pfs.median, day, still_free)
        )


def _os_method(t: CalibrationTargets) -> tuple[str, FittedFamily | None]:
    """How OS is set: kept from the template, the engine's exact median solve, or a fitted distribution."""
    if t.os_target_count == 0:
        return "template", None
    if not t.os_at:
        return "median", None
    return "fitted", FittedFamily("exponential" if t.os_target_count == 1 else "weibull")


def _cuts_problem(family: str, cuts_months: tuple[float, ...]) -> str | None:
    """What is wrong with the cut points for ``family``, or None."""
    cuts = list(cuts_months)
    if FittedFamily.takes_cuts(family) and not cuts:
        return (
            f"{named('family')} {family} needs {named('cuts_months')}: the months at which the PFS hazard may "
            "change (such as 2 and 6), one relative hazard to fit per cut"
        )
    if cuts and not FittedFamily.takes_cuts(family):
        return f"{named('cuts_months')} applies to {named('family')} piecewise_exponential only, got {family}"
    ok = all(isinstance(c, (int, float)) and math.isfinite(c) and c > 0 for c in cuts)
    if not ok or any(b <= a for a, b in zip(cuts, cuts[1:])):
        return f"{named('cuts_months')} must be positive, strictly increasing months, got {cuts}"
    return None


def _check_inputs(
    t: CalibrationTargets, family: str, cuts_months: tuple[float, ...], cohort_size: int, tolerance: float
) -> FittedFamily:
    """A known family with usable cut points, one PFS target per PFS parameter, a usable cohort and tolerance."""
    if not (isinstance(cohort_size, int) and cohort_size >= 1000):
        raise CalibrationError(
            f"{named('cohort_size')} must be a whole number of at least 1000 patients, got {cohort_size!r}"
        )
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise CalibrationError(f"{named('tolerance')} must be a number strictly between 0 and 1, got {tolerance!r}")
    if family not in FITTABLE_FAMILIES:
        raise CalibrationError(f"{named('family')} must be one of {', '.join(FITTABLE_FAMILIES)}, got {family!r}")
    problem = _cuts_problem(family, cuts_months)
    if problem is not None:
        raise CalibrationError(problem)
    pfs = FittedFamily(family, tuple(float(c) for c in cuts_months))
    if t.pfs_target_count == 0:
        raise CalibrationError(
            f"give at least one PFS target: {named('median_pfs_months')}, {named('dcr')} or {named(PFS_LANDMARK)}"
        )
    if t.pfs_target_count < pfs.count:
        given = t.pfs_target_count
        cuts = f" with {named('cuts_months')} {', '.join(f'{c:g}' for c in pfs.cuts_months)}" if pfs.cuts_months else ""
        instead = f"fewer {named('cuts_months')}" if pfs.cuts_months else f"{named('family')} exponential"
        raise CalibrationError(
            f"{named('family')} {family}{cuts} has {number_word(pfs.count)} PFS parameters ({pfs.describe()}) but "
            f"only {number_word(given)} PFS target{' was' if given == 1 else 's were'} given; add {named('dcr')}, "
            f"{named('median_pfs_months')} or {named(PFS_LANDMARK)}, or use {instead}"
        )
    return pfs


def _edge(setup: _Setup, efficacy: Efficacy) -> str | None:
    """Which fitted shape or relative hazard, if any, ended on the edge of its range, described for a message."""
    for label, family, dist in setup.fitted(efficacy):
        for parameter, value in family.edges(dist):
            return (
                f"{label} {parameter.label} {value:g} on the edge of the allowed range "
                f"[{parameter.low:g}, {parameter.high:g}]"
            )
    return None


def _setup(t: CalibrationTargets, pfs: FittedFamily, template: Scenario, seed: int) -> _Setup:
    """The fixed parts of a fit: families, how OS is set, and a follow-up long enough for every target."""
    os_method, pps = _os_method(t)
    longest = max([t.median_pfs_months or 0.0, t.median_os_months or 0.0] + [lm.months for lm in t.pfs_at + t.os_at])
    return _Setup(t, template, pfs, pps, os_method, horizon_months(longest), seed)


def _with_unconfirmed_share(setup: _Setup, efficacy: Efficacy, target: float, size: int) -> Efficacy:
    """``efficacy`` with the transient-response share that gives ``target`` unconfirmed ORR.

    A transient response needs a non-responder with a stable scan; the share of the cohort that
    could show one is read with every non-responder made transient. Transient responses are drawn
    on their own stream, so the unconfirmed ORR is (almost exactly) linear in the share.
    """
    none = setup.observe(dataclasses.replace(efficacy, unconfirmed_response_share=0.0), size).orr_unconfirmed
    every = setup.observe(dataclasses.replace(efficacy, unconfirmed_response_share=1.0), size).orr_unconfirmed
    extra, room = target - none, every - none
    if not 0 <= extra <= room:
        raise CalibrationError(
            f"{named('unconfirmed_orr')} {target:g} is out of reach: with these targets the confirmed ORR is "
            f"{none:.3f} and unconfirmed responses can add at most {room:.3f} (patients without a confirmed "
            "response who have a stable scan)"
        )
    share = round(extra / room, PARAMETER_DECIMALS) if room > 0 else 0.0
    return dataclasses.replace(efficacy, unconfirmed_response_share=share)


def calibrate(
    targets: CalibrationTargets,
    family: str = "weibull",
    template: str | Scenario = "base",
    cohort_size: int = DEFAULT_COHORT_SIZE,
    seed: int = DEFAULT_SEED,
    tolerance: float = DEFAULT_TOLERANCE,
    cuts_months: tuple[float, ...] = (),
) -> CalibrationResult:
    """Fit an efficacy block to ``targets`` on the source's scan grid.

    ``template`` (a scenario or the name of a shipped one) supplies everything that is not fitted:
    the time to response, CR share, response-PFS association, death-without-progression share, the
    scan window and confirmation rules, and ORR or OS when they are not targets. ``cuts_months``
    are the piecewise exponential's cut points (that family only); it needs one PFS target per
    interval.
    """
    pfs = _check_inputs(targets, family, cuts_months, cohort_size, tolerance)
    name = template if isinstance(template, str) else "(given scenario)"
    scenario = load_scenario(template) if isinstance(template, str) else template
    setup = _setup(targets, pfs, scenario, seed)
    orr = scenario.efficacy.orr if targets.orr is None else targets.assessed(targets.orr)
    pfs_criteria, os_criteria = target_criteria(targets)
    fitted = pfs_criteria + (os_criteria if setup.os_method == "fitted" else [])

    x0 = pfs_start(targets, pfs)
    if setup.pps is not None:
        x0 += pps_start(targets, math.exp(x0[0]), setup.pps)
    x1 = _fit(setup, _STAGE1_ORR, fitted, x0, min(_STAGE1_SIZE, cohort_size))
    _check_orr_fits(setup, orr, setup.efficacy(orr, x1))
    x2 = _fit(setup, orr, fitted, list(x1), cohort_size)

    efficacy = setup.as_written(setup.efficacy(orr, x2))
    _check_orr_fits(setup, orr, efficacy)
    if targets.unconfirmed_orr is not None:
        efficacy = _with_unconfirmed_share(setup, efficacy, targets.unconfirmed_orr, cohort_size)
    try:
        stats = setup.observe(efficacy, cohort_size)
    except ModelError as exc:
        raise CalibrationError(f"the fitted efficacy does not hold together: {exc}") from None

    reported = ([orr_criterion(targets, targets.orr)] if targets.orr is not None else []) + pfs_criteria + os_criteria
    if targets.unconfirmed_orr is not None:
        reported.insert(1 if targets.orr is not None else 0, unconfirmed_orr_criterion(targets.unconfirmed_orr))
    fits = [c.result(stats) for c in reported]
    window = setup.scenario(efficacy).schedule.scan_window_days
    pps_family = setup.pps.family if setup.pps is not None else None
    edge = _edge(setup, efficacy)
    if edge is not None or any(abs(f.miss) > tolerance for f in fits):
        raise CalibrationError(inconsistency_message(targets, family, fits, tolerance, edge, window, stats))
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
        notes=notes(targets, name, scenario.efficacy, setup.os_method, pps_family, window),
        implied=implied_values(targets, stats, window),
        warnings=robustness_warnings(targets, stats, setup.fitted(efficacy), tolerance, window),
    )
