"""Fit the latent efficacy model to published summary statistics, corrected for the assessment grid.

The free parameters are the PFS distribution's (median and, for two-parameter families, shape) and,
when OS landmarks are targets, a post-progression survival distribution's. Every target is read
off a synthetic cohort observed on the source's scan grid (:mod:`sim.calibration.cohort`), so a
published PFS median is matched as a median of progression dated at scans, not as the latent
median. ORR is not fitted: the model holds it exactly, provided the PFS leaves enough patients
progression-free to confirm that many responses.

Residuals are all on the survival-probability scale, so targets of different kinds weigh alike:
a rate contributes ``achieved - target``; a median ``0.5 ln 2 ln(achieved / target)``, which is the
change of survival at the median that a relative shift of the median implies for a locally
exponential curve. ``scipy.optimize.least_squares`` minimises their squares; with one target per
free parameter that is a root solve. A target missed by more than ``tolerance`` on that scale means
the targets are inconsistent with each other, the model or the family, and is reported as a
:class:`CalibrationError` with the best fit and what to try.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from ..distributions import FAMILIES, Exponential, SurvivalDistribution
from ..patient_model import DAYS_PER_MONTH, ModelError, earliest_sure_confirmation_day
from ..scenario import load_scenario
from ..scenario.model import Efficacy, Scenario
from .cohort import DEFAULT_COHORT_SIZE, DEFAULT_SEED, CohortStatistics, horizon_months, observe_cohort, source_scenario
from .errors import CalibrationError
from .targets import CalibrationTargets

__all__ = [
    "FITTABLE_FAMILIES",
    "DEFAULT_TOLERANCE",
    "MEDIAN_WEIGHT",
    "CalibrationResult",
    "TargetFit",
    "calibrate",
]

FITTABLE_FAMILIES: tuple[str, ...] = ("exponential", "weibull", "loglogistic", "lognormal")
"""PFS families the calibration can fit: the median alone, or the median and a shape."""

DEFAULT_TOLERANCE = 0.01
"""Largest miss allowed on the survival-probability scale (one percentage point of a rate)."""

MEDIAN_WEIGHT = 0.5 * math.log(2.0)
"""Survival change per unit log-ratio of a median, for a locally exponential curve."""

PARAMETER_DECIMALS = 4
"""Fitted medians and shapes are written with this many decimals, and evaluated as written."""

_STAGE1_SIZE = 40_000
_STAGE1_ORR = 1e-6  # stage 1 fits PFS with (almost) no responders, so the ORR ceiling cannot interfere
_LOG_MEDIAN_BOUNDS = (math.log(0.03), math.log(600.0))
_LOG_SHAPE_BOUNDS = (math.log(0.1), math.log(10.0))
_PENALTY = 1.0


@dataclass(frozen=True)
class TargetFit:
    """One published statistic next to the value the calibrated model reproduces."""

    name: str
    target: float
    achieved: float
    statistic: str

    @property
    def miss(self) -> float:
        """The residual on the survival-probability scale (see the module docstring)."""
        return _residual(self.name, self.achieved, self.target)


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
    notes: tuple[str, ...]

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


def _residual(name: str, achieved: float, target: float) -> float:
    """Miss on the survival-probability scale; a median compares on the log scale."""
    if not math.isfinite(achieved):
        return _PENALTY
    if name.startswith("median"):
        return MEDIAN_WEIGHT * math.log(achieved / target)
    return achieved - target


@dataclass(frozen=True)
class _Criterion:
    """A target and how to read it off a cohort."""

    name: str
    target: float
    statistic: str
    read: Callable[[CohortStatistics], float]


def _median_statistic(endpoint: str, n: int | None) -> str:
    what = "scan-dated PFS" if endpoint == "pfs" else "OS"
    if n is None:
        return f"KM median of {what}, large study (curve joined linearly at 0.5)"
    return f"mean KM median of {what} in a study of n = {n}"


def _criteria(t: CalibrationTargets) -> tuple[list[_Criterion], list[_Criterion]]:
    """(PFS criteria, OS criteria) for the targets given."""
    n = t.source_n
    pfs: list[_Criterion] = []
    if t.dcr is not None:
        pfs.append(_Criterion("dcr", t.dcr, "best response CR, PR or SD (SD from the first scan)", lambda s: s.dcr))
    if t.median_pfs_months is not None:
        pfs.append(_Criterion("median_pfs_months", t.median_pfs_months, _median_statistic("pfs", n),
                              lambda s: s.median("pfs", n)))
    for lm in t.pfs_at:
        pfs.append(_Criterion(f"pfs_at_{lm.months:g}m", lm.rate, f"KM rate of scan-dated PFS at {lm.months:g} months",
                              lambda s, m=lm.months: s.rate_at("pfs", m)))
    os_: list[_Criterion] = []
    if t.median_os_months is not None:
        os_.append(_Criterion("median_os_months", t.median_os_months, _median_statistic("os", n),
                              lambda s: s.median("os", n)))
    for lm in t.os_at:
        os_.append(_Criterion(f"os_at_{lm.months:g}m", lm.rate, f"KM rate of OS at {lm.months:g} months",
                              lambda s, m=lm.months: s.rate_at("os", m)))
    return pfs, os_


def _orr_criterion(t: CalibrationTargets, orr: float) -> _Criterion:
    kind = "confirmed responders" if t.confirmed else "responders (no confirmation)"
    return _Criterion("orr", orr, f"{kind}: best response CR or PR", lambda s: s.orr)


def _distribution(family: str, x: np.ndarray) -> SurvivalDistribution:
    """A family member from (log median[, log shape])."""
    median = float(np.exp(x[0]))
    if family == "exponential":
        return Exponential(median)
    return FAMILIES[family](median_months=median, shape=float(np.exp(x[1])))  # type: ignore[call-arg]


def _rounded(dist: SurvivalDistribution) -> SurvivalDistribution:
    """The distribution with its median and shape at the decimals the TOML block is written with."""
    params = {k: round(v, PARAMETER_DECIMALS) for k, v in dist.parameters().items() if k != "family"}
    return type(dist)(**params)


def _size(family: str) -> int:
    return 1 if family == "exponential" else 2


def _bounds(families: list[str]) -> tuple[list[float], list[float]]:
    low, high = [], []
    for family in families:
        low.append(_LOG_MEDIAN_BOUNDS[0])
        high.append(_LOG_MEDIAN_BOUNDS[1])
        if _size(family) == 2:
            low.append(_LOG_SHAPE_BOUNDS[0])
            high.append(_LOG_SHAPE_BOUNDS[1])
    return low, high


def _exponential_median(months: float, rate: float) -> float:
    """Median of the exponential curve through (months, rate)."""
    return months * math.log(2.0) / -math.log(rate)


def _pfs_start(t: CalibrationTargets, family: str) -> list[float]:
    """Starting point: the PFS median target, else an exponential through the first rate; shape 1."""
    if t.median_pfs_months is not None:
        median = t.median_pfs_months
    elif t.pfs_at:
        median = _exponential_median(t.pfs_at[0].months, t.pfs_at[0].rate)
    else:
        assert t.dcr is not None
        median = _exponential_median(t.scan_interval_days / DAYS_PER_MONTH, t.dcr)
    return [math.log(median)] + ([0.0] if _size(family) == 2 else [])


def _pps_start(t: CalibrationTargets, pfs_median: float, family: str) -> list[float]:
    """Starting point: OS median (or exponential OS through the first landmark) less the PFS median."""
    if t.median_os_months is not None:
        os_median = t.median_os_months
    else:
        os_median = _exponential_median(t.os_at[0].months, t.os_at[0].rate)
    median = max(os_median - pfs_median, 0.1 * os_median)
    return [math.log(median)] + ([0.0] if _size(family) == 2 else [])


@dataclass(frozen=True)
class _Setup:
    """Everything fixed during a fit: the template, the source design and the cohort."""

    targets: CalibrationTargets
    template: Scenario
    family: str
    pps_family: str | None
    os_method: str
    follow_up_months: float
    cohort_size: int
    seed: int

    def efficacy(self, orr: float, x: np.ndarray) -> Efficacy:
        """The efficacy block for parameter vector ``x`` (PFS first, then post-progression survival)."""
        k = _size(self.family)
        change: dict[str, Any] = {"orr": orr, "pfs": _distribution(self.family, x[:k])}
        if self.os_method == "median":
            change.update(os_median_months=self.targets.median_os_months, post_progression_survival=None)
        elif self.os_method == "fitted":
            assert self.pps_family is not None
            change.update(os_median_months=None, post_progression_survival=_distribution(self.pps_family, x[k:]))
        return dataclasses.replace(self.template.efficacy, **change)

    def scenario(self, efficacy: Efficacy) -> Scenario:
        """The source study: the template on the source's scan grid, without dropout or AEs."""
        t = self.targets
        return source_scenario(self.template, efficacy, t.scan_interval_days, t.confirmed, self.follow_up_months)

    def observe(self, efficacy: Efficacy, size: int) -> CohortStatistics:
        return observe_cohort(self.scenario(efficacy), size, self.seed)


def _least_squares(
    setup: _Setup, orr: float, criteria: list[_Criterion], x0: list[float], size: int, xtol: float
) -> np.ndarray:
    """Minimise the squared residuals over the cohort of ``size`` patients, from ``x0``.

    The cohort's statistics move in steps of one patient, so derivatives are taken over a
    relative step of 2e-3 and the search stops once the log-parameters move by less than ``xtol``.
    """
    families = [setup.family] + ([setup.pps_family] if setup.os_method == "fitted" and setup.pps_family else [])
    low, high = _bounds(families)

    def residuals(x: np.ndarray) -> np.ndarray:
        try:
            stats = setup.observe(setup.efficacy(orr, x), size)
        except ModelError:
            return np.full(len(criteria), _PENALTY)
        return np.array([_residual(c.name, c.read(stats), c.target) for c in criteria])

    start = np.clip(np.asarray(x0, dtype=float), np.asarray(low) + 1e-9, np.asarray(high) - 1e-9)
    solution = optimize.least_squares(
        residuals, start, bounds=(low, high), method="trf", diff_step=2e-3, ftol=1e-10, xtol=xtol, gtol=1e-10, max_nfev=100
    )
    if solution.status <= 0:
        raise CalibrationError(
            f"the fit did not converge ({solution.message}); try fewer targets, another --family "
            f"({', '.join(FITTABLE_FAMILIES)}) or a larger --cohort"
        )
    return np.asarray(solution.x)


def _check_orr_fits(setup: _Setup, orr: float, efficacy: Efficacy) -> None:
    """The model's ORR ceiling: responders must still be progression-free when confirmation is sure."""
    schedule = setup.scenario(efficacy).schedule
    day = earliest_sure_confirmation_day(schedule)
    still_free = float(efficacy.pfs.sf(day / DAYS_PER_MONTH))
    if orr > 0 and orr >= still_free:
        t = setup.targets
        rule = "confirmed" if t.confirmed else "seen"
        raise CalibrationError(
            f"--orr {orr:g} is more than the model allows with the PFS the other targets imply: a response "
            f"seen at the first scan is surely {rule} only by day {day:g} on a {t.scan_weeks:g}-weekly grid, and only "
            f"{still_free:.3f} of patients are progression-free then ({setup.family} PFS, median "
            f"{efficacy.pfs.median:.2f} months); lower --orr below {still_free:.3f}, check --dcr, --median-pfs and "
            f"--scan-weeks against the source, or use --no-confirmed if its responses were not confirmed"
        )


def _os_method(t: CalibrationTargets) -> tuple[str, str | None]:
    """How OS is set: kept from the template, the engine's exact median solve, or a fitted distribution."""
    if t.os_target_count == 0:
        return "template", None
    if not t.os_at:
        return "median", None
    return "fitted", "exponential" if t.os_target_count == 1 else "weibull"


def _check_counts(t: CalibrationTargets, family: str) -> None:
    """One PFS target per free PFS parameter at least; an unknown family is refused."""
    if family not in FITTABLE_FAMILIES:
        raise CalibrationError(f"--family must be one of {', '.join(FITTABLE_FAMILIES)}, got {family!r}")
    if t.pfs_target_count == 0:
        raise CalibrationError("give at least one PFS target: --median-pfs, --dcr or --pfs-at MONTHS:RATE")
    if t.pfs_target_count < _size(family):
        raise CalibrationError(
            f"--family {family} has two PFS parameters (median and shape) but only one PFS target was given; "
            "add --dcr, --median-pfs or --pfs-at MONTHS:RATE, or use --family exponential"
        )


def _inconsistency_message(setup: _Setup, fits: list[TargetFit], tolerance: float) -> str:
    """What was missed, by how much, and what to try."""
    t = setup.targets
    worst = max(abs(f.miss) for f in fits)
    missed = ", ".join(f"{f.name} {f.achieved:.4g} (target {f.target:g})" for f in fits)
    hint = ""
    window = setup.template.schedule.scan_window_days
    first_scan_end = t.scan_interval_days + window
    if t.dcr is not None and t.median_pfs_months is not None and t.dcr <= 0.5 and t.median_pfs_months * DAYS_PER_MONTH > first_scan_end:
        hint = (
            f" On this grid a DCR of {t.dcr:g} leaves at most half the patients free of progression after the first scan, "
            f"so the reported median PFS falls at or before it (day {first_scan_end})."
        )
    return (
        f"the targets cannot all be met by a {setup.family} PFS on a {t.scan_weeks:g}-weekly scan grid "
        f"(largest miss {worst:.3f} on the survival scale, tolerance {tolerance:g}); best fit: {missed}.{hint} "
        f"Try: check --scan-weeks against the source's schedule, drop or relax a target, another --family "
        f"({', '.join(FITTABLE_FAMILIES)}), or accept this best fit with --tolerance {math.ceil(worst * 100) / 100:g}"
    )


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
    if not (isinstance(cohort_size, int) and cohort_size >= 1000):
        raise CalibrationError(f"--cohort must be a whole number of at least 1000 patients, got {cohort_size!r}")
    if not (isinstance(tolerance, (int, float)) and 0 < tolerance < 1):
        raise CalibrationError(f"--tolerance must be a number strictly between 0 and 1, got {tolerance!r}")
    _check_counts(targets, family)
    name = template if isinstance(template, str) else "(given scenario)"
    scenario = load_scenario(template) if isinstance(template, str) else template
    os_method, pps_family = _os_method(targets)
    longest = max([targets.median_pfs_months or 0.0, targets.median_os_months or 0.0]
                  + [lm.months for lm in targets.pfs_at + targets.os_at])
    setup = _Setup(targets, scenario, family, pps_family, os_method, horizon_months(longest), cohort_size, seed)
    orr = scenario.efficacy.orr if targets.orr is None else targets.orr
    pfs_criteria, os_criteria = _criteria(targets)
    fitted = pfs_criteria + (os_criteria if os_method == "fitted" else [])

    x0 = _pfs_start(targets, family)
    if os_method == "fitted":
        assert pps_family is not None
        x0 += _pps_start(targets, math.exp(x0[0]), pps_family)
    x1 = _least_squares(setup, _STAGE1_ORR, fitted, x0, min(_STAGE1_SIZE, cohort_size), xtol=1e-3)
    _check_orr_fits(setup, orr, setup.efficacy(orr, x1))
    x2 = _least_squares(setup, orr, fitted, list(x1), cohort_size, xtol=1e-4)

    efficacy = setup.efficacy(orr, x2)
    efficacy = dataclasses.replace(
        efficacy,
        pfs=_rounded(efficacy.pfs),
        post_progression_survival=_rounded(efficacy.post_progression_survival) if os_method == "fitted" else efficacy.post_progression_survival,
    )
    _check_orr_fits(setup, orr, efficacy)
    try:
        stats = setup.observe(efficacy, cohort_size)
    except ModelError as exc:
        raise CalibrationError(f"the fitted efficacy does not hold together: {exc}") from None

    reported = ([_orr_criterion(targets, orr)] if targets.orr is not None else []) + pfs_criteria + os_criteria
    fits = [TargetFit(c.name, c.target, c.read(stats), c.statistic) for c in reported]
    if any(abs(f.miss) > tolerance for f in fits):
        raise CalibrationError(_inconsistency_message(setup, fits, tolerance))
    return CalibrationResult(
        targets=targets,
        family=family,
        efficacy=efficacy,
        fits=tuple(fits),
        template=name,
        scan_interval_days=targets.scan_interval_days,
        scan_window_days=setup.scenario(efficacy).schedule.scan_window_days,
        cohort_size=cohort_size,
        seed=seed,
        os_method=os_method,
        notes=_notes(targets, name, scenario.efficacy, os_method, pps_family),
    )


def _notes(t: CalibrationTargets, name: str, kept: Efficacy, os_method: str, pps_family: str | None) -> tuple[str, ...]:
    """What the block takes from the template and how OS was set."""
    notes = [
        f"kept from scenario {name}: complete_response_share {kept.complete_response_share:g}, "
        f"response_pfs_association {kept.response_pfs_association:g}, death_without_progression_share "
        f"{kept.death_without_progression_share:g}, time_to_response {kept.time_to_response!r}"
    ]
    if t.orr is None:
        notes.append(f"orr {kept.orr:g} kept from scenario {name}: not a target")
    if os_method == "template":
        notes.append(f"OS kept from scenario {name}: no OS target")
    elif os_method == "median":
        notes.append("OS: os_median_months; the engine solves an exponential post-progression survival so the OS median is exact")
    else:
        notes.append(f"OS: {pps_family} post-progression survival fitted to the OS targets (OS = PFS + post-progression survival)")
    if not t.confirmed:
        notes.append("the source's responses were not confirmed; a scenario that requires confirmation reads this orr as confirmed")
    return tuple(notes)
