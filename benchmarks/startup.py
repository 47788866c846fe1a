"""Wall time of short ``trialsim`` commands as a user runs them, whole process, start-up included.

Usage: python benchmarks/startup.py [--repeats N]

Times ``trialsim --version``, ``trialsim check`` and ``trialsim run --replicates 200 --jobs 1``, each
the fastest of ``--repeats`` runs (other work on the machine only slows a run down), and prints the
machine. Not a test: speed depends on the machine; docs quote only what this printed.
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


def _fastest(words: list[str], repeats: int) -> float:
    """The fastest of ``repeats`` whole-process runs of ``trialsim`` with ``words``, in seconds."""
    program = shutil.which("trialsim") or str(sys.executable)
    prefix = [program] if program.endswith("trialsim") else [program, "-m", "sim.cli"]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([*prefix, *words], check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Print each command's wall time and the machine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(machine_line())
    for shown, words in COMMANDS:
        print(f"  {_fastest(words, args.repeats):6.2f} s  (fastest of {args.repeats})  {shown}")


if __name__ == "__main__":
    main()
