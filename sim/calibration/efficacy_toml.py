"""The calibrated ``[efficacy]`` block as TOML text that drops into a scenario file, or put into a copy of one."""

from __future__ import annotations

import json
import math
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from .errors import CalibrationError
from .fit import CalibrationResult

__all__ = ["efficacy_toml", "scenario_with_efficacy"]


def _value(value: Any) -> str:
    """A TOML literal for a number, string, boolean or list of numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _table(name: str, entries: dict[str, Any]) -> list[str]:
    return [f"[{name}]"] + [f"{key} = {_value(value)}" for key, value in entries.items()] + [""]


def _number(value: float, decimals: int = 4) -> str:
    """A number to ``decimals`` places, or n/a."""
    return f"{value:.{decimals}f}" if math.isfinite(value) else "n/a"


def _header(result: CalibrationResult, command: str, use: str = "Paste into a scenario.") -> list[str]:
    """Comment lines: the command, the source design, every target next to its achieved value and MCSE,
    the implied values, the warnings and the notes."""
    t = result.targets
    lines = [
        f"# Calibrated efficacy block (trialsim calibrate; see docs/calibration.md). {use}",
        f"# command: {command}",
        f"# source design: scans every {result.scan_interval_days} days (+/- {result.scan_window_days}) "
        f"from first dose, {'confirmed' if t.confirmed else 'unconfirmed'} responses"
        + (f", n = {t.source_n}" if t.source_n else ", large study")
        + f"; cohort {result.cohort_size} patients, seed {result.seed}",
        "# target -> achieved +/- MCSE:",
    ]
    lines += [
        f"#   {f.name:<18} {f.target:<6g} -> {_number(f.achieved):<8} +/- {_number(f.mcse):<7} "
        f"miss {round(f.miss, 4) + 0.0:+.4f}  ({f.statistic})"
        for f in result.fits
    ]
    if result.implied:
        lines.append("# implied, not targets: value +/- MCSE")
        lines += [
            f"#   {i.name:<29} {_number(i.value):<8} +/- {_number(i.mcse):<7} ({i.statistic})" for i in result.implied
        ]
    lines += [f"# warning: {warning}" for warning in result.warnings]
    lines += [f"# note: {note}" for note in result.notes]
    return lines


def _tables(result: CalibrationResult) -> list[str]:
    """The ``[efficacy]`` table and its distribution tables, as lines."""
    params = result.parameters()
    scalars = {k: v for k, v in params.items() if not isinstance(v, dict)}
    lines = _table("efficacy", scalars)
    for key in ("pfs", "time_to_response", "post_progression_survival"):
        if key in params:
            lines += _table(f"efficacy.{key}", params[key])
    return lines


def efficacy_toml(result: CalibrationResult, command: str) -> str:
    """The ``[efficacy]`` tables of ``result``, headed by comments recording ``command`` and the fit."""
    lines = _header(result, command) + [""] + _tables(result)
    return "\n".join(lines).rstrip("\n") + "\n"


def scenario_with_efficacy(scenario_text: str, result: CalibrationResult, command: str) -> str:
    """A copy of a scenario file's text whose ``[efficacy]`` tables are the fitted ones.

    Everything else is kept as written, comments (the sources of the numbers) included; the old
    efficacy tables and their comments go, and the fit's comment header opens the new
    ``[efficacy]`` table. Raises CalibrationError when the text is not TOML.
    """
    try:
        document = tomlkit.parse(scenario_text)
    except TOMLKitError as exc:
        raise CalibrationError(f"the scenario to write into is not valid TOML: {exc}") from None
    first, *rest = _tables(result)
    header = _header(result, command, "Written into a copy of the scenario.")
    fitted = tomlkit.parse("\n".join([first, *header, *rest]))
    document["efficacy"] = fitted["efficacy"]
    return tomlkit.dumps(document)
