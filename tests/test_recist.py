"""The RECIST 1.1 rules of :mod:`sim.model.recist`, pinned on hand-built scans (days from first dose)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest

from sim.model.recist import (
    RESPONSE_NAMES,
    Response,
    best_overall_response,
    confirmation_day,
    confirmation_lag_scans,
    disease_controlled,
    earliest_sure_confirmation_day,
    responded,
)
from tests.helpers import BASE_SCHEDULE

CR, PR, SD, PD, NE, NO_SCAN = Response.CR, Response.PR, Response.SD, Response.PD, Response.NE, Response.NO_SCAN

SCHEDULE = BASE_SCHEDULE


def _scans(*rows: list[tuple[float, Response]]) -> tuple[np.ndarray, np.ndarray]:
    """Scan days and readings, one row per patient (rows padded with NO_SCAN)."""
    width = max(len(r) for r in rows)
    day = np.full((len(rows), width), 9999.0)
    status = np.full((len(rows), width), NO_SCAN, dtype=np.int8)
    for i, row in enumerate(rows):
        for k, (d, s) in enumerate(row):
            day[i, k], status[i, k] = d, s
    return day, status


def test_codes_and_names_agree() -> None:
    assert [RESPONSE_NAMES[r] for r in Response] == ["", "CR", "PR", "SD", "PD", "NE"]


def test_confirmation_exactly_at_the_minimum_gap_counts_and_a_day_less_does_not() -> None:
    day, status = _scans(
        [(42, PR), (70, PR)],            # 28 days apart: confirmed on day 70
        [(42, PR), (69, PR)],            # 27 days apart: never confirmed
        [(42, PR), (60, PR), (84, CR)],  # the second scan is too early; the third confirms
        [(42, SD), (70, PR), (98, PR)],  # counted from the first *responding* scan
        [(42, PR), (70, SD)],            # a non-responding scan confirms nothing
    )
    np.testing.assert_array_equal(confirmation_day(day, status, True, 28), [70, np.inf, 84, 98, np.inf])


def test_without_confirmation_the_first_responding_scan_counts() -> None:
    day, status = _scans([(42, PR), (69, PR)], [(42, SD), (84, CR)], [(42, SD), (84, PD)])
    np.testing.assert_array_equal(confirmation_day(day, status, False, 28), [42, 84, np.inf])


def test_stable_disease_exactly_at_sd_min_days_counts_and_a_day_less_does_not() -> None:
    day, status = _scans([(35, SD)], [(34, SD)], [(34, SD), (80, PD)], [(35, PD)])
    bor = best_overall_response(day, status, np.zeros(4, bool), 35)
    np.testing.assert_array_equal(bor, [SD, NE, PD, PD])


def test_best_overall_response() -> None:
    day, status = _scans(
        [(42, PR), (84, PR)],            # confirmed PR
        [(42, PR), (84, CR)],            # confirmed, a CR read at one scan: CR
        [(42, PR), (84, PD)],            # unconfirmed response, at or after sd_min_days: SD
        [(30, PR), (84, PD)],            # unconfirmed response before sd_min_days, then PD: PD
        [(30, PR)],                      # unconfirmed response before sd_min_days, no PD: NE
        [],                              # no scan at all: NE
    )
    confirmed = np.array([True, True, False, False, False, False])
    bor = best_overall_response(day, status, confirmed, 35)
    np.testing.assert_array_equal(bor, [PR, CR, SD, PD, NE, NE])
    assert bor.dtype == np.int8


def test_orr_and_dcr_numerators() -> None:
    bor = np.array([CR, PR, SD, PD, NE], dtype=np.int8)
    np.testing.assert_array_equal(responded(bor), [True, True, False, False, False])
    np.testing.assert_array_equal(disease_controlled(bor), [True, True, True, False, False])


def test_sure_confirmation_day_by_hand() -> None:
    # lag = ceil((28 + 2*7) / 42) = 1 scan; L = (1 + 1) * 42 + 7 = 91.
    assert confirmation_lag_scans(SCHEDULE) == 1
    assert earliest_sure_confirmation_day(SCHEDULE) == 91.0
    # One more day of gap needs one more scan: ceil(43 / 42) = 2; L = 3 * 42 + 7 = 133.
    longer = replace(SCHEDULE, confirmation_min_days=29)
    assert confirmation_lag_scans(longer) == 2
    assert earliest_sure_confirmation_day(longer) == 133.0
    # Confirmation always needs a later scan, even with no gap and no window.
    assert confirmation_lag_scans(replace(SCHEDULE, confirmation_min_days=0, scan_window_days=0)) == 1
    # Without confirmation the first scan decides, at worst at the end of its window.
    unconfirmed = replace(SCHEDULE, confirmation_required=False)
    assert confirmation_lag_scans(unconfirmed) == 0
    assert earliest_sure_confirmation_day(unconfirmed) == 49.0


@pytest.mark.parametrize(
    ("interval", "window", "min_days"),
    [(42, 7, 28), (21, 7, 28), (56, 7, 28), (42, 0, 42), (28, 3, 28)],
)
def test_sure_confirmation_day_is_the_latest_over_every_scan_offset(interval: int, window: int, min_days: int) -> None:
    """A response present from the first scan is confirmed by L for every offset, and on L for the worst."""
    schedule = replace(SCHEDULE, scan_interval_days=interval, scan_window_days=window, confirmation_min_days=min_days)
    scans = confirmation_lag_scans(schedule) + 1
    offsets = np.array(list(itertools.product(range(-window, window + 1), repeat=scans)), dtype=float)
    day = np.arange(1, scans + 1) * float(interval) + offsets
    status = np.full(day.shape, PR, dtype=np.int8)
    confirmed = confirmation_day(day, status, True, min_days)
    assert confirmed.max() == earliest_sure_confirmation_day(schedule)


