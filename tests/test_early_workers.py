"""Workers started before the command line's imports (issue 25): who gets them, and that the run reuses them."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import joblib
import pytest
from joblib.externals.loky import reusable_executor

from sim.cli import build_parser
from sim.cli.early_workers import RUN_DEFAULTS, workers_wanted
from sim.runs.dispatch import Dispatch
from sim.runs.settings import DEFAULT_CHUNK, DEFAULT_REPLICATES
from sim.runs.workers import start_workers


def test_the_early_reading_knows_the_run_defaults() -> None:
    assert RUN_DEFAULTS == (DEFAULT_REPLICATES, DEFAULT_CHUNK)
    assert build_parser("run").parse_args(["run"]).replicates == DEFAULT_REPLICATES


@pytest.mark.parametrize(
    ("words", "wanted"),
    [
        (["run", "--jobs", "2"], 2),  # 1,000 replicates: four chunks
        (["run", "--jobs", "2", "--replicates", "10000", "--engine", "vector"], 2),
        (["run", "--jobs", "2", "--replicates", "200"], 0),  # one chunk runs in this process
        (["run", "--jobs", "2", "--replicates", "600", "--chunk-size", "500"], 2),
        (["run", "--jobs", "1"], 0),
        (["run"], 0),  # joblib's own setting decides
        (["run", "--jobs", "2", "--backend", "threading"], 0),
        (["run", "--jobs", "2", "--backend", "dask"], 0),
        (["run", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"], 0),
        (["run", "--jobs", "two"], 0),  # the full parser reports it
        (["oc", "--jobs", "2", "--replicates", "10"], 2),  # a grid: many cells
        (["forecast", "base", "--jobs", "2", "--replicates", "200"], 2),  # the likelihood, then four runs
        (["check", "--jobs", "2"], 0),
    ],
)
def test_workers_are_started_early_only_for_a_run_that_uses_loky_workers(words: list[str], wanted: int) -> None:
    assert workers_wanted(words) == wanted


def test_all_cores_are_as_many_as_the_machine_has_and_more_are_not_started_early() -> None:
    cores = os.cpu_count() or 1
    assert workers_wanted(["run", "--jobs", "-1", "--replicates", "100000"]) == (cores if cores > 1 else 0)
    assert workers_wanted(["oc", "--jobs", str(cores + 1)]) == 0


def test_a_command_that_fails_waits_for_its_workers_quietly() -> None:
    """Closing without the run: joblib's tasks finish (withdrawing one breaks loky's manager thread)."""
    warm = start_workers(2)
    warm.close()
    assert warm.pending is None
    warm.close()  # twice is harmless


def test_the_run_dispatches_to_the_workers_started_early() -> None:
    """joblib hands the run the executor started early: the run's tasks land on those very processes."""
    warm = start_workers(2)
    warm.finish()
    started = set(reusable_executor._executor._processes)  # the worker processes' ids
    assert len(started) == 2 and os.getpid() not in started
    parallel = Dispatch(2, None)._parallel(4)
    used = set(parallel(joblib.delayed(os.getpid)() for _ in range(8)))
    assert used <= started and set(reusable_executor._executor._processes) == started


def test_a_forecasts_likelihood_runs_on_the_workers_started_early() -> None:
    """The likelihood's patients go to the run's workers (Dispatch.map), in order, with no new processes."""
    warm = start_workers(2)
    warm.finish()
    started = set(reusable_executor._executor._processes)
    with Dispatch(2, "loky") as workers:
        found = workers.map(divmod, [(n, 3) for n in range(9)])
        used = set(workers.map(os.getpid, [()] * 6))
    assert found == [divmod(n, 3) for n in range(9)]
    assert used <= started and set(reusable_executor._executor._processes) == started


WORKER_PROBE = """
import pickle, sys
from sim.runs.workers import import_worker_modules
import_worker_modules()
imported = 'scipy.stats' in sys.modules
from sim.engines.chunk import run_chunk
tables = run_chunk(pickle.loads(sys.stdin.buffer.read()), 0, 40)
print(imported, 'scipy.stats' in sys.modules, len(tables.replicates))
"""
"""A fresh process doing what a loky worker does: its imports, then one chunk of a plan from the driver."""


@pytest.mark.parametrize("engine", ["des", "vector"])
@pytest.mark.parametrize("case", ["base", "simon", "replace_evaluable"])
def test_a_worker_never_imports_scipy_stats(engine: str, case: str) -> None:
    """The driver tabulates the test, so a worker's chunk reads it and never loads ``scipy.stats`` (docs/engines.md)."""
    from sim.engines import resolve_engine
    from sim.engines.contract import RunPlan
    from sim.model.trial_model import TrialModel
    from sim.scenario import load_scenario
    from tests.data.make_golden import CASES

    name, overrides = CASES[case]
    plan = RunPlan(TrialModel.from_scenario(load_scenario(name, overrides)), 7, resolve_engine(engine), True)
    probe = subprocess.run([sys.executable, "-c", WORKER_PROBE], input=pickle.dumps(plan), capture_output=True)
    assert probe.returncode == 0, probe.stderr.decode()
    assert probe.stdout.decode().split() == ["False", "False", "40"]
