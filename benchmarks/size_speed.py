"""Wall time of a design search of at least 500 candidate designs on one scenario (``trialsim size``).

Usage: python benchmarks/size_speed.py [--scenario NAME] [--jobs N] [--replicates N] [--screen-replicates N]

The grid: n 20..80, the three design families, 1 to 3 centres and recruitment extended by 0 or 6
months. Prints the designs screened, the designs confirmed by full simulation, the time of each
stage and the machine. Not a test: speed depends on the machine; the README quotes what this printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from machine import machine_line

from sim.sizing import DESIGNS, Levers, Targets, size


def main() -> None:
    """Run the benchmark search and print its timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="base")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--screen-replicates", type=int, default=2000)
    args = parser.parse_args()
    levers = Levers(n=tuple(range(20, 81)), designs=DESIGNS, sites=(1, 2, 3), extend_months=(0, 6))
    targets = Targets(p1=0.25, on_time_by=dt.date(2028, 10, 31))
    start = time.perf_counter()
    result = size(
        args.scenario,
        targets,
        levers,
        replicates=args.replicates,
        screen_replicates=args.screen_replicates,
        n_jobs=args.jobs,
        progress=False,
        engine="auto",
    )
    elapsed = time.perf_counter() - start
    best = result.best
    settings = result.screened.groupby(["sites", "extend_recruitment_months"]).ngroups
    print(machine_line())
    print(f"designs screened: {len(result.screened)} over {settings} recruitment settings")
    print(f"designs confirmed by full simulation: {len(result.confirmed)} x {args.replicates} replicates at p1 and p0")
    print(f"whole search: {elapsed:.1f} s with --jobs {args.jobs}")
    print(f"recommended: {best.design.describe() if best else 'none'}")


if __name__ == "__main__":
    main()
