"""The response rules, RECIST 1.1 as the protocol applies them, in one place.

* Every scan reads CR, PR, SD or PD (:class:`Response`); a patient with no adequate scan is NE.
* A response (CR or PR) counts only once confirmed: when ``schedule.confirmation_required``, by
  a later responding scan at least ``confirmation_min_days`` after the first one; otherwise at
  the first responding scan.
* Best overall response: a confirmed response is CR if any scan read CR, else PR; otherwise SD
  if a non-PD scan fell at least ``sd_min_days`` after first dose; otherwise PD if progression
  was seen; otherwise NE. An unconfirmed response therefore counts as SD (or PD, or NE).
* ORR's numerator is confirmed CR or PR; DCR's is CR, PR or SD. The unconfirmed ORR, which some
  publications report, counts any patient with a responding scan.
* A response seen at the first scan is surely confirmed, whatever the scan windows, by
  :func:`earliest_sure_confirmation_day`. When an interim look judges a patient is the look's
  trigger (:mod:`sim.model.monitoring`).

Days count from first dose; arrays have one row per patient and one column per scheduled scan.
"""

from __future__ import annotations

import math
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from ..arrays import or_inf, take_rows
from ..scenario.model import Schedule

__all__ = [
    "Response",
    "RESPONSE_NAMES",
    "best_overall_response",
    "confirmation_day",
    "confirmation_lag_scans",
    "disease_controlled",
    "earliest_sure_confirmation_day",
    "responded",
    "responding_scan",
]


class Response(IntEnum):
    """A scan's reading or a best overall response, stored as int8 codes in the arrays."""

    NO_SCAN = 0
    CR = 1
    PR = 2
    SD = 3
    PD = 4
    NE = 5


RESPONSE_NAMES: tuple[str, ...] = tuple("" if code is Response.NO_SCAN else code.name for code in Response)
"""Names indexed by code, as the patient table writes them ("" for no scan)."""


def confirmation_day(
    scan_day: NDArray[np.float64], status: NDArray[np.integer], required: bool, min_days: float
) -> NDArray[np.float64]:
    """Day of the scan that confirms a response (the first responding scan when none is required).

    A confirmation is a *later* responding scan, also when ``min_days`` is 0: a single responding
    scan never confirms itself.
    """
    responding = responding_scan(status)
    out = np.full(status.shape[0], np.inf)
    rows = np.flatnonzero(responding.any(axis=1))  # nobody else has a response to confirm
    days, responding = take_rows(scan_day, rows), take_rows(responding, rows)
    first = or_inf(days, responding).min(axis=1, initial=np.inf)
    if not required:
        out[rows] = first
        return out
    later = days > first[:, None]
    confirming = responding & (days - first[:, None] >= min_days)
    out[rows] = or_inf(days, confirming & later).min(axis=1, initial=np.inf)
    return out


def best_overall_response(
    scan_day: NDArray[np.float64], status: NDArray[np.int8], confirmed: NDArray[np.bool_], sd_days: float
) -> NDArray[np.int8]:
    """Best overall response from the scans in ``status`` (NO_SCAN where a scan is not known).

    ``confirmed`` marks the patients whose confirming scan is known.
    """
    complete = (status == Response.CR).any(axis=1)
    stable = ((status != Response.NO_SCAN) & (status != Response.PD) & (scan_day >= sd_days)).any(axis=1)
    progressed = (status == Response.PD).any(axis=1)
    bor = np.full(status.shape[0], Response.NE, dtype=np.int8)
    bor[progressed] = Response.PD
    bor[stable] = Response.SD
    bor[confirmed] = np.where(complete[confirmed], Response.CR, Response.PR)
    return bor


def responding_scan(status: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Scans that read CR or PR, confirmed or not: the unconfirmed ORR counts any patient with one."""
    return (status == Response.CR) | (status == Response.PR)


def responded(bor: NDArray[np.int8]) -> NDArray[np.bool_]:
    """Confirmed CR or PR: the ORR numerator."""
    return (bor == Response.CR) | (bor == Response.PR)


def disease_controlled(bor: NDArray[np.int8]) -> NDArray[np.bool_]:
    """CR, PR or SD: the DCR numerator."""
    return responded(bor) | (bor == Response.SD)


def confirmation_lag_scans(schedule: Schedule) -> int:
    """Scans after the first responding one by which confirmation is sure, whatever the windows."""
    if not schedule.confirmation_required:
        return 0
    gap = schedule.confirmation_min_days + 2 * schedule.scan_window_days
    return max(1, math.ceil(gap / schedule.scan_interval_days))


def earliest_sure_confirmation_day(schedule: Schedule) -> float:
    """Latest day on which a response present at the first scan is confirmed, for any scan offsets.

    A responder's PFS must exceed this; ``efficacy.orr`` cannot exceed the share still
    progression-free then.
    """
    lag = confirmation_lag_scans(schedule)
    return float((1 + lag) * schedule.scan_interval_days + schedule.scan_window_days)
