"""The benchmark library: published efficacy and safety figures, one row per study arm.

The library is ``calibration/benchmarks.csv`` in a clone, shipped as package data at
``sim/calibration_data/benchmarks.csv`` when installed. Rates are proportions (0.127 for 12.7%),
times are months; an empty cell means "not reported", never zero. Every cell is checked on load
and a problem is reported with the row id and the column, so a typo cannot reach a calibration.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import sim

from ..errors import TrialsimError
from .errors import Message, named
from .targets import Landmark

__all__ = [
    "LISTING",
    "Benchmark",
    "BenchmarkError",
    "COLUMNS",
    "RESPONSE_CRITERIA",
    "benchmarks_path",
    "get_benchmark",
    "load_benchmarks",
    "select_benchmarks",
]

LISTING = "load_benchmarks()"
"""What lists the benchmark ids, as an error names it (a front end names its own listing)."""

RESPONSE_CRITERIA = ("RECIST 1.1", "mRECIST")
"""Response criteria a row may name for its ORR and DCR."""

_YES_NO = {"yes": True, "no": False}


class BenchmarkError(ValueError, TrialsimError):
    """The benchmark file cannot be used; the message names the row id and the column."""


@dataclass(frozen=True)
class Benchmark:
    """One study arm's published figures (proportions and months; None where not reported)."""

    id: str
    study: str
    regimen: str
    setting: str
    design: str
    n: int | None
    orr: float | None
    response_criteria: str | None
    orr_confirmed: bool | None
    dcr: float | None
    median_pfs_months: float | None
    median_os_months: float | None
    pfs_6m: float | None
    os_12m: float | None
    os_15m: float | None
    os_24m: float | None
    os_36m: float | None
    grade3plus_ae: float | None
    ae_definition: str | None
    ae_discontinuation: float | None
    scan_interval_weeks: float | None
    consensus_ref: str
    citation: str
    notes: str

    @property
    def pfs_landmarks(self) -> tuple[Landmark, ...]:
        """Reported PFS rates as (months, rate) pairs."""
        return _landmarks(self, "pfs_")

    @property
    def os_landmarks(self) -> tuple[Landmark, ...]:
        """Reported OS rates as (months, rate) pairs."""
        return _landmarks(self, "os_")

    def to_dict(self) -> dict[str, Any]:
        """The row as plain values, for JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _landmarks(row: Benchmark, prefix: str) -> tuple[Landmark, ...]:
    """Landmark columns named ``{prefix}{months}m`` that hold a value, in time order."""
    found = []
    for f in fields(row):
        value = getattr(row, f.name)
        if f.name.startswith(prefix) and f.name.endswith("m") and value is not None:
            found.append(Landmark(float(f.name[len(prefix) : -1]), value))
    return tuple(sorted(found, key=lambda lm: lm.months))


Parser = Callable[[str], Any]


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


def _optional_text(raw: str) -> str | None:
    return raw.strip() or None


def _count(raw: str) -> int | None:
    if not raw.strip():
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"must be a whole number of patients or empty, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"must be a whole number of patients or empty, got {raw!r}")
    return value


def _number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number or empty, got {raw!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number or empty, got {raw!r}")
    return value


def _proportion(raw: str) -> float | None:
    if not raw.strip():
        return None
    value = _number(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a proportion in [0, 1] (0.127 for 12.7%) or empty, got {raw!r}")
    return value


def _positive(raw: str) -> float | None:
    if not raw.strip():
        return None
    value = _number(raw)
    if value <= 0:
        raise ValueError(f"must be a positive number or empty, got {raw!r}")
    return value


def _criteria(raw: str) -> str | None:
    if raw.strip() and raw.strip() not in RESPONSE_CRITERIA:
        allowed = ", ".join(repr(c) for c in RESPONSE_CRITERIA)
        raise ValueError(f"must be one of {allowed} or empty, got {raw!r}")
    return raw.strip() or None


def _yes_no(raw: str) -> bool | None:
    if raw.strip() and raw.strip() not in _YES_NO:
        raise ValueError(f"must be 'yes', 'no' or empty, got {raw!r}")
    return _YES_NO.get(raw.strip())


_PARSERS: dict[str, Parser] = {
    "id": _text,
    "study": _text,
    "regimen": _text,
    "setting": _optional_text,
    "design": _optional_text,
    "n": _count,
    "orr": _proportion,
    "response_criteria": _criteria,
    "orr_confirmed": _yes_no,
    "dcr": _proportion,
    "median_pfs_months": _positive,
    "median_os_months": _positive,
    "pfs_6m": _proportion,
    "os_12m": _proportion,
    "os_15m": _proportion,
    "os_24m": _proportion,
    "os_36m": _proportion,
    "grade3plus_ae": _proportion,
    "ae_definition": _optional_text,
    "ae_discontinuation": _proportion,
    "scan_interval_weeks": _positive,
    "consensus_ref": _optional_text,
    "citation": _text,
    "notes": _optional_text,
}

COLUMNS: tuple[str, ...] = tuple(_PARSERS)
"""The file's columns, in order."""


def _cross_checks(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(column, problem) pairs for values that contradict each other within a row."""
    problems = []
    if row["orr"] is not None and row["dcr"] is not None and row["dcr"] < row["orr"]:
        problems.append(
            ("dcr", f"({row['dcr']:g}) must not be below orr ({row['orr']:g}): responders are in disease control")
        )
    pfs, os_ = row["median_pfs_months"], row["median_os_months"]
    if pfs is not None and os_ is not None and os_ < pfs:
        problems.append(("median_os_months", f"({os_:g}) must not be below median_pfs_months ({pfs:g})"))
    if row["grade3plus_ae"] is not None and row["ae_definition"] is None:
        problems.append(("ae_definition", "must say what grade3plus_ae counts (e.g. 'grade >= 3 TRAE')"))
    if row["response_criteria"] is not None and row["orr"] is None and row["dcr"] is None:
        problems.append(("response_criteria", "is given but the row has neither orr nor dcr"))
    return problems


def _parse_row(raw: dict[str, str], where: str) -> Benchmark:
    """One CSV record as a Benchmark; BenchmarkError names the first bad cell."""
    rid = (raw.get("id") or "").strip() or "?"
    values: dict[str, Any] = {}
    for column, parse in _PARSERS.items():
        try:
            values[column] = parse(raw.get(column) or "")
        except ValueError as exc:
            raise BenchmarkError(f"{where} row {rid}, column {column}: {exc}") from None
    problems = _cross_checks(values)
    if problems:
        column, problem = problems[0]
        raise BenchmarkError(f"{where} row {rid}, column {column}: {problem}")
    values["setting"] = values["setting"] or ""
    values["design"] = values["design"] or ""
    values["consensus_ref"] = values["consensus_ref"] or ""
    values["notes"] = values["notes"] or ""
    return Benchmark(**values)


def benchmarks_path() -> Path:
    """The library file: installed package data first, then the clone's ``calibration/`` folder."""
    package = Path(sim.__file__).resolve().parent
    candidates = (package / "calibration_data" / "benchmarks.csv", package.parent / "calibration" / "benchmarks.csv")
    for path in candidates:
        if path.is_file():
            return path
    raise BenchmarkError(f"the benchmark library was not found; looked at {', '.join(str(p) for p in candidates)}")


def _check_header(header: Iterable[str] | None, where: str) -> None:
    found = list(header or [])
    missing = [c for c in COLUMNS if c not in found]
    unknown = [c for c in found if c not in COLUMNS]
    if missing:
        raise BenchmarkError(f"{where}: missing column(s) {', '.join(missing)}")
    if unknown:
        raise BenchmarkError(f"{where}: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}")


def load_benchmarks(path: str | Path | None = None) -> tuple[Benchmark, ...]:
    """Read and validate the library (the shipped file unless ``path`` is given)."""
    path = Path(path) if path is not None else benchmarks_path()
    where = path.name
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        _check_header(reader.fieldnames, where)
        rows: list[Benchmark] = []
        seen: set[str] = set()
        for raw in reader:
            if None in raw:
                raise BenchmarkError(
                    f"{where} row {raw.get('id') or '?'}: more cells than columns (line {reader.line_num})"
                )
            row = _parse_row(raw, where)
            if row.id in seen:
                raise BenchmarkError(f"{where} row {row.id}, column id: duplicate id")
            seen.add(row.id)
            rows.append(row)
    return tuple(rows)


def select_benchmarks(
    rows: Iterable[Benchmark], regimen: str | None = None, setting: str | None = None, id: str | None = None
) -> tuple[Benchmark, ...]:
    """Rows whose regimen and setting contain the given text (any case) and whose id matches."""
    chosen = []
    for row in rows:
        if regimen and regimen.lower() not in row.regimen.lower():
            continue
        if setting and setting.lower() not in row.setting.lower():
            continue
        if id and id.lower() != row.id.lower():
            continue
        chosen.append(row)
    return tuple(chosen)


def get_benchmark(benchmark_id: str, rows: Iterable[Benchmark] | None = None) -> Benchmark:
    """The row with this id (any case); BenchmarkError if the library has none."""
    found = select_benchmarks(load_benchmarks() if rows is None else rows, id=benchmark_id)
    if not found:
        raise BenchmarkError(Message(f"no benchmark with id {benchmark_id!r}; {named(LISTING)} lists the ids"))
    return found[0]
