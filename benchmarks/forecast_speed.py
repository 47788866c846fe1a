"""Where a forecast's time goes: the ORR's likelihood, then the four runs on each engine, in one process.

Usage: python benchmarks/forecast_speed.py [--replicates N] [--repeats N]

The made-up file on the base scenario, as ``trialsim forecast`` builds it: the start state and the
ORR's posterior (the likelihood, the same computation whichever engine runs) are timed once on one
core and once spread over two processes (``--jobs 2``); then
the forecast's four runs (conditional, predictive, sceptical, rate sensitivity) of ``--replicates``
each, on one core, per engine, the fastest of ``--repeats``. ``x des`` divides the SimPy engine's
time by the engine's. Not a test: speed depends on the machine; the docs quote only what this
printed, with its machine line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from machine import machine_line

from sim.forecast import read_observed
from sim.forecast.state import (
    forecast_model,
    orr_prior,
    predictive_state,
    sceptical_prior,
    site_posteriors,
    start_state,
    with_prior,
    with_rates,
)
from sim.model.trial_model import TrialModel
from sim.runs.dispatch import Dispatch
from sim.runs.runner import run
from sim.runs.workers import start_workers
from sim.scenario import load_scenario

OBSERVED = Path(__file__).resolve().parents[1] / "scenarios" / "observed_made_up.csv"
AS_OF = dt.date(2026, 11, 15)
RUN_NAMES = ("conditional", "predictive", "sceptical", "rate sensitivity")


def forecast_models() -> tuple[list[TrialModel], float, float]:
    """The four runs' models of the made-up file's forecast, and the seconds the ORR's posterior took on one core
    and spread over two processes (the second after a first small call has started them)."""
    scenario = load_scenario("base")
    model = TrialModel.from_scenario(scenario)
    observed = read_observed(OBSERVED, scenario, AS_OF)
    state = start_state(model, observed, AS_OF)
    started = time.perf_counter()
    predictive = predictive_state(model, state, orr_prior(model))
    likelihood = time.perf_counter() - started
    start_workers(2).finish()  # as the command line starts them, ahead of the work
    started = time.perf_counter()
    with Dispatch(2, "loky") as workers:
        predictive_state(model, state, orr_prior(model), workers.map)
    spread = time.perf_counter() - started
    doubting = with_prior(predictive, sceptical_prior(model))
    other_sites = site_posteriors(model, observed, AS_OF, True)
    starts = [state, predictive, doubting, with_rates(state, other_sites)]
    return [forecast_model(model, s) for s in starts], likelihood, spread


def seconds(model: TrialModel, engine: str, replicates: int, repeats: int) -> float:
    """The fastest of ``repeats`` one-core runs of ``model`` on ``engine`` (a first small run pays the imports)."""
    run(model, replicates=10, seed=1, n_jobs=1, engine=engine, progress=False)
    best = float("inf")
    for repeat in range(repeats):
        started = time.perf_counter()
        run(model, replicates=replicates, seed=2 + repeat, n_jobs=1, engine=engine, progress=False)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    """Time the likelihood once and each run on each engine; print the times and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print(machine_line())
    models, likelihood, spread = forecast_models()
    print(f"  the made-up file; the ORR's likelihood {likelihood:.1f} s on one core, {spread:.1f} s on two processes")
    print(f"  {args.replicates} replicates a run, one core")
    print(f"  {'run':18s} {'des s':>7s} {'vector s':>9s} {'x des':>6s}")
    totals = {"des": 0.0, "vector": 0.0}
    for name, model in zip(RUN_NAMES, models):
        timed = {engine: seconds(model, engine, args.replicates, args.repeats) for engine in totals}
        for engine, value in timed.items():
            totals[engine] += value
        print(f"  {name:18s} {timed['des']:7.2f} {timed['vector']:9.2f} {timed['des'] / timed['vector']:6.1f}")
    print(f"  {'four runs':18s} {totals['des']:7.2f} {totals['vector']:9.2f} {totals['des'] / totals['vector']:6.1f}")
    print(f"  fastest of {args.repeats}; load average after: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
