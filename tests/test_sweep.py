"""Grids: every cell is built (scenario and trial model) before any run; results keep each cell's figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
import pytest

import sim.runs.dispatch as dispatch
import sim.runs.sweep as sweep
from sim.analysis.summary import OperatingCharacteristics
from sim.cli import main
from sim.model.trial_model import TrialModel
from sim.runs.runner import run
from sim.runs.sweep import CellError, GridCell, GridResult, OCGridResult, build_cells, oc_grid, run_grid
from sim.stats.mcse import Estimate
from tests.helpers import point_decisions

FIGURE_COLUMNS = [
    "power",
    "power_mcse",
    "power_bound_95",
    "early_stop",
    "early_stop_mcse",
    "early_stop_bound_95",
    "interim_wait_days",
    "interim_wait_days_mcse",
    "enrollment_complete",
    "enrollment_complete_mcse",
    "enrollment_complete_bound_95",
    "n_enrolled",
    "n_enrolled_mcse",
    "decision_months",
    "decision_months_mcse",
]


def _summary(power: float, power_mcse: float = 0.04, tested: float = 0.5, tested_mcse: float = 0.01) -> OperatingCharacteristics:
    e = Estimate(0.5, 0.01, 100)
    return OperatingCharacteristics(
        scenario_name="grid",
        replicates=100,
        monitored=False,
        true_orr=0.2,
        power=Estimate(power, power_mcse, 100),
        early_stop=Estimate(0.0, 0.0, 100),
        interim_wait_days=Estimate(math.nan, math.nan, 0),
        decision_months=Estimate(30.0, 0.5, 100),
        enrollment_complete=Estimate(0.75, 0.043, 100),
        target_reached=Estimate(0.75, 0.043, 100),
        timeline={"last_patient_in": {0.5: e}},
        orr_mean=e,
        orr_bias=e,
        orr_unconfirmed=e,
        ci_width_median=e,
        ci_width_mean=e,
        coverage=e,
        tested_rate=Estimate(tested, tested_mcse, 100),
        coverage_of_tested=e,
        n_analysed=Estimate(33.0, 0.2, 100),
        n_enrolled=Estimate(34.0, 0.1, 100),
        ae_discontinuation_rate=e,
        median_pfs=e,
        median_os=Estimate(math.nan, math.nan, 0),
        origin=dt.date(2025, 1, 1),
        decisions=point_decisions(Estimate(power, power_mcse, 100)),
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
    assert list(table.columns) == ["efficacy.orr", "is_null", "replicates", *FIGURE_COLUMNS, "tested_rate", "tested_rate_mcse"]
    assert table["efficacy.orr"].tolist() == [0.1, 0.25] and table["efficacy.orr"].dtype == float
    assert table["tested_rate"].tolist() == [0.5, 0.5] and table["tested_rate_mcse"].tolist() == [0.01, 0.01]
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

    monkeypatch.setattr(sweep, "run_many", refuse)


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


def test_grid_table_names_each_cells_engine() -> None:
    """Each cell names its engine: with auto, vector for replacement with looks and for an ORR prior alike."""
    simon = ["monitoring.rule='simon'", "monitoring.stage1_patients=10", "monitoring.stage1_max_responders=1"]
    simon += ["monitoring.final_max_responders=5", "trial.replace_non_evaluable=true"]
    cells = [
        *build_cells("base", simon, {"trial.sample_size": ["35"]}),
        *build_cells("base", ["efficacy.orr_prior={beta=[3, 12]}"], {"trial.sample_size": ["35"]}),
    ]
    grid = run_grid(cells, replicates=4, seed=3, progress=False, engine="auto")
    assert grid.table()["engine"].tolist() == ["vector", "vector"]
    assert run_grid(cells, replicates=4, seed=3, progress=False).table()["engine"].tolist() == ["des", "des"]


def test_oc_grid_adds_p0_and_marks_it() -> None:
    grid = oc_grid("base", ["trial.sample_size=20"], [0.3], replicates=4, seed=2, progress=False)
    assert isinstance(grid, OCGridResult) and grid.p0 == 0.1
    assert [c.setting["efficacy.orr"] for c in grid.cells] == ["0.1", "0.3"]
    assert grid.table()["is_null"].tolist() == [True, False]


def _oc_cell(latent: str, tested: float, power: float, power_mcse: float) -> GridCell:
    return GridCell({"efficacy.orr": latent}, _summary(power, power_mcse, tested, 0.001))


# Latent ORR, tested rate (MCSE 0.001 each), power and its MCSE, as an OC grid with dropout gives them.
LADDER = (("0.05", 0.046, 0.004, 0.0014), ("0.1", 0.092, 0.020, 0.0031), ("0.15", 0.139, 0.117, 0.0072))


def test_boundary_is_interpolated_where_the_tested_rate_is_p0() -> None:
    """Hand-computed: p0 = 0.10 lies between tested rates 0.092 and 0.139, so w = 0.008 / 0.047 = 8/47."""
    grid = OCGridResult(tuple(_oc_cell(*row) for row in reversed(LADDER)), p0=0.1)  # any cell order
    boundary = grid.boundary
    w = 8 / 47
    assert boundary.bracketed and boundary.problem is None and boundary.p0 == 0.1
    assert boundary.latent_orr.value == pytest.approx(0.1 + w * 0.05, rel=1e-12)  # 0.10851
    assert boundary.type_one_error.value == pytest.approx(0.020 + w * 0.097, rel=1e-12)  # 0.03651
    # power MCSEs weighted and added (common random numbers), plus the tested rates' error through
    # w: slope 0.097 / 0.047 times the interpolated tested-rate MCSE, 0.001
    mcse = (1 - w) * 0.0031 + w * 0.0072 + 0.097 / 0.047 * 0.001
    assert boundary.type_one_error.mcse == pytest.approx(mcse, rel=1e-12)  # 0.00586
    assert boundary.latent_orr.mcse == pytest.approx(0.05 / 0.047 * 0.001, rel=1e-12)
    assert boundary.type_one_error.n == boundary.latent_orr.n == 100
    assert boundary.between == (0.1, 0.15)
    # the log-scale reading 0.020 (0.117 / 0.020)^w = 0.02700 is 0.00951 below the linear one
    assert boundary.interpolation_gap == pytest.approx(0.020 + w * 0.097 - 0.020 * (0.117 / 0.020) ** w, rel=1e-12)
    # the row at latent ORR = p0 is still there, a point inside H0
    assert grid.null_cell.summary.power.value == 0.020


def test_boundary_on_a_cell_takes_that_cells_power() -> None:
    """The first bracket is 0.046 to 0.092 with w = 1; the tested rate's error still counts."""
    boundary = OCGridResult(tuple(_oc_cell(*row) for row in LADDER), p0=0.092).boundary
    assert boundary.type_one_error.value == pytest.approx(0.020, rel=1e-12)
    assert boundary.type_one_error.mcse == pytest.approx(0.0031 + 0.016 / 0.046 * 0.001, rel=1e-12)
    assert boundary.latent_orr.value == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            LADDER[1:],
            "every cell's tested rate is below p0 = 0.14 (the highest is 0.1390, at latent ORR 0.15); "
            "the grid needs higher latent ORR values to reach the boundary",
        ),
        (
            LADDER[:1],
            "every cell's tested rate is above p0 = 0.04 (the lowest is 0.0460, at latent ORR 0.05); "
            "the grid needs lower latent ORR values to reach the boundary",
        ),
    ],
)
def test_boundary_outside_the_grid_is_reported_not_extrapolated(rows: tuple, problem: str) -> None:
    p0 = 0.14 if "below" in problem else 0.04
    boundary = OCGridResult(tuple(_oc_cell(*row) for row in rows), p0=p0).boundary
    assert not boundary.bracketed and boundary.problem == problem
    assert math.isnan(boundary.type_one_error.value) and math.isnan(boundary.latent_orr.value)


def test_a_grid_dispatches_every_cells_chunks_together(monkeypatch) -> None:
    """Cell x chunk tasks in one stream (so no worker waits for a cell's last chunk), each cell as if run alone."""
    streams: list[list[tuple[float, int, int]]] = []
    real = dispatch.Dispatch.__call__

    def spy(self, tasks):
        streams.append([(t.plan.model.scenario.efficacy.orr, t.start, t.stop) for t in tasks])
        return real(self, tasks)

    monkeypatch.setattr(dispatch.Dispatch, "__call__", spy)
    cells = build_cells("base", [], {"efficacy.orr": ["0.1", "0.3"]})
    grid = run_grid(cells, replicates=6, seed=11, chunk_size=3, n_jobs=2, keep_replicates=True, progress=False)
    assert streams == [[(0.1, 0, 3), (0.1, 3, 6), (0.3, 0, 3), (0.3, 3, 6)]]
    for cell, finished in zip(cells, grid.cells):
        alone = run(cell.model, replicates=6, seed=11, progress=False)
        pd.testing.assert_frame_equal(finished.replicates, alone.replicates)
        assert finished.summary.to_dict() == alone.summary.to_dict()


def test_a_grid_with_an_mcse_target_stops_each_cell_where_it_would_stop_alone() -> None:
    cells = build_cells("base", [], {"efficacy.orr": ["0.0", "0.3"]})
    options = {"replicates": 20, "seed": 6, "mcse_target": 0.06, "progress": False}
    grid = run_grid(cells, keep_replicates=True, chunk_size=7, **options)
    counts = [len(cell.replicates) for cell in grid.cells]
    assert counts[0] < counts[1]  # power 0 meets the target sooner than power near 1/2
    for cell, finished in zip(cells, grid.cells):
        pd.testing.assert_frame_equal(finished.replicates, run(cell.model, **options).replicates)
