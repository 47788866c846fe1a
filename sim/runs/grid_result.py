"""A grid's results: each cell's operating characteristics, the grid's table, and an OC grid's null boundary.

An OC grid runs over the latent ORR (``efficacy.orr``), but the exact test sees the tested rate,
which dropout before confirmation puts lower (``docs/model.md``, "Estimand"). The cell at latent
ORR = p0 is therefore a point inside H0. :class:`NullBoundary` reads the grid where each cell's
tested rate ``t`` crosses p0: between neighbouring cells ``i`` and ``j`` with ``t_i <= p0 <= t_j``,
the weight ``w = (p0 - t_i) / (t_j - t_i)`` gives the latent ORR ``(1 - w) x_i + w x_j`` and the
type I error ``(1 - w) P_i + w P_j``. Its MCSE is ``(1 - w) m_i + w m_j + |s| ((1 - w) e_i + w e_j)``
with ``m`` the power MCSEs, ``e`` the tested-rate MCSEs and ``s = (P_j - P_i) / (t_j - t_i)``: the
second term carries the tested rates' error through ``w``. Common random numbers make neighbouring
cells' errors positively correlated, so the errors are added (the SD of a sum is at most the sum of
the SDs) rather than combined in quadrature. Linear interpolation does not see the curvature of
the power curve, which is convex near p0, so on a coarse grid it overstates the size (base
scenario: 0.034 between latent ORR 0.10 and 0.15, 0.026 between 0.10 and 0.11). The boundary
records how far interpolating on the log scale would move the figure; a gap above the MCSE flags
a grid too coarse to cite. A boundary outside the grid is reported as such, never extrapolated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.summary import OperatingCharacteristics
from ..stats.mcse import Estimate

__all__ = ["DECISION_FIGURES", "FIGURES", "SHARES", "GridCell", "GridResult", "NullBoundary", "OCGridResult"]

FIGURES = ("power", "early_stop", "interim_wait_days", "enrollment_complete", "n_enrolled", "decision_months")
"""The figures of a cell that a grid's table shows, each with its MCSE."""

DECISION_FIGURES = ("assurance", "positive_and_effective", "false_go", "false_stop")
"""The figures a cell with an ORR prior adds (:class:`sim.analysis.decisions.DecisionFigures`), each with its MCSE."""

SHARES = ("power", "early_stop", "enrollment_complete", *DECISION_FIGURES)
"""The figures that are shares of trials: each also has a ``_bound_95`` column, its exact one-sided 95% bound
where the share is 0 or 1 (its MCSE is then 0 and says nothing), else empty."""


@dataclass(frozen=True)
class GridCell:
    """A finished cell: its setting, its operating characteristics and (when kept) its replicate table."""

    setting: dict[str, str]
    summary: OperatingCharacteristics
    replicates: pd.DataFrame | None = None
    engine: str | None = None

    def row(self) -> dict[str, Any]:
        """The cell's row of the grid table: the setting, the replicate count (and engine), each figure and its MCSE."""
        row: dict[str, Any] = dict(self.setting)
        row["replicates"] = self.summary.replicates
        if self.engine is not None:
            row["engine"] = self.engine
        for name in FIGURES:
            estimate = getattr(self.summary, name)
            row.update(_columns(name, estimate))
        timing = self.summary.timing
        if self.summary.monitored and timing is not None:
            for name, estimate in timing.columns().items():
                row.update(_columns(name, estimate))
        decisions = self.summary.decisions
        if decisions.prior is not None:
            for name in DECISION_FIGURES:
                row.update(_columns(name, getattr(decisions, name)))
        return row


def _columns(name: str, estimate: Estimate | None) -> dict[str, float]:
    """A figure's grid columns: its value and MCSE, and for a share its one-sided bound (NaN where none)."""
    if estimate is None:
        estimate = Estimate(math.nan, math.nan, 0)
    out = {name: estimate.value, f"{name}_mcse": estimate.mcse}
    if name in SHARES:
        out[f"{name}_bound_95"] = math.nan if estimate.bound is None else estimate.bound
    return out


@dataclass(frozen=True)
class GridResult:
    """A finished grid: one :class:`GridCell` per combination of the axis values, in grid order.

    ``notes`` says what the grid did beyond simulating (cells resumed from checkpoints, damaged
    chunks recomputed), as a run's notes do.
    """

    cells: tuple[GridCell, ...]
    notes: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def replicates(self) -> int:
        """Replicates per cell (every cell runs the same number)."""
        return self.cells[0].summary.replicates if self.cells else 0

    def table(self) -> pd.DataFrame:
        """One tidy row per cell: the axis values (as given), the replicates, the engine, each figure and its MCSE."""
        return pd.DataFrame([cell.row() for cell in self.cells])


@dataclass(frozen=True)
class NullBoundary:
    """The edge of H0 as the test sees it: where a cell's tested rate equals p0, read off an OC grid.

    ``latent_orr`` and ``type_one_error`` are interpolated between the neighbouring cells at latent
    ORR ``between`` whose tested rates bracket p0 (module docstring). ``interpolation_gap`` is how far
    the linear figure is from interpolating the power on the log scale instead: neither sees the
    power curve's curvature between the cells, so a gap larger than the MCSE says the grid is too
    coarse near the boundary for the figure to be cited. When no two cells bracket p0, the figures
    are NaN and ``problem`` says which way the grid falls short.
    """

    p0: float
    latent_orr: Estimate
    type_one_error: Estimate
    between: tuple[float, float] = (math.nan, math.nan)
    interpolation_gap: float = math.nan
    problem: str | None = None

    @property
    def bracketed(self) -> bool:
        """Whether the grid's tested rates bracket p0, so that the boundary could be read."""
        return self.problem is None


def _log_interpolation(low: float, high: float, w: float) -> float:
    """``low`` to ``high`` at weight ``w`` on the log scale (0 when either is 0)."""
    return math.exp((1 - w) * math.log(low) + w * math.log(high)) if low > 0 and high > 0 else 0.0


def _boundary(
    p0: float, latent: Sequence[float], tested: Sequence[Estimate], power: Sequence[Estimate]
) -> NullBoundary:
    """The boundary from cells in increasing latent ORR: interpolated where the tested rate crosses p0."""
    for i in range(len(latent) - 1):
        low, high = tested[i], tested[i + 1]
        if not low.value <= p0 <= high.value:
            continue
        span = high.value - low.value
        w = (p0 - low.value) / span if span > 0 else 0.0
        below, above = power[i], power[i + 1]
        tested_error = (1 - w) * low.mcse + w * high.mcse
        power_slope = (above.value - below.value) / span if span > 0 else 0.0
        latent_slope = (latent[i + 1] - latent[i]) / span if span > 0 else 0.0
        size = (1 - w) * below.value + w * above.value
        n = min(below.n, above.n)
        return NullBoundary(
            p0,
            Estimate((1 - w) * latent[i] + w * latent[i + 1], abs(latent_slope) * tested_error, n),
            Estimate(size, (1 - w) * below.mcse + w * above.mcse + abs(power_slope) * tested_error, n),
            between=(latent[i], latent[i + 1]),
            interpolation_gap=abs(size - _log_interpolation(below.value, above.value, w)),
        )
    missing = Estimate(math.nan, math.nan, 0)
    values = np.array([t.value for t in tested], dtype=float)
    if not np.isfinite(values).any():
        return NullBoundary(p0, missing, missing, problem="no cell has a tested rate")
    if np.nanmin(values) > p0:
        i, side, extreme, wanted = int(np.nanargmin(values)), "above", "lowest", "lower"
    elif np.nanmax(values) < p0:
        i, side, extreme, wanted = int(np.nanargmax(values)), "below", "highest", "higher"
    else:
        return NullBoundary(p0, missing, missing, problem="no two neighbouring cells' tested rates bracket p0")
    problem = (
        f"every cell's tested rate is {side} p0 = {p0:g} (the {extreme} is {values[i]:.4f}, "
        f"at latent ORR {latent[i]:g}); the grid needs {wanted} latent ORR values to reach the boundary"
    )
    return NullBoundary(p0, missing, missing, problem=problem)


@dataclass(frozen=True)
class OCGridResult(GridResult):
    """Operating characteristics over the latent ORR; type I error at latent ORR = p0 and at the boundary."""

    p0: float

    def is_null(self, cell: GridCell) -> bool:
        """Whether the cell's latent ORR is p0 (its power is the type I error at latent ORR = p0)."""
        return bool(np.isclose(float(cell.setting["efficacy.orr"]), self.p0))

    @property
    def null_cell(self) -> GridCell:
        """The cell at p0."""
        return next(cell for cell in self.cells if self.is_null(cell))

    @property
    def boundary(self) -> NullBoundary:
        """The latent ORR whose tested rate is p0, and the type I error there (its size at the edge of H0)."""
        cells = sorted(self.cells, key=lambda cell: float(cell.setting["efficacy.orr"]))
        return _boundary(
            self.p0,
            [float(cell.setting["efficacy.orr"]) for cell in cells],
            [cell.summary.tested_rate for cell in cells],
            [cell.summary.power for cell in cells],
        )

    def table(self) -> pd.DataFrame:
        """The grid table with the latent ORR as a number, ``is_null`` marking the row at p0, and each tested rate."""
        table = super().table()
        table["efficacy.orr"] = table["efficacy.orr"].astype(float)
        table.insert(1, "is_null", np.isclose(table["efficacy.orr"], self.p0))
        table["tested_rate"] = [cell.summary.tested_rate.value for cell in self.cells]
        table["tested_rate_mcse"] = [cell.summary.tested_rate.mcse for cell in self.cells]
        return table
