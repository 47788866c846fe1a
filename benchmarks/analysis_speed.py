"""Where a replicate's time goes: the analysis one at a time against batched, and the vector engine's stages.

Usage: python benchmarks/analysis_speed.py [--replicates N] [--scenario NAME]

The same SimPy histories are analysed one at a time by the tests' oracle (``tests/replicate_analysis.py``,
Kaplan-Meier through ``scipy.stats.ecdf``) and by :func:`sim.analysis.batch.analyse_batch`, whose
columns are equal bit for bit (``tests/test_batch_analysis.py``). Then one chunk of the vector engine is timed stage by
stage: drawing arrivals and patients, planning journeys (both shared with the SimPy engine),
enrollment, analysis. Not a test: speed depends on the machine.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim.analysis.batch import HistoryBatch, analyse_batch, response_test
from sim.engines.contract import replicate_seeds
from sim.engines.des import simulate_trial
from sim.model.journey import plan_journeys
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario


def main() -> None:
    """Print both timings for the chosen scenario."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the per-replicate analysis is a test oracle
    from tests.replicate_analysis import analyse_replicate

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


def _best(run: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of ``repeats`` runs, in seconds (other work on the machine only slows a run down)."""
    fastest = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def vector_stages(model: TrialModel, replicates: int) -> None:
    """Microseconds per replicate of each stage of one vector-engine chunk of ``replicates`` (no looks).

    Also the floor under the patient stage: generating only the random numbers the shared patient
    model draws for the chunk's patients (numpy's generator, nothing else).
    """
    from sim.engines import RunPlan, resolve_engine, run_chunk
    from sim.engines.vector import layout, simulate_histories
    from sim.engines.vector.enrollment import enroll

    blocks = -(-replicates // layout.SEED_BLOCK)
    size = blocks * layout.SEED_BLOCK
    arrivals, streams, models = layout._block_streams(model, 1, 0, blocks - 1)
    target, close = model.scenario.trial.sample_size, model.close_day
    enrollment = enroll(arrivals, size, target, close, np.full(size, np.inf), [])
    latent = layout._patients_of_blocks(models, copy.deepcopy(streams))(enrollment.count)
    patients, cycles, scans = int(enrollment.count.sum()), model.patients.max_cycles, model.patients.max_scans
    rng = np.random.default_rng(1)

    def random_numbers() -> None:  # per patient: eight uniforms; per cycle: one uniform; per scan: an offset
        rng.random((8, patients))
        rng.random((cycles, patients))
        rng.integers(-7, 8, (scans, patients))

    batch = simulate_histories(model, 1, 0, size)
    plan = RunPlan(model, 1, resolve_engine("vector"))  # made by the driver, outside any chunk's time
    test = plan.response_test
    times = {
        "drawing arrivals": _best(lambda: layout._block_streams(model, 1, 0, blocks - 1)),
        "enrollment": _best(lambda: enroll(arrivals, size, target, close, np.full(size, np.inf), [])),
        "drawing the enrolled patients (shared patient model)": _best(
            lambda: layout._patients_of_blocks(models, copy.deepcopy(streams))(enrollment.count)
        ),
        "  of which the random numbers alone": _best(random_numbers),
        "planning their journeys (shared journey)": _best(lambda: plan_journeys(model.patients, latent)),
        "analysis": _best(lambda: analyse_batch(batch, model, test)),
        "the whole chunk, tables included": _best(lambda: run_chunk(plan, 0, size)),
    }
    print(f"vector engine, one chunk of {size} replicates, one core, fastest of 5:")
    for stage, seconds in times.items():
        print(f"  {stage:53s}: {seconds / size * 1e6:6.0f} µs/replicate")


if __name__ == "__main__":
    main()
