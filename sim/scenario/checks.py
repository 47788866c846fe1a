"""Declared constraints for scenario fields: each check converts a raw TOML value or says why not.

A check is a callable ``(value, path) -> converted``; it raises :class:`FieldError` whose message
names the field path, the allowed values and what it got, e.g.
``efficacy.orr must be a probability in [0, 1], got 1.3``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..distributions import FAMILIES, DistributionError, ParameterKind, ParameterSpec, SurvivalDistribution

__all__ = [
    "FieldError",
    "Check",
    "probability",
    "number",
    "integer",
    "boolean",
    "text",
    "choice",
    "date",
    "day_range",
    "list_of",
    "nested",
    "distribution",
    "convert_table",
]

Check = Callable[[Any, str], Any]
T = TypeVar("T")


class FieldError(ValueError):
    """One scenario field is invalid; the message is ready to show a user."""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def probability(value: Any, path: str) -> float:
    """A probability in [0, 1]."""
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise FieldError(f"{path} must be a probability in [0, 1], got {_show(value)}")
    return float(value)


def number(
    minimum: float | None = None, maximum: float | None = None, *, strict_min: bool = False, strict_max: bool = False
) -> Check:
    """A finite real number within optional bounds."""
    low = "-inf" if minimum is None else f"{minimum:g}"
    high = "inf" if maximum is None else f"{maximum:g}"
    bracket = "(" if strict_min or minimum is None else "["
    closing = ")" if strict_max or maximum is None else "]"
    allowed = f"a number in {bracket}{low}, {high}{closing}"
    if minimum == 0 and strict_min and maximum is None:
        allowed = "a positive number"

    def check(value: Any, path: str) -> float:
        ok = _is_number(value) and math.isfinite(value)
        if ok and minimum is not None:
            ok = value > minimum if strict_min else value >= minimum
        if ok and maximum is not None:
            ok = value < maximum if strict_max else value <= maximum
        if not ok:
            raise FieldError(f"{path} must be {allowed}, got {_show(value)}")
        return float(value)

    return check


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    """A whole number within optional bounds."""

    def check(value: Any, path: str) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
        if not ok:
            bounds = f"at least {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            raise FieldError(f"{path} must be a whole number {bounds}, got {_show(value)}")
        return int(value)

    return check


def boolean(value: Any, path: str) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise FieldError(f"{path} must be true or false, got {_show(value)}")
    return value


def text(value: Any, path: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(f"{path} must be a non-empty string, got {_show(value)}")
    return value


def choice(*options: str) -> Check:
    """One of a fixed set of words."""

    def check(value: Any, path: str) -> str:
        if value not in options:
            allowed = ", ".join(repr(o) for o in options)
            raise FieldError(f"{path} must be one of {allowed}, got {_show(value)}")
        return str(value)

    return check


def date(value: Any, path: str) -> dt.date:
    """A calendar date, as a TOML date (2026-01-31) or an ISO string."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise FieldError(f"{path} must be a date like 2026-01-31, got {_show(value)}")


def day_range(value: Any, path: str) -> tuple[int, int]:
    """A [min, max] pair of whole days, drawn uniformly (inclusive) per patient."""
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise FieldError(f"{path} must be a [min, max] pair of whole days with 0 <= min <= max, got {_show(value)}")
    return int(value[0]), int(value[1])


def list_of(item: Check, *, min_length: int = 0) -> Check:
    """A list whose entries each pass ``item``; paths name the entry index."""

    def check(value: Any, path: str) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)) or len(value) < min_length:
            entries = "entry" if min_length == 1 else "entries"
            raise FieldError(f"{path} must be a list of at least {min_length} {entries}, got {_show(value)}")
        return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    return check


def nested(cls: type[T]) -> Check:
    """A TOML table converted into the dataclass ``cls``."""

    def check(value: Any, path: str) -> T:
        return convert_table(cls, value, path)

    return check


def _parameter_check(spec: ParameterSpec) -> Check:
    """The check for one declared family parameter; the constructor checks list order and how lists relate."""
    positive = number(0, strict_min=True)
    if spec.kind is ParameterKind.POSITIVE:
        return positive
    return list_of(positive, min_length=spec.min_length)


def distribution(value: Any, path: str) -> SurvivalDistribution:
    """A time-to-event distribution: ``{family = "weibull", median_months = 4.0, shape = 1.2}``."""
    if not isinstance(value, dict):
        raise FieldError(f"{path} must be a table with family and median_months, got {_show(value)}")
    families = ", ".join(repr(f) for f in FAMILIES)
    family = value.get("family")
    if family not in FAMILIES:
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
        return cls(**kwargs)
    except DistributionError as exc:
        raise FieldError(f"{path}: {exc}") from None


def convert_table(cls: type[T], value: Any, path: str) -> T:
    """Convert a TOML table into dataclass ``cls``, checking every field it declares.

    Each dataclass field carries its check in ``metadata["check"]``; a field with a default is
    optional. All problems in the table are collected before raising, so a user sees every
    mistake at once.
    """
    if not isinstance(value, dict):
        raise FieldError(f"{path} must be a table, got {_show(value)}")
    errors: list[str] = []
    kwargs: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    for key in value:
        if key not in fields:
            where = f"{path}.{key}" if path else key
            errors.append(f"{where} is not a known field; allowed: {', '.join(fields)}")
    for name, fld in fields.items():
        where = f"{path}.{name}" if path else name
        if name not in value:
            no_default = fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING
            if no_default:
                errors.append(f"{where} is required")
            continue
        try:
            kwargs[name] = fld.metadata["check"](value[name], where)
        except ScenarioProblems as exc:
            errors.extend(exc.problems)
        except FieldError as exc:
            errors.append(str(exc))
    if errors:
        raise ScenarioProblems(errors)
    return cls(**kwargs)


class ScenarioProblems(FieldError):
    """Several field errors found in one pass."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(message)
