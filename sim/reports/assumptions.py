"""Every scenario value with its source, read from the scenario files' own comments.

The shipped scenarios give the source of each number as a TOML comment on its line; tomlkit
keeps comments, so the report shows them next to the values. Values are the ones the run used:
the file's, or an override's (``--set``), which then says so in place of the file's source.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
import tomlkit
from tomlkit.items import AoT, Table

from ..runs.folder import SavedRun
from ..scenario import apply_overrides

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["assumption_table", "scenario_sources", "scenario_values"]


def _children(container: Any) -> Iterator[tuple[str, Any]]:
    """(key, item) pairs of a tomlkit document or table, without comments and blank lines."""
    body = container.value.body if isinstance(container, Table) else container.body
    for key, item in body:
        if key is not None:
            yield str(key.key), item


def scenario_sources(text: str) -> dict[str, str]:
    """The comment on each value's line, by dotted path (``recruitment.sites[0].name``)."""
    found: dict[str, str] = {}

    def walk(container: Any, prefix: str) -> None:
        for key, item in _children(container):
            path = f"{prefix}{key}"
            if isinstance(item, Table):
                walk(item, f"{path}.")
            elif isinstance(item, AoT):
                for i, table in enumerate(item.body):
                    walk(table, f"{path}[{i}].")
            else:
                found[path] = item.trivia.comment.lstrip("#").strip()

    walk(tomlkit.parse(text), "")
    return found


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, inner in enumerate(value):
            _flatten(inner, f"{prefix}[{i}]", out)
    else:
        out[prefix] = _show(value)


def _show(value: Any) -> str:
    """A value as the scenario file would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, str)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _override_path(override: str) -> str:
    """``sites.0.name=...`` as the dotted path this module uses (``sites[0].name``)."""
    path = override.split("=", 1)[0].strip()
    return ".".join(f"[{part}]" if part.isdigit() else part for part in path.split(".")).replace(".[", "[")


def scenario_values(run: SavedRun) -> dict[str, tuple[str, str]]:
    """(value, source) of every field the run used, by dotted path."""
    raw = apply_overrides(tomllib.loads(run.scenario_text), run.overrides)
    values: dict[str, str] = {}
    _flatten(raw, "", values)
    sources = scenario_sources(run.scenario_text)
    overridden = {_override_path(o): o for o in run.overrides}
    out = {}
    for path, value in values.items():
        hit = next(
            (o for p, o in overridden.items() if path == p or path.startswith(p + ".") or path.startswith(p + "[")),
            None,
        )
        out[path] = (value, f"set for this run: --set {hit}" if hit else sources.get(path, ""))
    return out


def assumption_table(runs: Sequence[SavedRun]) -> pd.DataFrame:
    """One row per field: its value and source in each scenario, and whether the scenarios differ."""
    per_run = [scenario_values(run) for run in runs]
    paths = list(dict.fromkeys(path for values in per_run for path in values))
    rows = []
    for path in paths:
        row: dict[str, Any] = {"field": path}
        for run, values in zip(runs, per_run):
            value, source = values.get(path, ("", ""))
            row[f"{run.name} value"] = value
            row[f"{run.name} source"] = source
        row["differs"] = len({values.get(path, ("",))[0] for values in per_run}) > 1
        rows.append(row)
    return pd.DataFrame(rows)
