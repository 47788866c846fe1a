"""Replicates per second of the base scenario: engine alone and the full run, 1 and 2 jobs.

Usage: python benchmarks/engine_speed.py [--replicates N] [--scenario NAME]
Not a test: speed depends on the machine; this prints figures to compare across changes.
"""

from __future__ import annotations

import argparse
import time

from sim.engine import simulate_trial
from sim.runner import replicate_seeds, run
from sim.scenario import load_scenario
from sim.trial_model import TrialModel


def engine_rate(scenario_name: str, replicates: int) -> float:
    """Replicates/s of the SimPy engine alone (simulation to study end, no analysis), one core."""
    model = TrialModel.from_scenario(load_scenario(scenario_name))
    seeds = replicate_seeds(1, 0, replicates)
    start = time.perf_counter()
    for seed in seeds:
        simulate_trial(model, seed)
    return replicates / (time.perf_counter() - start)


def run_rate(scenario_name: str, replicates: int, jobs: int) -> float:
    """Replicates/s of a whole run: simulate, cut, analyse, summarise."""
    scenario = load_scenario(scenario_name)
    start = time.perf_counter()
    run(scenario, replicates=replicates, seed=1, n_jobs=jobs, progress=False)
    return replicates / (time.perf_counter() - start)


def main() -> None:
    """Print the rates for the chosen scenario and replicate count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=4000)
    parser.add_argument("--scenario", default="base")
    args = parser.parse_args()
    print(f"scenario {args.scenario}, {args.replicates} replicates")
    print(f"engine only, 1 core : {engine_rate(args.scenario, args.replicates):8.0f} replicates/s")
    for jobs in (1, 2):
        print(f"full run, {jobs} job(s)  : {run_rate(args.scenario, args.replicates, jobs):8.0f} replicates/s")


if __name__ == "__main__":
    main()
