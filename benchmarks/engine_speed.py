"""Replicates per second of full runs, engine by engine, side by side with the naive SimPy model.

Usage: python benchmarks/engine_speed.py [--replicates N] [--des-replicates N] [--vector-replicates N] [--scenario NAME]
                                         [--naive PATH] [--sweep] [--million]

Each row is measured in a fresh process, one after another in one invocation (rates on a shared
machine move by 20% between runs, so only figures printed together compare). A row is a whole
``sim.run``: simulate, cut, analyse, summarise. ``peak memory`` is the highest resident memory of
that process and its workers together, sampled every 20 ms; ``load`` the machine's load average
after the row (above the core count, other work shared the cores and the rates are low). ``--sweep`` adds a ``trialsim
sweep``-shaped grid of 100 cells; ``--million`` streams a million replicates through the vector
engine. Not a test: speed depends on the machine; docs/engines.md keeps a printed table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

NAIVE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "naive_simpy.py"


def _tree_rss() -> int:
    """Resident bytes of this process and all its descendants (0 without psutil)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        return 0
    me = psutil.Process()
    total = 0
    for process in [me, *me.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


class PeakMemory:
    """Samples the process tree's resident memory in a thread; ``peak`` is the highest seen (bytes)."""

    def __init__(self, every: float = 0.02) -> None:
        self.peak = 0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss())
            self._stop.wait(self._every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss())


def measure_run(engine: str, jobs: int, replicates: int, scenario: str, chunk: int | None) -> dict[str, float]:
    """One timed ``sim.run`` in this process: replicates/s and peak memory (MB)."""
    import sim

    model = sim.load_scenario(scenario)
    # imports, tables and the workers warm, as in a long session
    warm = 2 * jobs * (chunk or 250)  # two chunks a worker, so every worker has started
    sim.run(model, replicates=warm, seed=2, n_jobs=jobs, engine=engine, chunk_size=chunk, progress=False)
    with PeakMemory() as memory:
        start = time.perf_counter()
        sim.run(model, replicates=replicates, seed=1, n_jobs=jobs, engine=engine, chunk_size=chunk, progress=False)
        elapsed = time.perf_counter() - start
    return {"rate": replicates / elapsed, "seconds": elapsed, "peak_mb": memory.peak / 2**20, "load": _load()}


def _load() -> float:
    """The machine's one-minute load average: above the core count, other work shared the cores."""
    return os.getloadavg()[0]


def measure_sweep(engine: str, jobs: int, replicates: int, chunk: int | None) -> dict[str, float]:
    """A grid of 100 cells (10 accrual rates x 10 true ORRs), as ``trialsim sweep`` runs it."""
    from sim.runs.sweep import build_cells, run_grid

    rates = [f"{1.4 + 0.2 * i:.1f}" for i in range(10)]
    orrs = [f"{0.08 + 0.02 * i:.2f}" for i in range(10)]
    axes = {"recruitment.sites.0.screened_per_month": rates, "efficacy.orr": orrs}
    cells = build_cells("base", [], axes)
    warm = 2 * jobs * (chunk or 250)
    run_grid(cells[:1], replicates=warm, seed=2, n_jobs=jobs, engine=engine, chunk_size=chunk, progress=False)
    with PeakMemory() as memory:
        start = time.perf_counter()
        run_grid(cells, replicates=replicates, seed=1, n_jobs=jobs, engine=engine, chunk_size=chunk, progress=False)
        elapsed = time.perf_counter() - start
    return {"rate": 100 * replicates / elapsed, "seconds": elapsed, "peak_mb": memory.peak / 2**20, "load": _load()}


def measure_naive(path: Path, replicates: int, jobs: int) -> dict[str, float]:
    """The naive SimPy model's own printed replicates/s, and its peak memory."""
    with PeakMemory() as memory:
        out = subprocess.run(
            [sys.executable, str(path), "--n", str(replicates), "--jobs", str(jobs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    found = re.search(r"->\s*([\d.]+)\s*replicates/s", out)
    if found is None:
        raise RuntimeError(f"no rate in the naive model's output:\n{out}")
    return {
        "rate": float(found.group(1)),
        "seconds": replicates / float(found.group(1)),
        "peak_mb": memory.peak / 2**20,
        "load": _load(),
    }


def _in_fresh_process(kind: str, **settings: object) -> dict[str, float]:
    """Run one measurement in a new interpreter, so no row inherits another's workers or memory."""
    code = f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import engine_speed as b; " + (
        f"print(json.dumps(b.{kind}(**{settings!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    """Print the table for the chosen scenario and replicate counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=4000, help="replicates of the naive row (its --n)")
    parser.add_argument("--des-replicates", type=int, default=12000, help="replicates of the des rows")
    parser.add_argument("--vector-replicates", type=int, default=40000, help="replicates of the vector rows")
    parser.add_argument("--scenario", default="base")
    parser.add_argument("--naive", type=Path, default=NAIVE, help="the naive SimPy model (shared/bench)")
    parser.add_argument("--vector-chunk", type=int, default=1000, help="chunk size of the vector rows")
    parser.add_argument("--sweep", action="store_true", help="also a 100-cell sweep of 10,000 replicates a cell")
    parser.add_argument("--million", action="store_true", help="also a million replicates on the vector engine")
    args = parser.parse_args()
    print(
        f"scenario {args.scenario}; {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    rows: list[tuple[str, int, int, dict[str, float]]] = []
    naive = measure_naive(args.naive, args.replicates, 2) if args.naive.exists() else None
    if naive is not None:
        rows.append(("naive SimPy (shared/bench)", 2, args.replicates, naive))
    for jobs in (1, 2):
        rows.append(
            (
                "des",
                jobs,
                args.des_replicates,
                _in_fresh_process(
                    "measure_run",
                    engine="des",
                    jobs=jobs,
                    replicates=args.des_replicates,
                    scenario=args.scenario,
                    chunk=None,
                ),
            )
        )
    for jobs in (1, 2):
        rows.append(
            (
                "vector",
                jobs,
                args.vector_replicates,
                _in_fresh_process(
                    "measure_run",
                    engine="vector",
                    jobs=jobs,
                    replicates=args.vector_replicates,
                    scenario=args.scenario,
                    chunk=args.vector_chunk,
                ),
            )
        )
    if args.million:
        rows.append(
            (
                "vector, 1,000,000 replicates",
                2,
                1_000_000,
                _in_fresh_process(
                    "measure_run",
                    engine="vector",
                    jobs=2,
                    replicates=1_000_000,
                    scenario=args.scenario,
                    chunk=args.vector_chunk,
                ),
            )
        )
    if args.sweep:
        rows.append(
            (
                "auto, sweep 100 cells x 10,000",
                2,
                1_000_000,
                _in_fresh_process("measure_sweep", engine="auto", jobs=2, replicates=10_000, chunk=args.vector_chunk),
            )
        )
    print(
        f"{'engine':32s} {'jobs':>4s} {'replicates':>10s} {'seconds':>8s} {'replicates/s':>12s} "
        f"{'x naive':>8s} {'x des (2 jobs)':>14s} {'peak memory':>12s} {'load':>5s}"
    )
    des2 = next(r for name, jobs, _, r in rows if name == "des" and jobs == 2)["rate"]
    for name, jobs, replicates, r in rows:
        ratio = f"{r['rate'] / naive['rate']:8.1f}" if naive else f"{'-':>8s}"
        print(
            f"{name:32s} {jobs:4d} {replicates:10d} {r['seconds']:8.1f} {r['rate']:12.0f} {ratio} "
            f"{r['rate'] / des2:14.1f} {r['peak_mb']:9.0f} MB {r['load']:5.1f}"
        )
    print("load: the one-minute load average after the row; above 2, other work shared the two cores")


if __name__ == "__main__":
    main()
