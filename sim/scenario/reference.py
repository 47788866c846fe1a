"""The scenario-field table of ``docs/reference.md``, generated from the declared checks.

Each row is a field's dotted path, its meaning (the field's ``doc``) and what it allows: the
check's ``allowed`` words, the same ones its error messages use, and the dataclass default. The
table is written from here and ``tests/test_docs.py`` requires the reference to contain it, so
the documented bounds cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Any, NamedTuple

from .checks import Check
from .model import Scenario

__all__ = ["ReferenceRow", "allowed_text", "reference_rows", "reference_table"]


class ReferenceRow(NamedTuple):
    """One line of the scenario-field table."""

    fields: tuple[str, ...]
    meaning: str
    allowed: str


def _toml(value: Any) -> str:
    """A default as a scenario file would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)  # a TOML literal string, quoted as the choice lists it
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def allowed_text(fld: dataclasses.Field) -> str:
    """What a scenario field allows, as the reference states it: its check's words, then its default.

    An optional field says ``(default ...)``, or ``(optional)`` when leaving it out means "none".
    """
    allowed: str = fld.metadata["check"].allowed
    if fld.default_factory is not dataclasses.MISSING:
        default: Any = fld.default_factory()
    elif fld.default is not dataclasses.MISSING:
        default = fld.default
    else:
        return allowed
    if default is None or default == "" or dataclasses.is_dataclass(default):
        return f"{allowed} (optional)"
    if default == ():
        return f"{allowed} (default none)"
    return f"{allowed} (default {_toml(default)})"


def _wildcard(names: list[str]) -> str:
    """One path segment naming several fields with a common stem: primary_cutoff, final_cutoff -> *_cutoff."""
    if len(names) == 1:
        return names[0]
    prefix = os.path.commonprefix(names)
    suffix = os.path.commonprefix([n[len(prefix) :][::-1] for n in names])[::-1]
    return f"{prefix}*{suffix}"


def _rows(cls: type, prefix: str, section: bool) -> list[ReferenceRow]:
    """Rows of ``cls``'s fields under ``prefix``; fields alike in check, default and meaning share a row."""
    groups: list[list[dataclasses.Field]] = []
    for fld in (f for f in dataclasses.fields(cls) if f.init):
        previous = groups[-1][0] if groups else None
        if previous is not None and not section and _key(previous) == _key(fld):
            groups[-1].append(fld)
        else:
            groups.append([fld])
    rows: list[ReferenceRow] = []
    for group in groups:
        check: Check = group[0].metadata["check"]
        names = [fld.name for fld in group]
        if not section:
            paths = tuple(prefix + n for n in names)
            rows.append(ReferenceRow(paths, group[0].metadata["doc"], allowed_text(group[0])))
        rows += _children(check, prefix + _wildcard(names))
    return rows


def _children(check: Check, path: str) -> list[ReferenceRow]:
    """Rows for what a table or a list holds: its fields, or its entries as ``path[i]``."""
    if check.table is not None:
        return _rows(check.table, f"{path}.", section=False)
    if check.item is None:
        return []
    item = check.item
    if item.table is not None:
        return _rows(item.table, f"{path}[i].", section=False)
    return [ReferenceRow((f"{path}[i]",), "an entry of the list", item.allowed), *_children(item, f"{path}[i]")]


def _key(fld: dataclasses.Field) -> tuple[str, str]:
    return allowed_text(fld), fld.metadata["doc"]


def reference_rows() -> list[ReferenceRow]:
    """Every scenario field, section by section (the sections themselves get no row)."""
    return _rows(Scenario, "", section=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def reference_table() -> str:
    """The Markdown table of scenario fields that ``docs/reference.md`` shows."""
    lines = ["| field | meaning | allowed |", "|---|---|---|"]
    for row in reference_rows():
        fields = ", ".join(f"`{name}`" for name in row.fields)
        lines.append(f"| {fields} | {_cell(row.meaning)} | {_cell(row.allowed)} |")
    return "\n".join(lines)
