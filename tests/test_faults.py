"""Faults a user meets: a run killed with SIGKILL leaves no worker behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TRIALSIM = Path(sys.executable).with_name("trialsim")


def _descendants(pid: int) -> set[int]:
    """Process ids whose parent chain leads to ``pid`` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_exit_when_the_run_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "k"
    run = subprocess.Popen(
        [str(TRIALSIM), "run", "--replicates", "20000", "--jobs", "2", "--out", str(out), "--no-progress"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("chunks/chunk-*.parquet")):
            assert run.poll() is None and time.monotonic() < deadline, "the run never saved a chunk"
            time.sleep(0.2)
        workers = _descendants(run.pid)
        assert len(workers) >= 2
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 15
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [w for w in workers if _alive(w)] == []
    finally:
        if run.poll() is None:
            run.kill()
        run.stdout.close()


def test_a_worker_started_after_its_driver_died_exits_at_once() -> None:
    """A loky worker names the driver it must outlive; if that is already gone, it exits instead of idling."""
    code = "import time; from sim.runs.dispatch import watch_parent; watch_parent(-1, parent=-5); time.sleep(60)"
    started = time.monotonic()
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 1
    assert time.monotonic() - started < 20
