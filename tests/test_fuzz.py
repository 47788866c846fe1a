"""Fuzzing: whatever a user types, ``trialsim run`` either runs or refuses in one line that names the culprit.

Hypothesis mutates the shipped scenarios (a field path taken from the file or from the declared
dataclasses, given a value of any TOML type, or removed) and the options of ``run``. Every input
must exit 0, or exit 2 with a single ``trialsim: error:`` line naming the mutated field (or a table
holding it) or the option; never a traceback, never more than :data:`SECONDS` per example or
:data:`MEGABYTES` of peak memory growth. Replicate counts a user may legitimately ask for are kept
tiny (a million replicates is work, not a fault); invalid ones are drawn freely.

``derandomize=True``: the same examples every run, no database, no random seed per run.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import io
import math
import re
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import tomlkit
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.scenario import Scenario, builtin_scenarios, read_scenario_file

SECONDS = 10
"""Most wall-clock time one example may take."""

MEGABYTES = 1024
"""Most the process's peak resident memory may grow during one example."""


def _fuzz(examples: int) -> settings:
    """The same ``examples`` inputs every run (about 15 ms each), no example database, no deadline."""
    return settings(
        derandomize=True,
        database=None,
        deadline=None,
        max_examples=examples,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SHIPPED = {name: read_scenario_file(path) for name, path in builtin_scenarios().items()}

Path_ = tuple[str | int, ...]


# --- where to mutate ---------------------------------------------------------------------------


def _file_paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every table, list and value in a raw scenario, lists by index."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _file_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _file_paths(value, (*prefix, i))
    return found


def _declared_paths(cls: type, prefix: Path_ = ()) -> list[Path_]:
    """Every field the scenario dataclasses declare, lists at entry 0 (many are absent from the files)."""
    found = []
    for fld in (f for f in dataclasses.fields(cls) if f.init):  # source is not a field of the file
        path = (*prefix, fld.name)
        check = fld.metadata["check"]
        found.append(path)
        if check.table is not None:
            found += _declared_paths(check.table, path)
        elif check.item is not None:
            found.append((*path, 0))
            if check.item.table is not None:
                found += _declared_paths(check.item.table, (*path, 0))
    return found


PATHS = sorted({p for raw in SHIPPED.values() for p in _file_paths(raw)} | set(_declared_paths(Scenario)), key=str)


def _written(path: Path_) -> str:
    """A path as messages write it: ``recruitment.sites[0].name``."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def _names(message: str, path: Path_) -> bool:
    """``message`` names the field at ``path``, a table holding it, or a field it constrains.

    A refusal may name the other side of a cross-field rule in the same section: a change to
    ``efficacy.pfs`` may be refused as "efficacy.os_median_months (12) must exceed the PFS median".
    A section's name alone ("trial") is too vague.
    """
    for candidate in [path] + [path[:n] for n in range(2, len(path))]:
        written = re.escape(_written(candidate))
        generic = re.sub(r"\\\[\d+\\\]", r"\\[(?:\\d+|i)\\]", written)  # sites[0] or sites[i]
        if re.search(rf"(?<![\w.]){generic}(?![\w])", message):
            return True
    section = path[0]
    return len(path) > 1 and bool(re.search(rf"(?<![\w.]){re.escape(str(section))}\.\w", message))


# --- what to put there ---------------------------------------------------------------------------

NAN_LIKE = ["nan", "NaN", "inf", "-inf", "1e999", "-0", "", " ", "0x10", "1_000", "1e-400", "None", "null", "true"]

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, -1, 2, 7, 35, 365, 10_000, 10**6, 2**31, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 0.5, 1.0, 1e-300, 5e-324, 1e300, 100.0, 1e6, math.nan, math.inf]),
    st.text(max_size=12),
    st.sampled_from(NAN_LIKE + ["weibull", "exponential", "date", "os_events", "simon", "bayesian", "exact"]),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
KEYS = ["family", "median_months", "shape", "cuts_months", "relative_hazards", "rule", "months", "events", "date",
        "name", "activation", "screened_per_month", "start", "end", "rate_factor", "x"]
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text("abcxyz_", min_size=1, max_size=6)), inner, max_size=4),
    ),
    max_leaves=8,
)


positives = st.one_of(st.floats(1e-9, 1e9), st.sampled_from([1e-300, 0.001, 0.01, 0.1, 0.5, 1.0, 3.0, 50.0, 1000.0, 1e300]))


@st.composite
def distribution_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A distribution table of any family with extreme but positive parameters."""
    family = draw(st.sampled_from(["exponential", "weibull", "loglogistic", "lognormal", "piecewise_exponential"]))
    table: dict[str, Any] = {"family": family, "median_months": draw(positives)}
    if family == "piecewise_exponential":
        cuts = sorted(set(draw(st.lists(positives, min_size=1, max_size=3))))
        table["cuts_months"] = cuts
        table["relative_hazards"] = draw(st.lists(positives, min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    elif family != "exponential":
        table["shape"] = draw(positives)
    return table


@st.composite
def cutoff_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A cutoff rule with its parameter, often legal."""
    rule = draw(st.sampled_from(["after_last_first_dose", "os_events", "date"]))
    value = {"after_last_first_dose": st.floats(0, 700), "os_events": st.integers(-1, 40),
             "date": st.dates(dt.date(2025, 1, 1), dt.date(2060, 1, 1))}[rule]
    return {"rule": rule, {"after_last_first_dose": "months", "os_events": "events", "date": "date"}[rule]: draw(value)}


@st.composite
def monitoring_tables(draw: st.DrawFn) -> dict[str, Any]:
    """A Simon or Bayesian monitoring table with numbers near the legal ones."""
    rule = draw(st.sampled_from(["none", "simon", "bayesian"]))
    table: dict[str, Any] = {"rule": rule, "pause_enrollment": draw(st.booleans()),
                             "judgement_days": draw(st.sampled_from([1, 30, 273, 3650]))}
    if rule == "simon":
        n1 = draw(st.integers(1, 40))
        r1 = draw(st.integers(0, 40))
        table.update(stage1_patients=n1, stage1_max_responders=r1, final_max_responders=draw(st.integers(r1, 40)))
    elif rule == "bayesian":
        table.update(looks=sorted(set(draw(st.lists(st.integers(1, 40), min_size=1, max_size=3)))),
                     futility_predictive=draw(st.floats(0, 1)), success_posterior=draw(st.floats(0, 1)),
                     prior_a=draw(positives), prior_b=draw(positives))
    return table


def _declared_check(path: Path_) -> Any:
    """The check the scenario declares for ``path`` (None if it declares none)."""
    check: Any = None
    cls: Any = Scenario
    for key in path:
        if isinstance(key, int):
            check = check.item if check is not None else None
        else:
            fields = {f.name: f for f in dataclasses.fields(cls) if f.init} if cls is not None else {}
            if key not in fields:
                return None
            check = fields[key].metadata["check"]
        if check is None:
            return None
        cls = check.table or (check.item.table if check.item is not None else None)
    return check


def _edges(path: Path_) -> list[Any]:
    """The ends of a declared numeric range and the values just inside and outside them."""
    check = _declared_check(path)
    found = re.search(r"in ([\[(])(\S+), (\S+)([\])])", check.allowed) if check is not None else None
    if found is None:
        return []
    whole = check.allowed.startswith("a whole number")
    edges: list[Any] = []
    for text in found.group(2, 3):
        if text in ("-inf", "inf"):
            continue
        bound = float(text)
        edges += [int(bound) + d for d in (-1, 0, 1)] if whole else [math.nextafter(bound, -math.inf), bound, math.nextafter(bound, math.inf)]
    return edges


def _near(path: Path_, original: Any) -> st.SearchStrategy[Any]:
    """Extreme-but-plausible values of the original's own kind: where legal values break deep code."""
    if path == ("monitoring",):
        return monitoring_tables()
    if isinstance(original, bool):
        return st.just(not original)
    if isinstance(original, (int, float)):
        scaled = [type(original)(original * f) for f in (0, -1, 1e-9, 1e-3, 0.999, 1.001, 1e3, 1e6, 1e12)]
        return st.sampled_from(_edges(path) + scaled)
    if isinstance(original, dt.date):
        return st.sampled_from([original + dt.timedelta(days=d) for d in (-36_500, -400, -1, 1, 400, 18_000)] + [dt.date(1, 1, 1), dt.date(9999, 12, 31)])
    if isinstance(original, list) and original:
        return st.sampled_from([[], original[:1], original * 50, [original[-1], original[0]]])
    if isinstance(original, dict) and "family" in original:
        return distribution_tables()
    if isinstance(original, dict) and "rule" in original:
        return cutoff_tables()
    return values


@st.composite
def mutations(draw: st.DrawFn, raw: dict[str, Any]) -> list[tuple[Path_, Any]]:
    """One to three (path, new value) changes; the value ``_DELETE`` removes the key.

    Most changes keep the original's type (extreme but often legal: deep code is reached), the
    rest put any TOML value there or remove the key.
    """
    changes = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        path = draw(st.sampled_from(PATHS))
        original = _get(raw, path)
        absent = original is _ABSENT and path != ("monitoring",)
        kind = "any" if absent else draw(st.sampled_from(["near", "near", "near", "any", "delete"]))
        if kind == "near":
            changes.append((path, draw(_near(path, original))))
        else:
            changes.append((path, draw(values) if kind == "any" else _DELETE))
    return changes


_DELETE = object()
_ABSENT = object()


def _get(raw: Any, path: Path_) -> Any:
    node = raw
    for key in path:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return _ABSENT
    return node


def _mutated(raw: dict[str, Any], changes: list[tuple[Path_, Any]]) -> dict[str, Any]:
    """A copy of ``raw`` with ``changes`` made, creating missing tables on the way."""
    data = copy.deepcopy(raw)
    for path, shared in changes:
        value = copy.deepcopy(shared) if shared is not _DELETE else shared  # it may hold the shipped tables
        node: Any = data
        for key, after in zip(path[:-1], path[1:]):
            empty: Any = [] if isinstance(after, int) else {}
            if isinstance(node, list) and isinstance(key, int) and key <= len(node):
                if key == len(node):
                    node.append(empty)
                node = node[key]
            elif isinstance(node, dict) and isinstance(key, str):
                node = node.setdefault(key, empty)
            else:
                break
        else:
            last = path[-1]
            if isinstance(node, dict) and isinstance(last, str):
                if value is _DELETE:
                    node.pop(last, None)
                else:
                    node[last] = value
            elif isinstance(node, list) and isinstance(last, int) and last <= len(node) and value is not _DELETE:
                node[last:last + 1] = [value]
    return data


# --- running an example --------------------------------------------------------------------------


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _bounded() -> Iterator[None]:
    """Fail an example that runs longer than SECONDS or grows peak memory by more than MEGABYTES."""

    def stop(signum: int, frame: Any) -> None:
        raise _TooSlow(f"took more than {SECONDS} s")

    previous = signal.signal(signal.SIGALRM, stop)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    signal.alarm(SECONDS)
    started = time.perf_counter()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    assert grown < MEGABYTES, f"peak memory grew by {grown:.0f} MB"
    assert time.perf_counter() - started < SECONDS


def _trialsim(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of ``trialsim argv``, within the bounds; an escaping exception fails the test."""
    err = io.StringIO()
    with _bounded(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, err.getvalue()


def _refusal(stderr: str) -> str:
    """The one error line of a refusal, checked to be alone and in the house form."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trialsim: error: "), stderr
    return lines[0]


# --- the fuzz tests ------------------------------------------------------------------------------


@_fuzz(1000)
@given(data=st.data(), name=st.sampled_from(sorted(SHIPPED)))
def test_a_mutated_scenario_file_runs_or_is_refused_naming_the_field(data: st.DataObject, name: str, tmp_path_factory: Any) -> None:
    changes = data.draw(mutations(SHIPPED[name]), label="changes")
    raw = _mutated(SHIPPED[name], changes)
    path = tmp_path_factory.getbasetemp() / "fuzzed_scenario.toml"
    path.write_text(tomlkit.dumps(raw), encoding="utf-8")
    status, stderr = _trialsim(["run", str(path), "--replicates", "2"])
    event(f"exit {status}")
    assert status in (0, 2), stderr
    if status == 2:
        line = _refusal(stderr)
        assert any(_names(line, p) for p, _ in changes), f"{line} names none of {[_written(p) for p, _ in changes]}"


def _literal(value: Any) -> str:
    """``value`` as the TOML a user would type after ``--set path=``."""
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        table.update(value)
        return table.as_string()
    return tomlkit.item(value).as_string()


@st.composite
def overrides(draw: st.DrawFn, raw: dict[str, Any]) -> tuple[Path_, str]:
    """A ``--set`` word: a scenario path with a TOML value, raw text, or malformed; and the path it aims at."""
    path = draw(st.sampled_from(PATHS))
    dotted = ".".join(map(str, path))
    original = _get(raw, path)
    value = draw(st.one_of(values, _near(path, original)))
    kind = draw(st.sampled_from(["toml", "toml", "text", "malformed"]))
    if kind == "toml":
        return path, f"{dotted}={_literal(value)}"
    if kind == "text":
        return path, f"{dotted}={draw(st.text(max_size=15))}"
    return path, draw(st.sampled_from([dotted, f"={dotted}", f"{dotted}.=1", f"..{dotted}=1", f"{dotted}.9.x=1", f"{dotted}.x=1"]))


WHOLE_WORDS = st.sampled_from(["0", "-1", "-7", "1.5", "1e3", "", " ", "x", "nan", "99999999999999999999999", "0x10", "٣"])


def _option(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    return st.one_of(valid.map(str), WHOLE_WORDS, st.text(max_size=6))


RUN_OPTIONS = {
    "--replicates": _option(st.integers(1, 3)),
    "--seed": _option(st.one_of(st.integers(0, 2**64), st.sampled_from([10**40]))),
    # valid worker counts stay at 1 or 2: joblib starts every worker asked for, even for two chunks
    "--jobs": _option(st.sampled_from([1, 2, 0, -2, 257, 300, -(2**70)])),
    "--chunk-size": _option(st.one_of(st.integers(1, 3), st.sampled_from([10**12]))),
    "--mcse-target": _option(st.one_of(st.floats(0.2, 0.49), st.floats(allow_nan=True, allow_infinity=True))),
    "--max-replicates": _option(st.integers(1, 6)),
}
FLAG_OF_PARAMETER = {"replicates": "--replicates", "seed": "--seed", "chunk_size": "--chunk-size",
                     "mcse_target": "--mcse-target", "max_replicates": "--max-replicates", "n_jobs": "--jobs"}


def _bounded_work(chosen: dict[str, str]) -> bool:
    """Whether the options ask for a few replicates on at most two workers.

    More is work a user asked for, not a fault; an absurd count is tested on its own, in a process
    with a memory limit (:func:`test_an_absurd_replicate_count_is_refused_before_any_work`).
    """

    def whole(flag: str, default: int) -> int | None:
        try:
            return int(chosen[flag]) if flag in chosen else default
        except ValueError:
            return None

    replicates, most, workers = whole("--replicates", 1000), whole("--max-replicates", 1_000_000), whole("--jobs", 1)
    if replicates is None or most is None or workers is None:
        return True  # refused before any work
    return replicates <= 3 and ("--mcse-target" not in chosen or most <= 6) and not (workers > 2 or workers == -1)


@_fuzz(500)
@given(data=st.data(), name=st.sampled_from(sorted(SHIPPED)))
def test_run_options_run_or_are_refused_naming_the_option(data: st.DataObject, name: str) -> None:
    flags = data.draw(st.lists(st.sampled_from(sorted(RUN_OPTIONS)), max_size=4, unique=True), label="flags")
    chosen = {flag: data.draw(RUN_OPTIONS[flag], label=flag) for flag in flags}
    chosen.setdefault("--replicates", "2")
    if not _bounded_work(chosen):
        chosen.update({"--replicates": "2", "--max-replicates": "4", "--jobs": "2"})
    sets = data.draw(st.lists(overrides(SHIPPED[name]), max_size=2), label="--set")
    argv = ["run", name]
    for flag, word in chosen.items():
        argv.append(f"{flag}={word}")  # the = form: a word starting with '-' stays the option's value
    for _, word in sets:
        argv += ["--set", word]
    status, stderr = _trialsim(argv)
    event(f"exit {status}")
    assert status in (0, 2), stderr
    if status == 2:
        line = _refusal(stderr)
        named_option = any(flag in line for flag in chosen) or "--set" in line
        named_parameter = any(re.search(rf"\b{p}\b", line) for p in FLAG_OF_PARAMETER)
        named_field = any(_names(line, path) for path, _ in sets)
        assert named_option or named_parameter or named_field, f"{argv}: {line}"


def test_an_absurd_replicate_count_is_refused_before_any_work() -> None:
    """A count no machine can run is refused in one line, not attempted until memory runs out.

    Run in a child process limited to 2 GB of address space and SECONDS of time, so a failure cannot
    take the machine's memory with it.
    """

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "run", "base", "--no-progress", "--replicates", "99999999999999999999999"],
        capture_output=True, text=True, timeout=SECONDS, preexec_fn=limit, check=False,
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert "--replicates" in _refusal(done.stderr)
