"""The benchmark library: the shipped file loads, key rows match the consensus, bad cells get pinned messages."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import sim
from sim.calibration import (
    COLUMNS,
    Benchmark,
    BenchmarkError,
    Landmark,
    benchmarks_path,
    get_benchmark,
    load_benchmarks,
    select_benchmarks,
)

# Consensus 004, Table 1 (second-line regimens): ORR %, DCR %, mPFS and mOS in months, as printed.
TABLE_1 = {
    "T1-1": ("RESORCE", 11, 65, 3.1, 10.6, "mRECIST"),
    "T1-2": ("NCT02989922", 14.7, 44.2, 2.1, 13.8, "RECIST 1.1"),
    "T1-3": ("AHELP", 11, 61, 4.5, 8.7, "RECIST 1.1"),
    "T1-4": ("RATIONALE-208", 13, 53, 2.7, 13.2, "RECIST 1.1"),
    "T1-5": ("REACH-2", 5, 59.9, 2.8, 8.5, "RECIST 1.1"),
    "T1-6": ("KEYNOTE-394", 12.7, 51.0, 2.6, 14.6, "RECIST 1.1"),
    "T1-7": ("CELESTIAL", 4, 64, 5.2, 10.2, "RECIST 1.1"),
}


def _write(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _row(**cells: str) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    row.update(id="X-1", study="Example", regimen="regorafenib", citation="[1] Example")
    row.update(cells)
    return row


def test_shipped_library_loads_with_unique_ids() -> None:
    rows = load_benchmarks()
    assert len(rows) >= 60
    assert len({r.id for r in rows}) == len(rows)
    assert all(isinstance(r, Benchmark) for r in rows)


@pytest.mark.parametrize("row_id", sorted(TABLE_1))
def test_table_1_rows_match_the_consensus(row_id: str) -> None:
    study, orr, dcr, pfs, os_, criteria = TABLE_1[row_id]
    row = get_benchmark(row_id)
    assert row.study == study
    assert (row.orr, row.dcr) == (pytest.approx(orr / 100), pytest.approx(dcr / 100))
    assert (row.median_pfs_months, row.median_os_months) == (pfs, os_)
    assert row.response_criteria == criteria
    assert row.consensus_ref == str(51 + int(row_id[-1]) - 1)


def test_resorce_regorafenib_arm_and_landmarks() -> None:
    resorce = get_benchmark("e-1")
    assert (resorce.n, resorce.orr, resorce.dcr, resorce.median_pfs_months, resorce.median_os_months) == (
        379,
        0.11,
        0.652,
        3.1,
        10.6,
    )
    assert resorce.scan_interval_weeks is None  # not in the sources: never guessed
    keynote = get_benchmark("E-3")
    assert keynote.os_landmarks == (Landmark(12, 0.57), Landmark(24, 0.343), Landmark(36, 0.234))
    assert keynote.pfs_landmarks == ()
    assert "57.0/34.3/23.4%" in keynote.notes  # the printed text is kept


def test_select_filters_by_regimen_setting_and_id() -> None:
    rows = load_benchmarks()
    regorafenib = select_benchmarks(rows, regimen="REGORAFENIB")
    assert regorafenib and all("regorafenib" in r.regimen.lower() for r in regorafenib)
    after_lenvatinib = select_benchmarks(rows, regimen="regorafenib", setting="after lenvatinib")
    assert {r.id for r in after_lenvatinib} >= {"L-3", "L-4"}
    assert [r.id for r in select_benchmarks(rows, id="t1-6")] == ["T1-6"]
    with pytest.raises(BenchmarkError, match=r"^no benchmark with id 'Z-9'; load_benchmarks\(\) lists the ids$"):
        get_benchmark("Z-9", rows)


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            {"orr": "12.7"},
            "bench.csv row X-1, column orr: must be a proportion in [0, 1] (0.127 for 12.7%) or empty, got '12.7'",
        ),
        ({"n": "35.5"}, "bench.csv row X-1, column n: must be a whole number of patients or empty, got '35.5'"),
        (
            {"median_pfs_months": "-2"},
            "bench.csv row X-1, column median_pfs_months: must be a positive number or empty, got '-2'",
        ),
        (
            {"median_os_months": "n/a"},
            "bench.csv row X-1, column median_os_months: must be a number or empty, got 'n/a'",
        ),
        (
            {"orr": "0.1", "response_criteria": "RECIST"},
            "bench.csv row X-1, column response_criteria: must be one of 'RECIST 1.1', 'mRECIST' or empty, got 'RECIST'",
        ),
        (
            {"orr_confirmed": "true"},
            "bench.csv row X-1, column orr_confirmed: must be 'yes', 'no' or empty, got 'true'",
        ),
        ({"regimen": " "}, "bench.csv row X-1, column regimen: must not be empty"),
        (
            {"orr": "0.3", "dcr": "0.2"},
            "bench.csv row X-1, column dcr: (0.2) must not be below orr (0.3): responders are in disease control",
        ),
        (
            {"median_pfs_months": "5", "median_os_months": "4"},
            "bench.csv row X-1, column median_os_months: (4) must not be below median_pfs_months (5)",
        ),
        (
            {"grade3plus_ae": "0.2"},
            "bench.csv row X-1, column ae_definition: must say what grade3plus_ae counts (e.g. 'grade >= 3 TRAE')",
        ),
    ],
)
def test_bad_cells_name_row_and_column(tmp_path, cells: dict[str, str], message: str) -> None:
    path = _write(tmp_path / "bench.csv", [_row(**cells)])
    with pytest.raises(BenchmarkError) as info:
        load_benchmarks(path)
    assert str(info.value) == message


def test_header_and_duplicate_problems(tmp_path) -> None:
    missing = _write(tmp_path / "a.csv", [], columns=tuple(c for c in COLUMNS if c != "dcr"))
    with pytest.raises(BenchmarkError, match=r"^a\.csv: missing column\(s\) dcr$"):
        load_benchmarks(missing)
    duplicate = _write(tmp_path / "b.csv", [_row(), _row()])
    with pytest.raises(BenchmarkError, match=r"^b\.csv row X-1, column id: duplicate id$"):
        load_benchmarks(duplicate)


def test_installed_package_data_comes_before_the_clone(tmp_path, monkeypatch) -> None:
    package = tmp_path / "site" / "sim"
    (package / "calibration_data").mkdir(parents=True)
    installed = _write(package / "calibration_data" / "benchmarks.csv", [_row()])
    clone = tmp_path / "site" / "calibration"
    clone.mkdir()
    _write(clone / "benchmarks.csv", [_row(id="C-1")])
    monkeypatch.setattr(sim, "__file__", str(package / "__init__.py"))
    assert benchmarks_path() == installed.resolve()
    installed.unlink()
    assert benchmarks_path() == (clone / "benchmarks.csv").resolve()
    assert [r.id for r in load_benchmarks()] == ["C-1"]
