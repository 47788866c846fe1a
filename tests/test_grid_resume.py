"""``oc`` and ``sweep`` resume like ``run``: each cell's chunks are kept beside the table, one progress bar counts them all."""

from __future__ import annotations

import pandas as pd
import pytest

import sim.runs.dispatch as dispatch
from sim.cli import main
from sim.runs.sweep import build_cells, cell_folder, oc_grid, run_grid

GRIDS = {
    "oc": ["oc", "--orr", "0.2,0.3"],  # with p0 = 0.1: three cells
    "sweep": ["sweep", "--vary", "efficacy.orr=0.1,0.2,0.3"],
}
SMALL = ["--replicates", "12", "--chunk-size", "4", "--seed", "3", "--no-progress"]
REAL_CHUNK = dispatch.run_chunk


def _interrupt_after(monkeypatch, chunks: int) -> list[tuple[int, int]]:
    """Let ``chunks`` chunks finish, then interrupt as Ctrl-C would; returns the chunks computed."""
    calls: list[tuple[int, int]] = []

    def chunk(plan, start, stop):
        if len(calls) == chunks:
            raise KeyboardInterrupt
        calls.append((start, stop))
        return REAL_CHUNK(plan, start, stop)

    monkeypatch.setattr(dispatch, "run_chunk", chunk)
    return calls


@pytest.mark.parametrize("grid", sorted(GRIDS))
def test_an_interrupted_grid_resumes_where_it_stopped(grid, tmp_path, capsys, monkeypatch) -> None:
    whole = tmp_path / "whole.csv"
    assert main([*GRIDS[grid], *SMALL, "--out", str(whole)]) == 0
    capsys.readouterr()

    out = tmp_path / "grid.csv"
    _interrupt_after(monkeypatch, 5)  # the first cell's 3 chunks and 2 of the second's
    assert main([*GRIDS[grid], *SMALL, "--out", str(out)]) == 130
    assert capsys.readouterr().err == (
        f"trialsim: interrupted; finished chunks are kept in {out}.chunks; the same command resumes from them\n"
    )
    assert not out.exists()

    calls = _interrupt_after(monkeypatch, 100)
    assert main([*GRIDS[grid], *SMALL, "--out", str(out)]) == 0
    assert calls == [(8, 12), (0, 4), (4, 8), (8, 12)]  # the rest of the second cell, then the third
    assert f"trialsim: resumed: reused 5 of 9 chunks in 3 cells from {out}.chunks\n" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(whole))


def test_a_grid_with_more_values_reuses_the_cells_it_shares(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "oc.csv"
    assert main([*GRIDS["oc"], *SMALL, "--out", str(out)]) == 0
    calls = _interrupt_after(monkeypatch, 100)
    assert main(["oc", "--orr", "0.2,0.3,0.4", *SMALL, "--out", str(out)]) == 0
    assert calls == [(0, 4), (4, 8), (8, 12)]  # only the new cell, latent ORR 0.4
    assert sorted(p.name for p in (tmp_path / "oc.csv.chunks").iterdir()) == [
        "efficacy.orr=0.1", "efficacy.orr=0.2", "efficacy.orr=0.3", "efficacy.orr=0.4"]
    assert pd.read_csv(out)["efficacy.orr"].tolist() == [0.1, 0.2, 0.3, 0.4]


def test_restart_recomputes_every_cell(tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "oc.csv"
    assert main([*GRIDS["oc"], *SMALL, "--out", str(out)]) == 0
    first = pd.read_csv(out)
    capsys.readouterr()
    calls = _interrupt_after(monkeypatch, 100)
    assert main([*GRIDS["oc"], *SMALL, "--out", str(out), "--restart"]) == 0
    assert len(calls) == 9 and "resumed" not in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(out), first)


def test_a_cell_computed_from_another_scenario_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "oc.csv"
    assert main([*GRIDS["oc"], *SMALL, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main([*GRIDS["oc"], *SMALL, "--out", str(out), "--set", "trial.sample_size=30"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trialsim: error: {out}.chunks/efficacy.orr=0.1 holds chunks of a different scenario")
    assert "--restart" in err


def test_the_library_grid_resumes_and_says_so(tmp_path) -> None:
    cells = build_cells("base", [], {"efficacy.orr": ["0.1", "0.3"]})
    options = {"replicates": 6, "seed": 11, "chunk_size": 3, "progress": False}
    fresh = run_grid(cells, checkpoint_dir=tmp_path, **options)
    assert fresh.notes == ()
    again = run_grid(cells, checkpoint_dir=tmp_path, **options)
    assert again.notes == (f"resumed: reused 4 of 4 chunks in 2 cells from {tmp_path}",)
    pd.testing.assert_frame_equal(again.table(), fresh.table())
    pd.testing.assert_frame_equal(run_grid(cells, **options).table(), fresh.table())


def test_one_labelled_progress_bar_counts_every_cell(capsys) -> None:
    oc_grid("base", [], [0.3], replicates=4, seed=2, chunk_size=2, progress=True)
    bars = capsys.readouterr().err.replace("\r", "\n")
    assert "OC grid, cell 2 of 2: 100%" in bars and "8/8" in bars
    assert "replicates:" not in bars  # no bar of a single cell's run
    cells = build_cells("base", [], {"efficacy.orr": ["0.1", "0.2", "0.3"]})
    run_grid(cells, replicates=2, seed=2, progress=True)
    bars = capsys.readouterr().err.replace("\r", "\n")
    assert "sensitivity grid, cell 3 of 3: 100%" in bars and "6/6" in bars and "replicates:" not in bars


def test_cell_folders_are_named_for_their_setting() -> None:
    assert cell_folder({"efficacy.orr": "0.15"}) == "efficacy.orr=0.15"
    assert cell_folder({"efficacy.orr": "0.1", "trial.sample_size": "40"}) == "efficacy.orr=0.1,trial.sample_size=40"
    quoted = cell_folder({"trial.name": "'a/b'"})
    assert quoted.startswith("trial.name=_a_b_-") and len(quoted) == len("trial.name=_a_b_-") + 10
    assert cell_folder({"trial.name": "'a b'"}) != cell_folder({"trial.name": "'a_b'"})
    assert len(cell_folder({"trial.name": "x" * 500})) <= 91
