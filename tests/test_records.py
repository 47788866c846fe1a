"""One date type in every table: ``scan_dates`` holds ``datetime64[ms]`` like the other date columns."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.analysis.records import PATIENT_COLUMNS, RecordError, arrow_table, conform
from sim.cli import main


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["run", "--replicates", "3", "--seed", "2", "--keep-patients", "--out", str(out), "--no-progress"]) == 0
    return out


def test_patients_parquet_stores_every_date_as_timestamp_ms(folder) -> None:
    schema = pq.read_schema(folder / "patients.parquet")
    dates = [c.name for c in PATIENT_COLUMNS if "date" in c.unit]
    assert "scan_dates" in dates and len(dates) >= 6
    for name in dates:
        kind = schema.field(name).type
        item = kind.value_type if pa.types.is_list(kind) else kind
        assert item == pa.timestamp("ms"), name


def test_scan_dates_read_back_as_datetime64_ms(folder) -> None:
    patients = pd.read_parquet(folder / "patients.parquet")
    assert patients["first_dose_date"].dtype == np.dtype("datetime64[ms]")
    scans = [s for s in patients["scan_dates"] if len(s)]
    assert scans and all(isinstance(s, np.ndarray) and s.dtype == np.dtype("datetime64[ms]") for s in scans)
    first = patients[patients["scan_dates"].map(len) > 0].iloc[0]
    assert first["scan_dates"][0] > first["first_dose_date"].to_datetime64()  # comparable with the other dates


def test_conform_refuses_lists_of_another_date_type(folder) -> None:
    """A patient table whose scan dates were stored as dates (date32), as they were before, is refused by name."""
    patients = pd.read_parquet(folder / "patients.parquet")
    pd.testing.assert_frame_equal(conform(patients, PATIENT_COLUMNS), patients)
    old = patients.copy()
    old["scan_dates"] = [[d.date() for d in pd.to_datetime(s)] for s in patients["scan_dates"]]
    buffer = io.BytesIO()
    old.to_parquet(buffer, index=False)
    buffer.seek(0)
    with pytest.raises(RecordError, match=r"^columns with another dtype than the schema: scan_dates \(list of object, schema list of datetime64\[ms\]\)$"):
        conform(pd.read_parquet(buffer), PATIENT_COLUMNS)


def test_arrow_table_turns_dates_into_milliseconds_also_inside_lists() -> None:
    frame = pd.DataFrame(
        {
            "day": np.array(["2026-01-05"], dtype="datetime64[D]"),
            "days": [[dt.date(2026, 1, 5), dt.date(2026, 2, 16)]],
            "labels": [["PR", "CR"]],
            "n": [3],
        }
    )
    schema = arrow_table(frame).schema
    assert schema.field("day").type == pa.timestamp("ms")
    assert schema.field("days").type == pa.list_(pa.timestamp("ms"))
    assert schema.field("labels").type.value_type in (pa.string(), pa.large_string())
    assert schema.field("n").type == pa.int64()


def test_a_chunk_where_no_patient_has_a_scan_keeps_the_date_type() -> None:
    """Every list empty: pyarrow alone would store list<null>, read back as object arrays."""
    from sim.analysis.records import stored as _as_stored

    frame = pd.DataFrame({"scan_dates": [[], []], "scan_results": [[], []]})
    columns = [c for c in PATIENT_COLUMNS if c.name in frame.columns]
    stored = _as_stored(frame, columns)
    assert [s.dtype for s in stored["scan_dates"]] == [np.dtype("datetime64[ms]")] * 2
