"""What a user waits for: whole ``trialsim`` processes against the naive SimPy model, in one invocation.

Usage: python benchmarks/user_speed.py [--repeats N] [--naive PATH] [--forecasts-only]

Each row is the wall time of a whole process (interpreter start, imports, worker spawn, simulation,
analysis and the written results), the fastest of ``--repeats`` (other work on a machine only slows a
run down). Rates are replicates per second of wall time; ``x naive`` divides by the naive model's rate
measured the same way in this invocation, and ``target`` is the speed-up the project aims for. The
forecast rows (the made-up file, four runs of 1,000 replicates each) divide by the SimPy engine's
forecast instead. Not a test: speed depends on the machine; the docs quote only what this printed,
with its machine line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from machine import machine_line

NAIVE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "naive_simpy.py"
OBSERVED = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"


@dataclass(frozen=True)
class Row:
    """One timed command: what is shown, how many replicates it simulates and the speed-up aimed for."""

    shown: str
    replicates: int
    target: float | None
    command: list[str]


def _trialsim() -> list[str]:
    """The installed ``trialsim`` program, or this interpreter running the package."""
    program = shutil.which("trialsim")
    return [program] if program else [sys.executable, "-m", "sim.cli"]


def rows(naive: Path) -> list[Row]:
    """The commands timed, the naive model first (every ratio divides by it)."""
    run = [*_trialsim(), "run", "--no-progress", "--jobs", "2"]
    return [
        Row(
            "naive SimPy model --n 10000 --jobs 2",
            10_000,
            None,
            [sys.executable, str(naive), "--n", "10000", "--jobs", "2"],
        ),
        Row("run --engine des --replicates 10000", 10_000, 2.0, [*run, "--engine", "des", "--replicates", "10000"]),
        Row("run --replicates 10000 (auto)", 10_000, None, [*run, "--replicates", "10000"]),
        Row(
            "run --engine vector --replicates 100000",
            100_000,
            30.0,
            [*run, "--engine", "vector", "--replicates", "100000"],
        ),
    ]


def forecast_rows() -> list[Row]:
    """The forecast of the made-up file on each engine, the SimPy engine first (the forecast ratios divide by it)."""
    forecast = [*_trialsim(), "forecast", "base", "--observed", str(OBSERVED), "--as-of", "2026-11-15"]
    forecast += ["--replicates", "1000", "--no-progress", "--jobs", "2"]
    return [
        Row("forecast --engine des --replicates 1000", 4_000, None, [*forecast, "--engine", "des"]),
        Row("forecast --replicates 1000 (auto: vector)", 4_000, 10.0, forecast),
    ]


def fastest(command: list[str], repeats: int) -> float:
    """The fastest of ``repeats`` wall times of ``command`` (seconds), each in a fresh empty folder."""
    best = float("inf")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=folder)
            best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Time every row and print its rate, its ratio to the naive model and the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive", type=Path, default=NAIVE, help="the naive SimPy model (shared/bench)")
    parser.add_argument("--forecasts-only", action="store_true", help="time the forecast rows alone")
    args = parser.parse_args()
    if not args.forecasts_only and not args.naive.exists():
        raise SystemExit(f"the naive model is not at {args.naive}; pass --naive PATH")
    print(machine_line())
    if not args.forecasts_only:
        table(rows(args.naive), "x naive", args.repeats)
    table(forecast_rows(), "x des", args.repeats)
    print(f"  fastest of {args.repeats}; load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def table(timed: list[Row], ratio: str, repeats: int) -> None:
    """Time each row and print its rate, its ratio to the first row's rate and its target."""
    print(f"  {'command (whole process, 2 jobs)':44s} {'seconds':>8s} {'replicates/s':>12s} {ratio:>8s} {'target':>7s}")
    first_rate = None
    for row in timed:
        seconds = fastest(row.command, repeats)
        rate = row.replicates / seconds
        first_rate = first_rate or rate
        target = f"{row.target:6.0f}x" if row.target else f"{'-':>7s}"
        print(f"  {row.shown:44s} {seconds:8.2f} {rate:12.0f} {rate / first_rate:8.1f} {target}")


if __name__ == "__main__":
    main()
