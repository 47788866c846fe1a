"""Wall time of short ``trialsim`` commands as a user runs them, whole process, start-up included.

Usage: python benchmarks/startup.py [--repeats N]

Times ``trialsim --version``, ``trialsim check`` and ``trialsim run --replicates 200 --jobs 1``, and
a fresh interpreter importing what a loky worker imports before its first chunk, each the fastest
of ``--repeats`` runs (other work on the machine only slows a run down), and prints the machine.
Not a test: speed depends on the machine; docs quote only what this printed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time

from machine import machine_line

COMMANDS = (
    ("trialsim --version", ["--version"]),
    ("trialsim check", ["check"]),
    ("trialsim run --replicates 200 --jobs 1", ["run", "--replicates", "200", "--jobs", "1", "--no-progress"]),
)
"""What a user types, and the words after ``trialsim``."""


WORKER = "from sim.runs.workers import import_worker_modules; import_worker_modules()"
"""What a worker process runs before its first chunk (:mod:`sim.runs.workers`)."""


def _fastest(command: list[str], repeats: int) -> float:
    """The fastest of ``repeats`` whole-process runs of ``command``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print each command's wall time and the machine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    program = shutil.which("trialsim") or str(sys.executable)
    prefix = [program] if program.endswith("trialsim") else [program, "-m", "sim.cli"]
    timed = [(shown, [*prefix, *words]) for shown, words in COMMANDS]
    timed.append(("a worker's imports (python -c ...)", [sys.executable, "-c", WORKER]))
    print(machine_line())
    for shown, command in timed:
        print(f"  {_fastest(command, args.repeats):6.2f} s  (fastest of {args.repeats})  {shown}")


if __name__ == "__main__":
    main()
