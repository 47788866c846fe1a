"""Mutation testing over a kept list of semantic mutants: does a test catch each plausible bug?

Each mutant in ``tools/mutation/mutants.toml`` is one small bug a reviewer could write (a boundary
moved by one, a rule dropped, a unit confused), given as an exact snippet of a file under ``sim/``
and its replacement, with the test files that should catch it. For each mutant the harness:

1. works in a **copy** of the repository (``.git``, ``.venv`` and caches left out), never in the
   working tree, so other people's edits and this checkout are never touched;
2. replaces the snippet (which must occur exactly once, or the mutant is reported *stale*);
3. runs its test files there with ``python -m pytest`` from the copy's folder and
   ``PYTHONPATH=<copy>``, so ``import sim`` resolves to the mutated copy rather than the editable
   install (a canary mutant that breaks ``import sim.model.recist`` must be killed, or the run aborts);
4. restores the file.

A mutant is *killed* when a test that passes on the unmutated copy fails (tests that already fail
there are deselected, and named in the output). The score is killed / (mutants not marked
``equivalent``). Mutants marked ``equivalent`` carry the reason no test can tell them apart; a
``deferred`` one is listed but not run (its module is being rewritten). ``kind = "stream"``
mutants change only the random stream: every test except the golden pins should let them
survive, so a test that kills one is brittle (``--kind stream`` runs them).

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python tools/mutation/run.py                 # every semantic mutant
    .venv/bin/python tools/mutation/run.py --only J-max-duration-start O-pfs-censor-at-cutoff
    .venv/bin/python tools/mutation/run.py --kind stream   # look for seed-brittle tests
    .venv/bin/python tools/mutation/run.py --tests-from /tmp/old-tests   # score an older test suite

Not part of CI (a full run takes minutes); run it before resolving an issue that touches the model.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[2]
MUTANTS = Path(__file__).with_name("mutants.toml")
LEFT_OUT = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache", ".ruff_cache", "*.egg-info"
)
SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (\S+)")
GOLDEN = "tests/test_regression.py"
"""Golden pins of seeded output: the only tests a stream mutant is meant to fail."""


@dataclass(frozen=True)
class Mutant:
    """One semantic mutant: a snippet of ``file`` and its replacement, and the tests meant to catch it."""

    id: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    description: str
    kind: str = "semantic"
    equivalent: str = ""
    deferred: str = ""
    canary: bool = False


@dataclass
class Outcome:
    """What happened to one mutant."""

    mutant: Mutant
    status: str  # killed, survived, stale, timeout, no-tests
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)
    note: str = ""


def load_mutants(path: Path = MUTANTS) -> list[Mutant]:
    """The kept list, checked: unique ids, and the fields every mutant needs."""
    entries = tomllib.loads(path.read_text(encoding="utf-8"))["mutant"]
    mutants = []
    for entry in entries:
        entry = dict(entry)
        entry["tests"] = tuple(entry["tests"])
        mutants.append(Mutant(**entry))
    ids = [m.id for m in mutants]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise SystemExit(f"{path}: duplicated mutant ids {duplicated}")
    return mutants


def make_copy(dest: Path, tests_from: Path | None) -> Path:
    """A copy of the repository at ``dest`` (optionally with another tests folder)."""
    shutil.copytree(REPO, dest, ignore=LEFT_OUT)
    if tests_from is not None:
        shutil.rmtree(dest / "tests")
        shutil.copytree(tests_from, dest / "tests", ignore=LEFT_OUT)
    return dest


def environment(copy: Path) -> dict[str, str]:
    """The copy first on the path, and no bytecode (a mutated file may keep its size and mtime second)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def pytest(
    python: str, copy: Path, tests: list[str], deselect: list[str], timeout: float, first_failure: bool
) -> tuple[int | None, str, float]:
    """Run pytest in the copy; (return code or None on timeout, output, seconds)."""
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", "--no-header"]
    if first_failure:
        command.append("-x")
    for node in deselect:
        command += ["--deselect", node]
    command += tests
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=copy,
        env=environment(copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        code = None
    return code, output, time.perf_counter() - start


def failing_tests(output: str) -> list[str]:
    """Node ids in pytest's short summary (FAILED and ERROR lines)."""
    found = []
    for line in output.splitlines():
        match = SUMMARY_LINE.match(line)
        if match:
            found.append(match.group(2))
    return found


def check_import_path(python: str, copy: Path) -> None:
    """``import sim`` in the copy must load the copy's package, not the editable install."""
    probe = subprocess.run(
        [python, "-c", "import sim, tests; print(sim.__file__); print(tests.__file__)"],
        cwd=copy,
        env=environment(copy),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in probe.stdout.split():
        if not Path(line).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"import resolves to {line}, not to the copy {copy}: mutants would not be tested")


class Worker:
    """One copy of the repository and the mutants run in it, one at a time."""

    def __init__(self, root: Path, python: str, tests_from: Path | None, timeout: float) -> None:
        self.copy = make_copy(root / "repo", tests_from)
        self.python, self.timeout = python, timeout
        self.deselect: list[str] = []
        self.broken_files: set[str] = set()
        check_import_path(python, self.copy)

    def baseline(self, tests: list[str]) -> tuple[list[str], float]:
        """Tests failing on the unmutated copy; they are deselected from every mutant's run."""
        code, output, seconds = pytest(self.python, self.copy, tests, [], self.timeout * 4, first_failure=False)
        if code is None:
            raise SystemExit("the unmutated tests timed out")
        failing = failing_tests(output)
        self.deselect = [node for node in failing if "::" in node]
        self.broken_files = {node for node in failing if "::" not in node}
        return failing, seconds

    def run(self, mutant: Mutant, stream: bool = False) -> Outcome:
        """Apply one mutant, run its tests, restore the file."""
        target = self.copy / mutant.file
        source = target.read_text(encoding="utf-8")
        count = source.count(mutant.original)
        if count != 1:
            return Outcome(mutant, "stale", note=f"the original snippet occurs {count} times in {mutant.file}")
        tests = [t for t in mutant.tests if (self.copy / t.split("::")[0]).exists() and t not in self.broken_files]
        if not tests:
            return Outcome(mutant, "no-tests", note="none of its test files exist in this test suite")
        target.write_text(source.replace(mutant.original, mutant.replacement), encoding="utf-8")
        try:
            code, output, seconds = pytest(
                self.python, self.copy, tests, self.deselect, self.timeout, first_failure=not stream
            )
        finally:
            target.write_text(source, encoding="utf-8")
        if code is None:
            return Outcome(mutant, "timeout", seconds, note=f"tests ran longer than {self.timeout:g} s")
        if code == 0:
            return Outcome(mutant, "survived", seconds)
        if code == 5:
            return Outcome(mutant, "no-tests", seconds, note="no test was collected")
        failing = failing_tests(output)
        note = "" if failing else output.strip().splitlines()[-1] if output.strip() else f"pytest exit {code}"
        return Outcome(mutant, "killed", seconds, failing, note)


def run_all(mutants: list[Mutant], workers: list[Worker], stream: bool) -> list[Outcome]:
    """Every mutant, spread over the workers' copies; outcomes in list order."""
    todo: queue.Queue[tuple[int, Mutant]] = queue.Queue()
    for item in enumerate(mutants):
        todo.put(item)
    results: dict[int, Outcome] = {}
    lock = threading.Lock()

    def work(worker: Worker) -> None:
        while True:
            try:
                index, mutant = todo.get_nowait()
            except queue.Empty:
                return
            outcome = worker.run(mutant, stream)
            with lock:
                results[index] = outcome
                first = (
                    f"  [{outcome.failing[0]}]" if outcome.failing else f"  ({outcome.note})" if outcome.note else ""
                )
                print(f"{outcome.status:>9}  {outcome.seconds:6.1f}s  {mutant.id}{first}", flush=True)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [results[i] for i in range(len(mutants))]


def report(outcomes: list[Outcome], deferred: list[Mutant]) -> dict[str, object]:
    """Print the score and the survivors; return the same as a JSON-ready dict."""
    counted = [o for o in outcomes if not o.mutant.equivalent and o.status != "stale"]
    killed = [o for o in counted if o.status in ("killed", "timeout")]
    survivors = [o for o in counted if o.status not in ("killed", "timeout")]
    equivalent = [o for o in outcomes if o.mutant.equivalent]
    stale = [o for o in outcomes if o.status == "stale" and not o.mutant.equivalent]
    score = len(killed) / len(counted) if counted else float("nan")
    print(f"\nscore: {len(killed)}/{len(counted)} semantic mutants killed ({score:.0%})")
    if survivors:
        print("survivors:")
        for o in survivors:
            print(f"  {o.mutant.id} ({o.mutant.file}): {o.mutant.description}" + (f" [{o.note}]" if o.note else ""))
    if equivalent:
        print("marked equivalent (not scored):")
        for o in equivalent:
            flag = "  <- KILLED: not equivalent, fix the list" if o.status == "killed" else ""
            print(f"  {o.mutant.id}: {o.mutant.equivalent}{flag}")
    if stale:
        print("stale (snippet not found once; update the list):")
        for o in stale:
            print(f"  {o.mutant.id}: {o.note}")
    if deferred:
        print("deferred (not run):")
        for m in deferred:
            print(f"  {m.id}: {m.deferred}")
    return {
        "score": score,
        "killed": len(killed),
        "counted": len(counted),
        "outcomes": [
            {
                "id": o.mutant.id,
                "status": o.status,
                "seconds": round(o.seconds, 1),
                "failing": o.failing,
                "note": o.note,
            }
            for o in outcomes
        ],
    }


def report_stream(outcomes: list[Outcome]) -> dict[str, object]:
    """Stream mutants should survive every non-golden test: list the tests that killed one."""
    brittle = sorted({node for o in outcomes for node in o.failing if not node.startswith(GOLDEN)})
    print(f"\nstream mutants: {len(outcomes)}; tests other than the golden pins ({GOLDEN}) that failed:")
    for node in brittle:
        print(f"  brittle: {node}")
    return {
        "brittle": brittle,
        "outcomes": [{"id": o.mutant.id, "status": o.status, "failing": o.failing} for o in outcomes],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the kept mutants (or a selection) and print the score and the survivors."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants (the canary always runs)")
    parser.add_argument("--kind", choices=("semantic", "stream"), default="semantic")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="copies run side by side")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant before it counts as killed")
    parser.add_argument("--tests-from", type=Path, help="use this tests folder instead of the repository's")
    parser.add_argument("--python", default=sys.executable, help="interpreter with the project's dependencies")
    parser.add_argument("--json", type=Path, help="also write the outcomes here")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)

    everything = load_mutants()
    if args.list:
        for m in everything:
            print(f"{m.id:40} {m.kind:8} {m.file:28} {m.description}")
        return 0
    canaries = [m for m in everything if m.canary]
    chosen = [m for m in everything if m.kind == args.kind and not m.canary and not m.deferred]
    if args.only:
        unknown = set(args.only) - {m.id for m in everything}
        if unknown:
            raise SystemExit(f"unknown mutant ids: {sorted(unknown)}")
        chosen = [m for m in chosen if m.id in args.only]
    deferred = [m for m in everything if m.deferred and (not args.only or m.id in args.only)]

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trialsim-mutation-") as tmp:
        workers = [Worker(Path(tmp) / f"w{k}", args.python, args.tests_from, args.timeout) for k in range(args.jobs)]
        print(f"copies of {REPO} in {tmp}; tests from {args.tests_from or 'the repository'}")
        for canary in canaries:
            outcome = workers[0].run(canary)
            if outcome.status != "killed":
                raise SystemExit(f"canary {canary.id} {outcome.status}: the tests do not import the mutated copy")
            print(f"   canary  {canary.id} killed: the tests import the copy")
        tests = sorted({t for m in chosen for t in m.tests if (workers[0].copy / t.split("::")[0]).exists()})
        failing, seconds = workers[0].baseline(tests)
        print(f"baseline: {len(tests)} test files in {seconds:.0f} s; {len(failing)} failing without any mutant")
        for node in failing:
            print(f"  deselected (fails unmutated): {node}")
        for w in workers[1:]:
            w.deselect, w.broken_files = workers[0].deselect, workers[0].broken_files
        outcomes = run_all(chosen, workers, stream=args.kind == "stream")
    result = report_stream(outcomes) if args.kind == "stream" else report(outcomes, deferred)
    result["baseline_failing"] = failing
    print(f"\n{len(chosen)} mutants in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
