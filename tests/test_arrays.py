"""The fast matrix helpers give exactly what the plain numpy forms give, and the patient model's draws do not move."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sim.arrays import LOOP_FROM, by_column, first_true, or_inf, or_zero, preceding_sums, take_rows
from sim.model.patient_model import PatientModel
from sim.model.trial_model import TrialModel


def _matrices(seed: int, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Days with infinities and zeros in them, and a sparse mask, in both memory layouts."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 400, (rows, columns)).astype(float)
    values[rng.random((rows, columns)) < 0.1] = np.inf
    values[:, :1] = 0.0
    return values, rng.random((rows, columns)) < 0.15


@pytest.mark.parametrize("layout", [np.ascontiguousarray, by_column])
@pytest.mark.parametrize("shape", [(300, 28), (7, 1), (5, 0), (0, 4), (40, 300), (600, 28), (LOOP_FROM, 1), (600, 0)])
def test_helpers_equal_the_numpy_forms(layout, shape: tuple[int, int]) -> None:
    values, keep = (layout(a) for a in _matrices(sum(shape), *shape))
    np.testing.assert_array_equal(or_inf(values, keep), np.where(keep, values, np.inf))
    finite = np.where(np.isinf(values), 3.0, values)
    np.testing.assert_array_equal(or_zero(finite, keep), np.where(keep, finite, 0.0))
    codes = layout((finite % 5).astype(np.int8))
    assert or_zero(codes, keep).dtype == np.int8
    np.testing.assert_array_equal(or_zero(codes, keep), np.where(keep, codes, 0))
    found, column = first_true(keep)
    np.testing.assert_array_equal(found, keep.any(axis=1))
    np.testing.assert_array_equal(column, keep.argmax(axis=1) if shape[1] else np.zeros(shape[0], np.intp))
    gaps = layout(finite.astype(np.int64))
    ends = np.cumsum(21 + gaps, axis=1, dtype=float)
    np.testing.assert_array_equal(preceding_sums(gaps, 21), np.hstack([np.zeros((shape[0], min(shape[1], 1))), ends[:, :-1]]))
    index = np.random.default_rng(1).permutation(shape[0])
    np.testing.assert_array_equal(take_rows(values, index), values[index])
    assert take_rows(values, index).flags["F_CONTIGUOUS"]
    np.testing.assert_array_equal(take_rows(values, slice(1, None)), values[1:])


def test_first_true_finds_columns_beyond_a_byte() -> None:
    mask = np.zeros((LOOP_FROM, 700), dtype=bool)
    mask[0, 699], mask[1, 256], mask[1, 600] = True, True, True
    found, column = first_true(by_column(mask))
    assert found[:3].tolist() == [True, True, False] and not found[3:].any()
    assert column[:3].tolist() == [699, 256, 0]


@pytest.mark.parametrize("generator", [np.random.PCG64, np.random.Philox], ids=["PCG64", "Philox"])
def test_skipping_never_missed_scans_leaves_every_draw_as_drawing_them_would(
    scenario_with, monkeypatch, generator
) -> None:
    """With missed_scan_probability 0 a PCG64 stream is advanced instead of drawn (Philox, whose
    advance counts blocks, draws): either way the same draws follow."""
    scenario = scenario_with("efficacy.unconfirmed_response_share=0.3", "safety.new_therapy_probability=0.5")
    model = TrialModel.from_scenario(scenario).patients
    assert model.schedule.missed_scan_probability == 0
    skipped = model.draw(np.random.Generator(generator(7)), 500)
    monkeypatch.setattr(PatientModel, "_missed_scans", lambda self, rng, n: rng.random((n, self.max_scans)) < 0.0)
    drawn = model.draw(np.random.Generator(generator(7)), 500)
    for field in dataclasses.fields(drawn):
        np.testing.assert_array_equal(getattr(skipped, field.name), getattr(drawn, field.name), err_msg=field.name)
    assert skipped.transient_response.any() and np.isfinite(skipped.new_therapy_delay_days).any()
