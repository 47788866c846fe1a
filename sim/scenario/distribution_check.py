"""The check of a time-to-event distribution table: a family, its declared parameters, a computable curve.

``{family = "weibull", median_months = 4.0, shape = 1.2}`` becomes the family's
:class:`~sim.distributions.SurvivalDistribution`, or a :class:`~.checks.FieldError` names the
parameter and what it allows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..distributions import FAMILIES, DistributionError, ParameterKind, ParameterSpec, SurvivalDistribution
from .checks import Check, FieldError, _number_text, _show, list_of, number

__all__ = ["MAX_EVENT_MONTHS", "MAX_MEDIAN_MONTHS", "distribution"]

MAX_MEDIAN_MONTHS = 1200.0
"""Longest median survival a scenario may give (a century): beyond it a typo, and no event would be seen."""

MAX_EVENT_MONTHS = 1e200
"""Largest event time a distribution may draw: far beyond any study, yet days and sums of it stay finite."""


def _parameter_check(spec: ParameterSpec) -> Check:
    """The check for one declared family parameter; the constructor checks list order and how lists relate."""
    positive = number(0, strict_min=True)
    if spec.name == "median_months":
        positive = number(0, MAX_MEDIAN_MONTHS, strict_min=True)
    if spec.kind is ParameterKind.POSITIVE:
        return positive
    return list_of(positive, min_length=spec.min_length)


def _distribution(value: Any, path: str) -> SurvivalDistribution:
    if not isinstance(value, dict):
        raise distribution.refuse(value, path)
    families = ", ".join(repr(f) for f in FAMILIES)
    family = value.get("family")
    if not isinstance(family, str) or family not in FAMILIES:
        raise FieldError(f"{path}.family must be one of {families}, got {_show(family)}")
    cls = FAMILIES[family]
    specs = {spec.name: spec for spec in cls.parameter_specs}
    allowed = list(specs)
    kwargs: dict[str, Any] = {}
    for key, raw in value.items():
        if key == "family":
            continue
        if key not in specs:
            raise FieldError(f"{path}.{key} is not a parameter of the {family} family; allowed: {', '.join(allowed)}")
        kwargs[key] = _parameter_check(specs[key])(raw, f"{path}.{key}")
    missing = [name for name in allowed if name not in kwargs]
    if missing:
        raise FieldError(f"{path}.{missing[0]} is required for the {family} family")
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            made: SurvivalDistribution | None = cls(**kwargs)
    except DistributionError as exc:
        raise FieldError(f"{path}: {exc}") from None
    except ArithmeticError:  # the parameters' own arithmetic overflows: piecewise hazards of 1e300
        made = None
    if made is None or not _finite_tail(made):
        raise FieldError(
            f"{path}: these {family} parameters are too extreme to compute with (event times beyond "
            f"{_number_text(MAX_EVENT_MONTHS)} months, or a cumulative hazard that overflows within 1000 months); "
            "make them less extreme"
        )
    return made


def _finite_tail(dist: SurvivalDistribution) -> bool:
    """Whether the curve stays in floating point where a trial looks: H(t) up to 1000 months, and draws.

    Each parameter may be valid alone and the curve still overflow: a Weibull shape of 0.0005 puts
    ln 2 ** (1 / shape) below the smallest float, a shape of 1000 makes (t / scale) ** shape infinite
    within a year. The largest uniform a sampler draws is 1 - 2**-53.
    """
    times = np.geomspace(1e-6, 1e3, 64)
    try:
        with np.errstate(over="raise", invalid="raise", divide="ignore", under="ignore"):
            tail = dist.quantile(np.array([2.0**-53, 0.5, 1.0 - 2.0**-53]))
            dist.cumulative_hazard(times)
            dist.mean()
    except ArithmeticError:
        return False
    return bool(np.all(np.isfinite(tail)) and tail[-1] <= MAX_EVENT_MONTHS)


distribution = Check(
    f"a distribution table: a family and its parameters, median_months in (0, {MAX_MEDIAN_MONTHS:g}]", _distribution
)
"""A time-to-event distribution: ``{family = "weibull", median_months = 4.0, shape = 1.2}``."""
