"""Declared constraints for scenario fields: each check converts a raw TOML value or says why not.

A :class:`Check` is a callable ``(value, path) -> converted`` that says what it allows; it raises
:class:`FieldError` whose message names the field path, the allowed values and what it got, e.g.
``efficacy.orr must be a probability in [0, 1], got 1.3``. The same ``allowed`` words fill the
"allowed" column of the scenario-field table in ``docs/reference.md`` (:mod:`sim.scenario.reference`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "FieldError",
    "Check",
    "probability",
    "number",
    "zero_or",
    "integer",
    "boolean",
    "text",
    "choice",
    "date",
    "day_range",
    "beta_shapes",
    "list_of",
    "nested",
    "convert_table",
]

T = TypeVar("T")

MAX_DAYS = 3650
"""Longest delay a day range may give (ten years): any longer is a typo, not a protocol window."""


class FieldError(ValueError):
    """One scenario field is invalid; the message is ready to show a user."""


@dataclass(frozen=True)
class Check:
    """A declared constraint: ``check(value, path)`` converts a raw TOML value or raises FieldError.

    ``allowed`` says what the check accepts in the words of its error messages ("a probability in
    [0, 1]"), and ``docs/reference.md`` shows the same words. ``item`` is the check of each entry
    of a list, ``table`` the dataclass of a nested table, so the reference can list their fields.
    """

    allowed: str
    convert: Callable[[Any, str], Any] = field(repr=False)
    item: Check | None = None
    table: type | None = None

    def __call__(self, value: Any, path: str) -> Any:
        """The value converted, or a FieldError naming ``path``."""
        return self.convert(value, path)

    def refuse(self, value: Any, path: str) -> FieldError:
        """The error for ``value`` at ``path``: the field, what it allows and what it got."""
        return FieldError(f"{path} must be {self.allowed}, got {_show(value)}")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)) and len(str(value)) > 60:
        return f"a list of {len(value)} entries"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"{float(value):g}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _too_close_to_zero(value: float, path: str, allowed: str) -> FieldError | None:
    """A subnormal number (below 2.2e-308 but not 0) is in range yet breaks arithmetic: 1 / x overflows."""
    if value != 0 and abs(value) < sys.float_info.min:
        return FieldError(
            f"{path} must be {allowed}, got {value:g}, too close to 0 to compute with; give 0 or at least "
            f"{sys.float_info.min:.3g}"
        )
    return None


def _probability(value: Any, path: str) -> float:
    if not _is_number(value) or not 0.0 <= value <= 1.0:
        raise probability.refuse(value, path)
    problem = _too_close_to_zero(value, path, probability.allowed)
    if problem:
        raise problem
    return float(value)


probability = Check("a probability in [0, 1]", _probability)
"""A probability in [0, 1]."""


def _number_text(value: float) -> str:
    """A bound as a person writes it: 600, 0.5, 1e-6 (not 1e-06)."""
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + m.group(1).replace("+", "") + m.group(2), f"{value:g}")


def _interval(low: str, high: str, strict_min: bool, strict_max: bool) -> str:
    return f"{'(' if strict_min else '['}{low}, {high}{')' if strict_max else ']'}"


def number(
    minimum: float | None = None, maximum: float | None = None, *, strict_min: bool = False, strict_max: bool = False
) -> Check:
    """A finite real number within optional bounds."""
    low = "-inf" if minimum is None else _number_text(minimum)
    high = "inf" if maximum is None else _number_text(maximum)
    allowed = f"a number in {_interval(low, high, strict_min or minimum is None, strict_max or maximum is None)}"
    if minimum == 0 and strict_min and maximum is None:
        allowed = "a positive number"

    def convert(value: Any, path: str) -> float:
        ok = _is_number(value) and math.isfinite(value)
        if ok and minimum is not None:
            ok = value > minimum if strict_min else value >= minimum
        if ok and maximum is not None:
            ok = value < maximum if strict_max else value <= maximum
        if not ok:
            raise check.refuse(value, path)
        problem = _too_close_to_zero(value, path, allowed)
        if problem:
            raise problem
        return float(value)

    check = Check(allowed, convert)
    return check


def zero_or(check: Check) -> Check:
    """0 (the feature is off), or a value ``check`` accepts: where a vanishing positive value would overflow."""

    def convert(value: Any, path: str) -> Any:
        if _is_number(value) and value == 0:
            return 0.0
        try:
            return check(value, path)
        except FieldError:
            raise either.refuse(value, path) from None

    either = Check(f"0 or {check.allowed}", convert)
    return either


def integer(minimum: int, maximum: int | None = None) -> Check:
    """A whole number from ``minimum``, up to ``maximum`` if given."""
    allowed = f"a whole number at least {minimum}" if maximum is None else f"a whole number in [{minimum}, {maximum}]"

    def convert(value: Any, path: str) -> int:
        if not (_is_whole(value) and value >= minimum and (maximum is None or value <= maximum)):
            raise check.refuse(value, path)
        return int(value)

    check = Check(allowed, convert)
    return check


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise boolean.refuse(value, path)
    return value


boolean = Check("true or false", _boolean)
"""true or false."""


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise text.refuse(value, path)
    return value


text = Check("a non-empty string", _text)
"""A non-empty string."""


def choice(*options: str) -> Check:
    """One of a fixed set of words."""

    def convert(value: Any, path: str) -> str:
        if not isinstance(value, str) or value not in options:
            raise check.refuse(value, path)
        return value

    check = Check(f"one of {', '.join(repr(o) for o in options)}", convert)
    return check


def _date(value: Any, path: str) -> dt.date:
    day: dt.date | None = None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            pass
    if day is None:
        raise date.refuse(value, path)
    return day


# no calendar bound here: the study's span is bounded as a whole (MAX_STUDY_YEARS, checked in load.py)
date = Check("a date like 2026-01-31", _date)
"""A calendar date, as a TOML date (2026-01-31) or an ISO string."""


def _day_range(value: Any, path: str) -> tuple[int, int]:
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(_is_whole(v) and 0 <= v <= MAX_DAYS for v in value)
        and value[0] <= value[1]
    )
    if not ok:
        raise day_range.refuse(value, path)
    return int(value[0]), int(value[1])


day_range = Check(f"a [min, max] pair of whole days with 0 <= min <= max <= {MAX_DAYS}", _day_range)
"""A [min, max] pair of whole days, drawn uniformly (inclusive) per patient."""


MAX_PRIOR_WEIGHT = 10_000
"""Largest Beta shape a prior may give: a prior worth more than 10000 patients outweighs any trial's data."""


def _beta_shapes(value: Any, path: str) -> tuple[float, float]:
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(_is_number(v) and 0 < v <= MAX_PRIOR_WEIGHT and math.isfinite(v) for v in value)
    )
    if not ok:
        raise beta_shapes.refuse(value, path)
    for v in value:
        problem = _too_close_to_zero(v, path, beta_shapes.allowed)
        if problem:
            raise problem
    return float(value[0]), float(value[1])


beta_shapes = Check(f"an [a, b] pair of Beta shapes, each in (0, {MAX_PRIOR_WEIGHT}]", _beta_shapes)
"""The shapes [a, b] of a Beta prior on a proportion."""


def list_of(item: Check, *, min_length: int = 0) -> Check:
    """A list whose entries each pass ``item``; paths name the entry index."""
    entries = "entry" if min_length == 1 else "entries"
    allowed = f"a list of at least {min_length} {entries}" if min_length else "a list"

    def convert(value: Any, path: str) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)) or len(value) < min_length:
            raise check.refuse(value, path)
        return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

    check = Check(allowed, convert, item=item)
    return check


def nested(cls: type[T]) -> Check:
    """A TOML table converted into the dataclass ``cls``."""

    def convert(value: Any, path: str) -> T:
        return convert_table(cls, value, path)

    return Check("a table", convert, table=cls)


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
