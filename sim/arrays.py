"""How the per-patient matrices (patients x cycles, patients x scans) are stored and selected from.

* Column-major (:func:`by_column`): a patient has a few dozen cycles or scans, so numpy reduces a
  row-major row (min, any, sum over scans) one short row at a time; column by column, the same
  reduction runs as a few dozen whole-column operations, several times faster.
  :func:`take_rows` keeps that layout; :func:`preceding_sums` and :func:`first_true` are
  a running sum and ``argmax`` along rows for it.
* :func:`or_inf` and :func:`or_zero` are ``np.where(keep, values, inf or 0)`` as plain arithmetic:
  ``np.where`` runs a generic element loop, and over a chunk's matrices it was the largest single
  cost of planning and observing journeys. They give the same numbers for the values these
  matrices hold: days and codes, never negative or NaN (``or_zero``: never infinite).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

__all__ = ["Item", "by_column", "preceding_sums", "first_true", "or_inf", "or_zero", "take_rows"]

LOOP_FROM = 512
"""Rows from which :func:`preceding_sums` and :func:`first_true` loop over columns; below it a
Python loop costs more than numpy's row-by-row call, and they use the plain numpy forms."""

Item = TypeVar("Item", bound=np.generic)
Number = TypeVar("Number", bound=np.number)


def by_column(values: NDArray[Item]) -> NDArray[Item]:
    """``values`` (one row per patient) stored column by column; every value unchanged."""
    return np.asfortranarray(values)


def take_rows(values: NDArray[Item], index: NDArray[np.intp] | slice) -> NDArray[Item]:
    """The rows of ``values`` at ``index`` (positions); a matrix comes back column-major, or as a view for a slice."""
    if values.ndim == 1 or isinstance(index, slice):
        return values[index]
    return np.take(values.T, index, axis=1).T


def preceding_sums(values: NDArray[np.int64], step: int = 0) -> NDArray[np.float64]:
    """Each entry's sum of ``step + value`` over the columns before it in its row (0 in the first), as floats.

    Column-major and column by column, without numpy's row-at-a-time loop; the sums are of whole
    numbers, so they equal ``np.cumsum(step + values, axis=1, dtype=float)`` shifted one column right.
    """
    out = np.zeros(values.shape, order="F")
    if values.shape[0] < LOOP_FROM:
        out[:, 1:] = np.cumsum(step + values[:, :-1], axis=1, dtype=float)
        return out
    running = np.zeros(values.shape[0])
    for column in range(values.shape[1] - 1):
        running = running + (step + values[:, column])
        out[:, column + 1] = running
    return out


def first_true(mask: NDArray[np.bool_]) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """Whether each row of ``mask`` has a True, and the column of its first one (0 when none).

    ``mask.argmax(axis=1)`` walks a column-major matrix row by row; from :data:`LOOP_FROM` rows,
    weighting column ``c`` by ``columns - c`` and taking the row maximum finds the same column in
    whole-column operations (below, it is ``any`` and ``argmax``).
    """
    columns = mask.shape[1]
    if mask.shape[0] < LOOP_FROM or columns == 0:
        first = np.asarray(mask.argmax(axis=1)) if columns else np.zeros(mask.shape[0], np.intp)
        return np.asarray(mask.any(axis=1)), first
    weights = np.arange(columns, 0, -1, dtype=np.min_scalar_type(columns))
    top = (mask * weights).max(axis=1, initial=0).astype(np.intp)
    found = top > 0
    return found, np.where(found, columns - top, 0)


def or_inf(values: NDArray[np.float64], keep: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``np.where(keep, values, inf)`` for non-negative ``values`` (days), +inf included."""
    with np.errstate(divide="ignore"):
        return values + (np.reciprocal(keep, dtype=float) - 1.0)  # 1/1 - 1 = 0; 1/0 - 1 = inf


def or_zero(values: NDArray[Number], keep: NDArray[np.bool_]) -> NDArray[Number]:
    """``np.where(keep, values, 0)`` for finite non-negative ``values`` (days, codes), in their dtype."""
    return values * keep
