"""Grids: every cell is built (scenario and trial model) before any run; results keep each cell's figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest

import sim.sweep as sweep
from sim.cli import main
from sim.stats.mcse import Estimate
from sim.summary import OperatingCharacteristics
from sim.sweep import CellError, GridCell, GridResult, OCGridResult, build_cells, oc_grid, run_grid
from sim.trial_model import TrialModel

FIGURE_COLUMNS = [
    "power",
    "power_mcse",
    "early_stop",
    "early_stop_mcse",
    "enrollment_complete",
    "enrollment_complete_mcse",
    "n_enrolled",
    "n_enrolled_mcse",
    "decision_months",
    "decision_months_mcse",
]


def _summary(power: float) -> OperatingCharacteristics:
    e = Estimate(0.5, 0.01, 100)
    return OperatingCharacteristics(
        scenario_name="grid",
        replicates=100,
        monitored=False,
        true_orr=0.2,
        power=Estimate(power, 0.04, 100),
        early_stop=Estimate(0.0, 0.0, 100),
        decision_months=Estimate(30.0, 0.5, 100),
        enrollment_complete=Estimate(0.75, 0.043, 100),
        timeline={"last_patient_in": {0.5: e}},
        orr_mean=e,
        orr_bias=e,
        ci_width_median=e,
        ci_width_mean=e,
        coverage=e,
        n_analysed=Estimate(33.0, 0.2, 100),
        n_enrolled=Estimate(34.0, 0.1, 100),
        ae_discontinuation_rate=e,
        median_pfs=e,
        median_os=Estimate(math.nan, math.nan, 0),
        origin=dt.date(2025, 1, 1),
    )


def test_grid_table_is_one_row_per_cell_with_each_figure_and_its_mcse() -> None:
    grid = GridResult(
        (
            GridCell({"efficacy.orr": "0.1", "trial.sample_size": "30"}, _summary(0.05)),
            GridCell({"efficacy.orr": "0.3", "trial.sample_size": "30"}, _summary(0.85)),
        )
    )
    table = grid.table()
    assert list(table.columns) == ["efficacy.orr", "trial.sample_size", "replicates", *FIGURE_COLUMNS]
    assert table["efficacy.orr"].tolist() == ["0.1", "0.3"]  # as given, like the CSV always showed them
    assert table["power"].tolist() == [0.05, 0.85] and table["power_mcse"].tolist() == [0.04, 0.04]
    assert table.loc[0, ["replicates", "n_enrolled", "decision_months_mcse"]].tolist() == [100, 34.0, 0.5]
    assert grid.replicates == 100


def test_oc_grid_table_marks_the_null_row() -> None:
    grid = OCGridResult(
        (GridCell({"efficacy.orr": "0.1"}, _summary(0.04)), GridCell({"efficacy.orr": "0.25"}, _summary(0.8))), p0=0.1
    )
    table = grid.table()
    assert list(table.columns) == ["efficacy.orr", "is_null", "replicates", *FIGURE_COLUMNS]
    assert table["efficacy.orr"].tolist() == [0.1, 0.25] and table["efficacy.orr"].dtype == float
    assert table["is_null"].tolist() == [True, False]
    assert grid.null_cell.summary.power.value == 0.04
    assert [grid.is_null(cell) for cell in grid.cells] == [True, False]


def test_cells_carry_their_trial_models() -> None:
    cells = build_cells("base", ["trial.sample_size=30"], {"efficacy.orr": ["0.1", "0.2"]})
    assert [c.setting for c in cells] == [{"efficacy.orr": "0.1"}, {"efficacy.orr": "0.2"}]
    assert all(isinstance(c.model, TrialModel) for c in cells)
    assert [c.scenario.efficacy.orr for c in cells] == [0.1, 0.2]
    assert {c.scenario.trial.sample_size for c in cells} == {30}


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if any cell is simulated."""

    def refuse(*args, **kwargs):
        raise AssertionError("a cell was simulated")

    monkeypatch.setattr(sweep, "run", refuse)


def test_an_infeasible_cell_fails_before_any_run(no_runs) -> None:
    """efficacy.orr = 0.6 is a valid field but cannot hold with the base PFS: the trial model refuses it."""
    with pytest.raises(CellError) as info:
        build_cells("base", [], {"efficacy.orr": ["0.2", "0.6"]})
    assert str(info.value).startswith(
        "in the cell efficacy.orr=0.6: efficacy.orr (0.6) must be below the share of patients still progression-free"
    )
    assert info.value.setting == {"efficacy.orr": "0.6"} and info.value.context == "in the cell efficacy.orr=0.6: "


def test_the_command_reports_an_infeasible_cell_without_simulating(no_runs, capsys) -> None:
    assert main(["sweep", "--vary", "efficacy.orr=0.2,0.6", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trialsim: error: in the cell efficacy.orr=0.6: efficacy.orr (0.6) must be below")
    assert err.count("\n") == 1


def test_run_grid_keeps_each_cells_summary_and_replicates_when_asked() -> None:
    cells = build_cells("base", [], {"efficacy.orr": ["0.1", "0.3"]})
    options = {"replicates": 6, "seed": 11, "progress": False}
    grid = run_grid(cells, keep_replicates=True, **options)
    assert [c.setting for c in grid.cells] == [c.setting for c in cells]
    assert all(len(c.replicates) == 6 for c in grid.cells)
    assert [c.summary.true_orr for c in grid.cells] == [0.1, 0.3]
    # the table's figures are the cells' summaries, not a re-simulation
    assert grid.table()["power"].tolist() == [c.summary.power.value for c in grid.cells]
    lean = run_grid(cells, **options)
    assert all(c.replicates is None for c in lean.cells)
    pd.testing.assert_frame_equal(lean.table(), grid.table())
    assert [dataclasses.asdict(c.summary.power) for c in lean.cells] == [
        dataclasses.asdict(c.summary.power) for c in grid.cells
    ]


def test_oc_grid_adds_p0_and_marks_it() -> None:
    grid = oc_grid("base", ["trial.sample_size=20"], [0.3], replicates=4, seed=2, progress=False)
    assert isinstance(grid, OCGridResult) and grid.p0 == 0.1
    assert [c.setting["efficacy.orr"] for c in grid.cells] == ["0.1", "0.3"]
    assert grid.table()["is_null"].tolist() == [True, False]
