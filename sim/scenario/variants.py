"""A scenario back as the tables a file spells, and variants of it made in memory.

:func:`resolved_scenario` turns a validated scenario into plain data (every field, defaults
included); :func:`vary` changes fields of a scenario by their dotted paths and validates the
result with every check a file gets, so a library user builds variants and grids without writing
files or dotted strings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..distributions import SurvivalDistribution
from .load import ScenarioError, parse_scenario, set_field
from .model import Scenario

__all__ = ["drop_absent", "resolved_scenario", "vary"]


def _plain(value: Any, iso_dates: bool) -> Any:
    """A scenario value as plain data: tables as dicts, tuples as lists, distributions as their parameters."""
    if isinstance(value, SurvivalDistribution):  # a dataclass too, but spelled by its parameters
        return {k: _plain(v, iso_dates) for k, v in value.parameters().items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), iso_dates) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, (list, tuple)):
        return [_plain(v, iso_dates) for v in value]
    if isinstance(value, dt.date) and iso_dates:
        return value.isoformat()
    return value


def drop_absent(value: Any) -> Any:
    """A resolved scenario as a file would spell it: absent optional fields and empty lists left out."""
    if isinstance(value, dict):
        return {k: drop_absent(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [drop_absent(v) for v in value]
    return value


def resolved_scenario(scenario: Scenario, *, iso_dates: bool = False) -> dict[str, Any]:
    """Every field of ``scenario`` after overrides and defaults, as a scenario file spells it.

    Tables are dicts, lists are lists, a distribution is its parameter table; a field left out of
    the file shows its default, an absent optional one is None. ``iso_dates`` writes dates as ISO
    strings (for JSON); otherwise they stay ``datetime.date``.
    """
    plain = _plain(scenario, iso_dates)
    assert isinstance(plain, dict)
    return plain


def vary(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each dotted path of ``changes`` set to its value, checked as a file is.

    Values are Python values as a scenario file would hold them (numbers, strings, dates, lists,
    tables as dicts): ``vary(s, {"trial.sample_size": 40, "monitoring.rule": "simon", ...})``.
    Every field and cross-field check runs on the result; a :class:`ScenarioError` names each
    field that fails.
    """
    raw = drop_absent(resolved_scenario(scenario))
    for path, value in changes.items():
        if not isinstance(path, str):
            raise ScenarioError(f"vary takes dotted field paths such as 'trial.sample_size', got {path!r}")
        set_field(raw, path, value, "vary")
    return parse_scenario(raw)
