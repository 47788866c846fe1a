"""Runs on a real Dask cluster: a ``distributed.LocalCluster`` of two worker processes.

Results must equal ``--jobs 1`` for every engine, cluster and chunk size; a worker killed mid-task
costs only time; a driver killed mid-run resumes from the checkpoints it wrote; without Dask,
``--backend dask`` says how to install it. Dask comes with the test extra, which ``.ci/run``
installs: in CI a missing Dask fails these tests instead of skipping them. On a developer's
machine without it they are skipped, saying how to install it (the missing-extra tests run anyway).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import joblib
import pandas as pd
import pytest

import sim
import sim.runs.dispatch as dispatch
from sim.cli import main
from sim.engines import ENGINES
from sim.engines.des import simulate_trial
from sim.runs.dispatch import INSTALL_HINT, BackendError
from sim.runs.runner import run
from sim.runs.sweep import build_cells, run_grid

ROOT = Path(__file__).resolve().parents[1]


def _engines() -> list[str]:
    """``des`` always, and every other registered engine whose module is in the package."""

    def present(module: str) -> bool:
        path = Path(sim.__file__).parent.joinpath(*module.split(".")[1:])
        return path.with_suffix(".py").exists() or (path / "__init__.py").exists()

    return ["des", *(name for name, (module, _) in ENGINES.items() if name != "des" and present(module))]


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The address of a LocalCluster with two single-threaded worker processes, shared by this module."""
    try:
        import distributed
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the Dask backend: {INSTALL_HINT}")
        pytest.skip(f"Dask is not installed; {INSTALL_HINT}")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def client(cluster: str) -> Iterator[object]:
    """A client of the shared cluster, for looking at its workers."""
    import distributed

    with distributed.Client(cluster, set_as_default=False) as connected:
        yield connected


def _worker_pids(client) -> set[int]:
    return set(client.run(os.getpid).values())


@pytest.mark.parametrize("engine", _engines())
def test_identical_to_one_job_for_any_chunk_size(engine, base, cluster) -> None:
    patients = engine == "des"
    alone = run(base, replicates=24, seed=3, n_jobs=1, engine=engine, keep_patients=patients, progress=False)
    for chunk in (5, 24):
        spread = run(
            base, replicates=24, seed=3, engine=engine, chunk_size=chunk, keep_patients=patients,
            backend="dask", scheduler=cluster, progress=False,
        )
        pd.testing.assert_frame_equal(alone.replicates, spread.replicates)
        pd.testing.assert_frame_equal(alone.looks, spread.looks)
        if patients:
            pd.testing.assert_frame_equal(alone.patients, spread.patients)
        assert alone.summary.to_dict() == spread.summary.to_dict()


def test_a_grid_on_the_cluster_equals_the_grid_on_one_job(cluster, tmp_path, capsys) -> None:
    grid = ["sweep", "--vary", "efficacy.orr=0.1,0.3", "--replicates", "12", "--chunk-size", "4", "--seed", "5"]
    assert main([*grid, "--jobs", "1", "--no-progress", "--out", str(tmp_path / "one.csv")]) == 0
    capsys.readouterr()
    spread = [*grid, "--backend", "dask", "--scheduler", cluster, "--progress", "--out", str(tmp_path / "dask.csv")]
    assert main(spread) == 0
    bars = capsys.readouterr().err.replace("\r", "\n")
    assert "sensitivity grid, cell 2 of 2: 100%" in bars and "24/24" in bars
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "one.csv"), pd.read_csv(tmp_path / "dask.csv"))
    assert len(list((tmp_path / "dask.csv.chunks").glob("*/chunk-*[0-9].parquet"))) == 6


def test_joblib_parallel_config_dask_runs_on_the_client(base, cluster, client, tmp_path) -> None:
    alone = run(base, replicates=8, seed=5, chunk_size=2, progress=False)
    with type(client)(cluster), joblib.parallel_config("dask"):  # joblib finds the default client
        inside = run(base, replicates=8, seed=5, chunk_size=2, engine=_Recorded(str(tmp_path)), progress=False)
    pd.testing.assert_frame_equal(alone.replicates, inside.replicates)
    ran_on = {int(p.name) for p in tmp_path.iterdir()}
    assert ran_on and ran_on <= _worker_pids(client)


def test_a_worker_killed_mid_task_costs_only_time(base, cluster, client, tmp_path) -> None:
    marker = tmp_path / "killed"
    alone = run(base, replicates=30, seed=7, n_jobs=1, chunk_size=5, progress=False)
    before = _worker_pids(client)
    survived = run(
        base, replicates=30, seed=7, chunk_size=5, engine=_DiesOnce(str(marker), replicate=12),
        backend="dask", scheduler=cluster, checkpoint_dir=tmp_path / "chunks", progress=False,
    )
    assert marker.exists()  # a worker process did die, half way through replicates 10-14
    pd.testing.assert_frame_equal(alone.replicates, survived.replicates)
    pd.testing.assert_frame_equal(alone.looks, survived.looks)
    assert len(list((tmp_path / "chunks").glob("chunk-*[0-9].parquet"))) == 6
    client.wait_for_workers(2, timeout=30)  # the nanny has restarted the worker it lost
    assert len(_worker_pids(client) - before) == 1


DRIVER = """
import sys
from sim.runs.runner import run
from tests.test_dask import _Paced
run("base", replicates=40, seed=9, chunk_size=2, engine=_Paced(0.04), backend="dask", scheduler=sys.argv[1],
    checkpoint_dir=sys.argv[2], progress=False)
"""


def test_a_driver_killed_mid_run_resumes_from_its_checkpoints(base, cluster, tmp_path) -> None:
    folder = tmp_path / "chunks"
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, cluster, str(folder)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while len(list(folder.glob("chunk-*[0-9].parquet"))) < 3 and driver.poll() is None:
            assert time.monotonic() < deadline, "the driver saved no checkpoints"
            time.sleep(0.05)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    assert driver.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    saved = len(list(folder.glob("chunk-*[0-9].parquet")))
    assert 3 <= saved < 20
    resumed = run(
        base, replicates=40, seed=9, chunk_size=2, engine=_Paced(0.0), backend="dask", scheduler=cluster,
        checkpoint_dir=folder, progress=False,
    )
    assert resumed.reused_chunks >= saved and resumed.notes[0].startswith("resumed: reused")
    pd.testing.assert_frame_equal(resumed.replicates, run(base, replicates=40, seed=9, progress=False).replicates)


def test_the_command_line_starts_a_local_cluster_and_shows_progress(cluster, capsys) -> None:
    small = ["run", "--replicates", "20", "--chunk-size", "5", "--seed", "4"]
    assert main([*small, "--no-progress"]) == 0
    alone = capsys.readouterr().out
    assert main([*small, "--backend", "dask", "--jobs", "2", "--progress"]) == 0
    shown = capsys.readouterr()
    assert shown.out == alone
    assert "replicates: 100%" in shown.err and "20/20" in shown.err


def test_workers_with_other_trialsim_source_are_refused(base, cluster, monkeypatch) -> None:
    driver, real = os.getpid(), dispatch.code_fingerprint
    # sent to the workers too, where it gives the real fingerprint
    monkeypatch.setattr(dispatch, "code_fingerprint", lambda: "edited since" if os.getpid() == driver else real())
    with pytest.raises(BackendError, match="run other trialsim source than this driver"):
        run(base, replicates=2, backend="dask", scheduler=cluster, progress=False)


def test_an_unreachable_scheduler_is_one_line(cluster, capsys) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main(["run", "--replicates", "2", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trialsim: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9") and err.count("\n") == 1


@pytest.mark.parametrize(
    "address, reason",
    [
        ("foo://127.0.0.1:1", "unknown address scheme 'foo'"),
        ("nonsense", "missing port number"),
        ("tcp://127.0.0.1:notaport", "invalid literal"),
    ],
)
def test_an_address_dask_cannot_parse_is_one_line_at_once(address, reason, tmp_path, capsys) -> None:
    """Refused before a client is made (a half-made client holds the exit for a minute), nothing left behind."""
    out = tmp_path / "oc.csv"
    words = ["oc", "--replicates", "2", "--orr", "0.2", "--backend", "dask", "--scheduler", address, "--out", str(out)]
    assert main([*words, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trialsim: error: {address} is not a Dask scheduler address (") and reason in err
    assert err.count("\n") == 1
    assert not list(tmp_path.rglob("manifest.json"))


def test_an_unreachable_scheduler_leaves_no_checkpoint_behind(cluster, tmp_path, capsys) -> None:
    import dask

    out = tmp_path / "oc.csv"
    words = ["oc", "--replicates", "2", "--orr", "0.1,0.2", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9"]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        assert main([*words, "--out", str(out), "--no-progress"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not list(tmp_path.rglob("manifest.json")) and not list(tmp_path.rglob("chunk-*"))


def test_without_dask_the_backend_says_how_to_install_it(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` now raises ImportError
    assert main(["run", "--replicates", "2", "--backend", "dask", "--no-progress"]) == 2
    assert capsys.readouterr().err == f"trialsim: error: {INSTALL_HINT}\n"
    assert 'pip install "trialsim[dask]"' in INSTALL_HINT
    cells = build_cells("base", [], {"efficacy.orr": ["0.2"]})
    with pytest.raises(BackendError, match=r"trialsim\[dask\]"):
        run_grid(cells, replicates=2, backend="dask", progress=False)
    # nothing else changes without it
    assert main(["run", "--replicates", "2", "--jobs", "2", "--no-progress"]) == 0


def test_a_scheduler_needs_the_dask_backend(base) -> None:
    with pytest.raises(BackendError, match="needs backend='dask'"):
        run(base, replicates=2, scheduler="tcp://127.0.0.1:8786", progress=False)


class _Recorded:
    """The SimPy engine, leaving a file named for the process each replicate ran in."""

    name = "recorded-des"

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def __call__(self, model, seed):
        Path(self.folder, str(os.getpid())).touch()
        return simulate_trial(model, seed)


class _DiesOnce:
    """The SimPy engine, except that the first process to reach ``replicate`` is killed (SIGKILL) there."""

    name = "des-with-a-dying-worker"

    def __init__(self, marker: str, replicate: int) -> None:
        self.marker, self.replicate = marker, replicate

    def __call__(self, model, seed):
        if seed.spawn_key[-1] == self.replicate:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return simulate_trial(model, seed)


class _Paced:
    """The SimPy engine, slowed down so that a run lasts long enough to be killed half way."""

    name = "paced-des"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self, model, seed):
        time.sleep(self.seconds)
        return simulate_trial(model, seed)
