"""Where a replicate's time goes: the analysis one at a time against batched, and the vector engine's stages.

Usage: python benchmarks/analysis_speed.py [--replicates N] [--scenario NAME]

The same SimPy histories are analysed by :func:`sim.analyse.analyse_replicate` (Kaplan-Meier through
``scipy.stats.ecdf``) and by :func:`sim.batch_analysis.analyse_batch`, whose columns are equal bit
for bit (``tests/test_batch_analysis.py``). Then one chunk of the vector engine is timed stage by
stage: drawing arrivals and patients, planning journeys (both shared with the SimPy engine),
enrollment, analysis. Not a test: speed depends on the machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sim.analyse import analyse_replicate, response_test
from sim.batch_analysis import HistoryBatch, analyse_batch
from sim.engine import simulate_trial
from sim.journey import plan_journeys
from sim.run_plan import replicate_seeds
from sim.scenario import load_scenario
from sim.trial_model import TrialModel


def main() -> None:
    """Print both timings for the chosen scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--scenario", default="base")
    args = parser.parse_args()
    model = TrialModel.from_scenario(load_scenario(args.scenario))
    histories = [simulate_trial(model, s) for s in replicate_seeds(1, 0, args.replicates)]
    test = response_test(model.scenario.analysis)
    start = time.perf_counter()
    for history in histories:
        analyse_replicate(history, model, test)
    one = (time.perf_counter() - start) / args.replicates * 1e6
    start = time.perf_counter()
    analyse_batch(HistoryBatch.from_histories(histories), model, response_test(model.scenario.analysis))
    batched = (time.perf_counter() - start) / args.replicates * 1e6
    print(f"scenario {args.scenario}, {args.replicates} replicates, analysis only, one core")
    print(f"one replicate at a time : {one:8.0f} µs/replicate")
    print(f"batched                 : {batched:8.0f} µs/replicate ({one / batched:.0f}x)")
    vector_stages(model, args.replicates)


def vector_stages(model: TrialModel, replicates: int) -> None:
    """Microseconds per replicate of each stage of one vector-engine chunk of ``replicates`` (no looks)."""
    from sim.vector_engine import layout, simulate_histories
    from sim.vector_engine.enrollment import enroll

    blocks = -(-replicates // layout.SEED_BLOCK)
    size = blocks * layout.SEED_BLOCK
    times = {}
    start = time.perf_counter()
    arrivals, streams = layout._block_streams(model, 1, 0, blocks - 1)
    times["drawing arrivals"] = time.perf_counter() - start
    start = time.perf_counter()
    enrollment = enroll(arrivals, size, model.scenario.trial.sample_size, model.close_day, np.full(size, np.inf), [])
    times["enrollment"] = time.perf_counter() - start
    start = time.perf_counter()
    latent = layout._patients_of_blocks(model, streams)(enrollment.count)
    times["drawing the enrolled patients (shared patient model)"] = time.perf_counter() - start
    start = time.perf_counter()
    plan_journeys(model.patients, latent)
    times["planning their journeys (shared journey)"] = time.perf_counter() - start
    batch = simulate_histories(model, 1, 0, size)
    start = time.perf_counter()
    analyse_batch(batch, model, response_test(model.scenario.analysis))
    times["analysis"] = time.perf_counter() - start
    print(f"vector engine, one chunk of {size} replicates, one core:")
    for stage, seconds in times.items():
        print(f"  {stage:53s}: {seconds / size * 1e6:6.0f} µs/replicate")


if __name__ == "__main__":
    main()
