"""The tidy tables a run writes, defined once: every column's name, type, unit and meaning.

``REPLICATE_COLUMNS`` (one row per simulated trial), ``LOOK_COLUMNS`` (one row per replicate and
interim look) and ``PATIENT_COLUMNS`` (one row per patient dosed by a cutoff, per cutoff) are the
contract with scripts that read ``replicates.parquet``, ``looks.parquet`` and ``patients.parquet``.
:func:`conform` holds every table to its schema, and ``docs/reference.md``'s tables are
:func:`reference_table` of these definitions (a test keeps the two equal). Every date is stored
as ``datetime64[ms]``, also inside a list (:func:`arrow_table` writes them so).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "ChunkTables",
    "read_parquet",
    "stored",
    "Column",
    "LOOK_COLUMNS",
    "PATIENT_COLUMNS",
    "REPLICATE_COLUMNS",
    "RecordError",
    "arrow_table",
    "conform",
    "reference_table",
]


class RecordError(ValueError):
    """A table does not have the columns its schema declares (a programming error, not bad input)."""


@dataclass(frozen=True)
class Column:
    """One column of an output table: its name, pandas dtype as stored, unit and meaning.

    ``list of T`` is a column of numpy arrays whose dtype is ``T`` (one list per row).
    """

    name: str
    dtype: str
    unit: str
    meaning: str


def _c(name: str, dtype: str, unit: str, meaning: str) -> Column:
    return Column(name, dtype, unit, meaning)


_DATE = "datetime64[ms]"

REPLICATE_COLUMNS: tuple[Column, ...] = (
    _c("replicate", "int64", "index", "replicate index *i*; its seed is child *i* of `SeedSequence(seed)`"),
    _c("n_screened", "int64", "patients", "patients who consented to screening"),
    _c("n_screen_failed", "int64", "patients", "screened patients found ineligible"),
    _c("n_enrolled", "int64", "patients", "patients enrolled"),
    _c("enrollment_target", "int64", "patients", "sample size plus replacements"),
    _c("closed_short", "bool", "flag", "recruitment closed before the target was met (a futility stop does not count)"),
    _c("first_patient_in_date", _DATE, "date", "first enrollment"),
    _c("last_patient_in_date", _DATE, "date", "last enrollment (also when closed short)"),
    _c("enrollment_complete_date", _DATE, "date", "the day the target was met; empty when the trial closed short"),
    _c("enrollment_months", "float64", "months", "recruitment open to last patient in"),
    _c("primary_cutoff_date", _DATE, "date", "ORR data cutoff"),
    _c("final_cutoff_date", _DATE, "date", "PFS/OS data cutoff"),
    _c("n_treated", "int64", "patients", "patients dosed by the primary cutoff"),
    _c("n_analysed", "int64", "patients", "ORR denominator (analysis population)"),
    _c(
        "true_orr",
        "float64",
        "proportion",
        "the replicate's true (latent) ORR: `efficacy.orr`, or its draw from `efficacy.orr_prior` or a forecast's "
        "posterior",
    ),
    _c("responders", "int64", "patients", "confirmed CR or PR at the primary cutoff"),
    _c("orr", "float64", "proportion", "responders / n_analysed"),
    _c("orr_ci_low", "float64", "proportion", "lower ORR confidence limit (`ci_method`, `ci_level`)"),
    _c("orr_ci_high", "float64", "proportion", "upper ORR confidence limit"),
    _c("p_value", "float64", "probability", "exact one-sided binomial p-value against p0"),
    _c("disease_control", "int64", "patients", "treated patients with CR, PR or SD at the primary cutoff"),
    _c("dcr", "float64", "proportion", "disease_control / n_treated (never-scanned patients included)"),
    _c(
        "responders_unconfirmed",
        "int64",
        "patients",
        "patients with a CR or PR at any scan by the primary cutoff, confirmed or not "
        "(numerator of the unconfirmed ORR)",
    ),
    _c("orr_unconfirmed", "float64", "proportion", "responders_unconfirmed / n_analysed"),
    _c(
        "reject_h0",
        "bool",
        "flag",
        "the design's success: p_value ≤ alpha (single stage), responders > r (Simon), posterior rule "
        "(Bayesian); false after a stop",
    ),
    _c("interim_looks", "int64", "looks", "interim looks performed (each is a row of the look table)"),
    _c(
        "interim_wait_days",
        "float64",
        "days",
        "days the looks waited, after their n-th patient's enrollment, for those patients' responses to settle "
        "(enrollment paused that long with `pause_enrollment`); 0 without looks",
    ),
    _c("first_look_responders", "int64", "patients", "confirmed responders at the first look (−1 if none happened)"),
    _c("first_look_date", _DATE, "date", "date of the first look"),
    _c("stopped_early", "bool", "flag", "an interim look stopped the trial for futility"),
    _c("stop_date", _DATE, "date", "date of that stop"),
    _c("decision_date", _DATE, "date", "stop date, or the primary cutoff"),
    _c("decision_months", "float64", "months", "recruitment open to the decision"),
    _c("pfs_events", "int64", "patients", "PFS events at the final cutoff"),
    _c("median_pfs_months", "float64", "months", "Kaplan-Meier median PFS (empty if not reached)"),
    _c("median_pfs_ci_low", "float64", "months", "lower limit of its CI (log-log, R's convention)"),
    _c("median_pfs_ci_high", "float64", "months", "upper limit of its CI"),
    _c("pfs_rate_at_landmark", "float64", "proportion", "KM PFS rate at `landmark_months`"),
    _c("os_events", "int64", "patients", "deaths observed at the final cutoff"),
    _c("median_os_months", "float64", "months", "Kaplan-Meier median OS"),
    _c("median_os_ci_low", "float64", "months", "lower limit of its CI"),
    _c("median_os_ci_high", "float64", "months", "upper limit of its CI"),
    _c("os_rate_at_landmark", "float64", "proportion", "KM OS rate at `landmark_months`"),
    _c("patients_with_grade3_ae", "int64", "patients", "patients with at least one grade ≥ 3 TRAE by the final cutoff"),
    _c("ae_discontinuations", "int64", "patients", "patients whose treatment ended for an AE"),
    _c("ae_discontinuation_rate", "float64", "proportion", "ae_discontinuations / treated"),
    _c("mean_cycles", "float64", "cycles", "mean cycles received by the final cutoff"),
    _c(
        "median_follow_up_months",
        "float64",
        "months",
        "median follow-up for OS by reverse Kaplan-Meier at the final cutoff",
    ),
)

LOOK_COLUMNS: tuple[Column, ...] = (
    _c("replicate", "int64", "index", "replicate index"),
    _c("look", "int64", "index", "look number, from 1, in calendar order"),
    _c("look_date", _DATE, "date", "the day the look's patients were all judged"),
    _c("patients", "int64", "patients", "enrolled patients the look judges (the first *n* enrolled)"),
    _c("responders", "int64", "patients", "responses confirmed among them by that day"),
    _c("stopped", "bool", "flag", "the look stopped the trial for futility"),
    _c("wait_days", "float64", "days", "days from the enrollment of the look's n-th patient to the look"),
    _c("look_months", "float64", "months", "months from recruitment opening to the look (not rounded to a day)"),
)

PATIENT_COLUMNS: tuple[Column, ...] = (
    _c("replicate", "int64", "index", "replicate index"),
    _c("cutoff", "str", "label", "`primary` or `final`"),
    _c("cutoff_date", _DATE, "date", "the cutoff's date"),
    _c("patient", "int64", "index", "enrollment order, from 1"),
    _c("site", "int64", "index", "site number, from 1 (order in the scenario)"),
    _c("screening_date", _DATE, "date", "consent to screening"),
    _c("enrollment_date", _DATE, "date", "enrollment"),
    _c("first_dose_date", _DATE, "date", "first dose (day 0 of the scan grid)"),
    _c("scan_dates", f"list of {_DATE}", "list of dates", "dates of the post-baseline scans done by the cutoff"),
    _c("scan_results", "object", "list of labels", "RECIST status at each scan (CR, PR, SD, PD)"),
    _c("evaluable", "bool", "flag", "at least one post-baseline scan by the cutoff"),
    _c("best_overall_response", "str", "label", "CR, PR (confirmed), SD, PD or NE"),
    _c("pfs_months", "float64", "months", "PFS time from first dose"),
    _c("pfs_event", "bool", "flag", "progression (dated at the scan) or death; false = censored at the last scan"),
    _c("os_months", "float64", "months", "OS time from first dose"),
    _c("os_event", "bool", "flag", "death observed"),
    _c("cycles_received", "int64", "cycles", "cycles started by the cutoff"),
    _c(
        "treatment_end_reason",
        "str",
        "label",
        "`ongoing`, `progression`, `death`, `adverse_event`, `withdrawal`, `lost_to_follow_up` or `max_duration`",
    ),
    _c("treatment_end_date", _DATE, "date", "when treatment ended (empty while ongoing)"),
    _c("grade3_ae_count", "int64", "events", "grade ≥ 3 TRAEs in the cycles received"),
    _c("ae_discontinued", "bool", "flag", "treatment ended for an AE"),
)


def conform(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """``frame`` with exactly the schema's columns, in its order; RecordError names what differs.

    The dtypes are checked, not coerced: tables come back from a parquet round trip, and a
    column whose type drifted is a bug to see, not to paper over.
    """
    names = [c.name for c in columns]
    missing = [n for n in names if n not in frame.columns]
    extra = [n for n in frame.columns if n not in names]
    if missing or extra:
        raise RecordError(f"table columns differ from the schema: missing {missing}, unexpected {extra}")
    out = frame if list(frame.columns) == names else frame[names]
    if len(out):
        stored = dict(zip(out.columns, out.dtypes))
        # A column's dtype alone settles it, except a list column's (object) and a string column's.
        wrong = [
            f"{c.name} ({_dtype(out[c.name], c)}, schema {c.dtype})"
            for c in columns
            if str(stored[c.name]) != c.dtype and not _has_dtype(out[c.name], c)
        ]
        if wrong:
            raise RecordError(f"columns with another dtype than the schema: {', '.join(wrong)}")
    return out


_LIST = "list of "


def _dtype(values: pd.Series, column: Column) -> str:
    """How ``values`` are stored, named as the schema names it (a list column by its items' dtypes)."""
    if not column.dtype.startswith(_LIST) or values.dtype != object:
        return str(values.dtype)
    items = sorted({str(v.dtype) if isinstance(v, np.ndarray) else type(v).__name__ for v in values})
    return _LIST + " and ".join(items)


def _has_dtype(values: pd.Series, column: Column) -> bool:
    """Whether ``values`` are stored as the schema says ("str" is any pandas string storage)."""
    if column.dtype == "str":
        return pd.api.types.is_string_dtype(values.dtype)
    return _dtype(values, column) == column.dtype


def _in_milliseconds(kind: pa.DataType) -> pa.DataType:
    """``kind`` with every date or timestamp in it, also a list's items, as timestamp[ms]."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pa.list_(_in_milliseconds(kind.value_type))
    if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
        return pa.timestamp("ms")
    return kind


def arrow_table(frame: pd.DataFrame, columns: Sequence[Column] = ()) -> pa.Table:
    """``frame`` as it is written to parquet: every date, also inside a list, a timestamp[ms].

    Parquet has no seconds, so a date column is stored in milliseconds anyway; a list of Python
    dates would otherwise stay date32 and read back as ``datetime.date`` objects, a second date type.
    A ``list of datetime64[ms]`` column of ``columns`` is typed so even when every list is empty.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    dated = {c.name for c in columns if c.dtype == f"{_LIST}{_DATE}"}
    kinds = [pa.list_(pa.timestamp("ms")) if f.name in dated else _in_milliseconds(f.type) for f in table.schema]
    schema = pa.schema([f.with_type(kind) for f, kind in zip(table.schema, kinds)], metadata=table.schema.metadata)
    return table.cast(schema)


def reference_table(columns: Sequence[Column]) -> str:
    """The Markdown table of ``columns`` that ``docs/reference.md`` shows."""
    lines = ["| column | type | unit | meaning |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.dtype} | {c.unit} | {c.meaning} |" for c in columns]
    return "\n".join(lines)


@dataclass(frozen=True)
class ChunkTables:
    """The tables of replicates ``start..stop-1``: replicates, looks and (when kept) patients."""

    replicates: pd.DataFrame
    looks: pd.DataFrame
    patients: pd.DataFrame | None


def read_parquet(source: Path | io.BytesIO) -> pd.DataFrame:
    """Read parquet without Arrow's thread pool: its threads could abort the interpreter at exit."""
    return pd.read_parquet(source, use_threads=False)


def stored(frame: pd.DataFrame, columns: Sequence[Column]) -> pd.DataFrame:
    """The frame exactly as parquet gives it back, held to its schema: fresh and resumed chunks are equal."""
    buffer = io.BytesIO()
    pq.write_table(arrow_table(frame, columns), buffer)
    buffer.seek(0)
    return conform(read_parquet(buffer), columns)
