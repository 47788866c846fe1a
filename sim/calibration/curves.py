"""A digitised Kaplan-Meier curve read as landmark targets: one rate per point, fitted like ``--pfs-at``.

A published curve constrains the whole shape where a median and a rate or two pin single points.
The file is a CSV with columns ``months`` and ``survival`` (a proportion), one row per point read
off the curve, times strictly increasing and survival never rising, as a KM curve is.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .errors import CalibrationError
from .targets import Landmark

__all__ = ["CURVE_COLUMNS", "read_km_curve"]

CURVE_COLUMNS = ("months", "survival")
"""The columns a digitised curve file must have."""


def read_km_curve(path: Path) -> tuple[Landmark, ...]:
    """The points of the digitised curve in ``path``, as landmarks; a problem names the file, the row and the column."""
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"cannot read the curve file {path}: {exc}") from None
    missing = [c for c in CURVE_COLUMNS if c not in table.columns]
    if missing:
        raise CalibrationError(
            f"the curve file {path} needs the columns {', '.join(CURVE_COLUMNS)}; missing {', '.join(missing)}"
        )
    if table.empty:
        raise CalibrationError(f"the curve file {path} has no rows")
    points: list[Landmark] = []
    for row, (months, survival) in enumerate(zip(table["months"], table["survival"]), start=2):  # row 1: header
        where = f"the curve file {path}, row {row}"
        months, survival = _number(months, f"{where}, column months"), _number(survival, f"{where}, column survival")
        if months <= 0 or not 0 < survival < 1:
            raise CalibrationError(f"{where}: months must be > 0 and survival in (0, 1), got {months:g}, {survival:g}")
        if points and months <= points[-1].months:
            raise CalibrationError(
                f"{where}: months must increase from row to row, got {months:g} after {points[-1].months:g}"
            )
        if points and survival > points[-1].rate:
            raise CalibrationError(
                f"{where}: a Kaplan-Meier curve never rises, got survival {survival:g} after {points[-1].rate:g}"
            )
        points.append(Landmark(months, survival))
    return tuple(points)


def _number(value: object, where: str) -> float:
    """``value`` as a finite float, or an error naming where it stood."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise CalibrationError(f"{where}: expected a number, got {value!r}")
    return number
