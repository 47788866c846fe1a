"""What the Dask backend costs on one machine: the same work with ``--jobs 2`` (loky) and on a LocalCluster.

Usage: python benchmarks/dask_overhead.py [--replicates N] [--cells N] [--scenario NAME] [--repeats N]
Needs the dask extra (pip install "trialsim[dask]"). Not a test: times depend on the machine.

Two pieces of work: one run of ``--replicates``, and an OC-style grid of ``--cells`` latent ORR
values with ``--replicates / --cells`` replicates each (so the same number of replicates). Each is
timed with loky and 2 workers (the reference); with a Dask LocalCluster of 2 single-threaded
worker processes that the run starts and stops itself (``--backend dask --jobs 2``); and on the
same kind of cluster already running (``--scheduler ADDRESS``), which leaves only the per-task
cost. The grid is also timed with its cells run one after the other on loky, as grids ran before
their chunks were dispatched together. Every set-up's results are checked to be identical to the
reference's before its time is printed.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import distributed
import numpy as np
import pandas as pd

from sim.runs.runner import run
from sim.runs.sweep import build_cells, run_grid

Work = Callable[..., pd.DataFrame]


def one_run(scenario: str, replicates: int) -> Work:
    """The replicate table of one run with the given backend settings."""

    def work(**settings: Any) -> pd.DataFrame:
        return run(scenario, replicates=replicates, seed=1, progress=False, **settings).replicates

    return work


def grid(scenario: str, replicates: int, cells: int, one_by_one: bool = False) -> Work:
    """The power of each of ``cells`` latent ORR values, dispatched together or (``one_by_one``) cell after cell."""
    axis = {"efficacy.orr": [f"{v:.3f}" for v in np.linspace(0.05, 0.40, cells)]}
    built = build_cells(scenario, [], axis)
    per_cell = max(1, replicates // cells)

    def work(**settings: Any) -> pd.DataFrame:
        if one_by_one:
            cell_runs = [run(c.model, replicates=per_cell, seed=1, progress=False, **settings) for c in built]
            return pd.DataFrame({"power": [r.summary.power.value for r in cell_runs]})
        return run_grid(built, replicates=per_cell, seed=1, progress=False, **settings).table()[["power"]]

    return work


def timed(work: Work, repeats: int = 1, **settings: Any) -> tuple[float, pd.DataFrame]:
    """The fewest wall seconds ``work`` took in ``repeats`` tries (the least disturbed), and what it returned."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = work(**settings)
        times.append(time.perf_counter() - start)
    return min(times), out


Setup = tuple[str, Work, dict[str, Any]]
"""A set-up's label, the work it times and the ``run`` settings it times it with."""

LOKY: dict[str, Any] = {"n_jobs": 2, "backend": "loky"}


def setups(scenario: str, replicates: int, cells: int, address: str) -> dict[str, list[Setup]]:
    """Each piece of work and its set-ups, ``--jobs 2`` first (the reference)."""
    started: dict[str, Any] = {"backend": "dask", "n_jobs": 2}
    running: dict[str, Any] = {"backend": "dask", "scheduler": address}
    single, together = one_run(scenario, replicates), grid(scenario, replicates, cells)
    return {
        "run": [
            ("--jobs 2 (loky)", single, LOKY),
            ("--backend dask --jobs 2 (starts a LocalCluster)", single, started),
            ("--backend dask --scheduler (cluster running)", single, running),
        ],
        "grid": [
            ("--jobs 2 (loky)", together, LOKY),
            ("--jobs 2, cells one after the other (before)", grid(scenario, replicates, cells, True), LOKY),
            ("--backend dask --jobs 2 (starts a LocalCluster)", together, started),
            ("--backend dask --scheduler (cluster running)", together, running),
        ],
    }


def report(name: str, rows: list[Setup], replicates: int, repeats: int) -> None:
    """Time each set-up of one piece of work, check it gives the reference's results, and print a line each."""
    timed(rows[0][1], **LOKY)  # warm the loky workers and the imports, as a long session would
    reference, expected = timed(rows[0][1], repeats, **rows[0][2])
    for label, work, settings in rows:
        seconds, out = (reference, expected) if label == rows[0][0] else timed(work, repeats, **settings)
        pd.testing.assert_frame_equal(out, expected)
        print(f"{name:<5} {label:<48} {seconds:8.2f} {replicates / seconds:7.0f} {seconds / reference:8.2f}x")


def main() -> None:
    """Print seconds and replicates/s of each set-up, and its time relative to ``--jobs 2``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--cells", type=int, default=8)
    parser.add_argument("--scenario", default="base")
    parser.add_argument("--repeats", type=int, default=3, help="times each set-up runs; the fastest is shown")
    args = parser.parse_args()
    print(
        f"scenario {args.scenario}, {args.replicates} replicates (grid: {args.cells} cells), chunk size 250, "
        f"fastest of {args.repeats}; load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'work':<5} {'set-up':<48} {'seconds':>8} {'reps/s':>7} {'vs jobs 2':>9}")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster:
        for name, rows in setups(args.scenario, args.replicates, args.cells, cluster.scheduler_address).items():
            report(name, rows, args.replicates, args.repeats)


if __name__ == "__main__":
    main()
