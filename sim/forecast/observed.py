"""The observed-patients file of a running trial: read, parsed and checked against the scenario.

One row per enrolled patient (docs/reference.md, "Observed patients"). Every refusal names the
row (1-based, after the header), the patient and the column, and says what is allowed, so that
a data manager can fix the file without reading code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import TrialsimError
from ..model.journey import END_REASONS
from ..scenario.model import Scenario

__all__ = [
    "ObservedError",
    "ObservedPatient",
    "ObservedTrial",
    "COLUMNS",
    "OUTCOME_COLUMNS",
    "RESPONSES",
    "parse_observed",
    "read_observed",
    "read_text_table",
]

REQUIRED = ("patient_id", "site", "enrollment_date")
OUTCOME_COLUMNS = (
    "best_response",
    "confirmed",
    "last_scan_date",
    "progression_date",
    "death_date",
    "treatment_end_date",
    "treatment_end_reason",
    "last_known_alive_date",
)
COLUMNS = (*REQUIRED, "first_dose_date", *OUTCOME_COLUMNS)
"""Every column the file may have; only ``REQUIRED`` must be there."""

RESPONSES = ("CR", "PR", "SD", "PD", "NE")
"""Best response so far; NE (no evaluable scan yet) reads like an empty cell."""

_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


class ObservedError(ValueError, TrialsimError):
    """The observed-patients file cannot be used; the message names the row and the column."""


@dataclass(frozen=True)
class ObservedPatient:
    """One enrolled patient as the database has them at the as-of date (empty outcomes: not yet)."""

    row: int
    patient_id: str
    site: str
    enrollment_date: dt.date
    first_dose_date: dt.date | None = None
    best_response: str = ""
    confirmed: bool = False
    last_scan_date: dt.date | None = None
    progression_date: dt.date | None = None
    death_date: dt.date | None = None
    treatment_end_date: dt.date | None = None
    treatment_end_reason: str = ""
    last_known_alive_date: dt.date | None = None


@dataclass(frozen=True)
class ObservedTrial:
    """The patients enrolled by the as-of date, in enrollment order.

    ``outcomes_known`` is false when the file has no outcome column with any value: the forecast
    then conditions on enrollment alone and says that its efficacy figures ignore outcomes.
    """

    patients: tuple[ObservedPatient, ...]
    outcomes_known: bool
    source: str = "observed file"

    @property
    def n_enrolled(self) -> int:
        """Patients in the file."""
        return len(self.patients)


def read_observed(path: str | Path, scenario: Scenario, as_of: dt.date) -> ObservedTrial:
    """Read and check the observed-patients CSV at ``path`` against ``scenario`` and the as-of date."""
    source = f"observed file {path}"
    return parse_observed(read_text_table(Path(path), source), scenario, as_of, source)


def read_text_table(path: Path, source: str) -> pd.DataFrame:
    """A CSV file as text cells ("" when empty), refused in one line when it cannot be read."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ObservedError(f"{source} does not exist") from None
    except IsADirectoryError:
        raise ObservedError(f"{source} is a folder; give the CSV file in it") from None
    except OSError as exc:
        raise ObservedError(f"{source} cannot be read: {exc.strerror or exc}") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = " ".join(str(exc).split())  # the parser's message may end in a newline: keep one line
        raise ObservedError(f"{source} is not a readable CSV file: {reason}") from None


def parse_observed(frame: pd.DataFrame, scenario: Scenario, as_of: dt.date, source: str) -> ObservedTrial:
    """Check the columns and every row of ``frame`` (all text), then the rows together."""
    columns = [str(c).strip() for c in frame.columns]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ObservedError(f"{source}: unknown column {unknown[0]!r}; allowed columns: {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ObservedError(f"{source}: column {missing[0]!r} is missing; required columns: {', '.join(REQUIRED)}")
    frame = frame.set_axis(columns, axis=1).apply(lambda col: col.str.strip())
    outcomes_known = any((frame[c] != "").any() for c in OUTCOME_COLUMNS if c in frame.columns)
    patients = [
        _patient(row, record, scenario, as_of, source) for row, record in enumerate(frame.to_dict("records"), 1)
    ]
    _check_together(patients, scenario, source)
    patients.sort(key=lambda p: (p.enrollment_date, p.row))
    return ObservedTrial(tuple(patients), outcomes_known, source)


class _Row:
    """One row's cells, and refusals that name the row, the patient and the column."""

    def __init__(self, row: int, record: dict[str, str], source: str) -> None:
        self.row, self.record, self.source = row, record, source
        self.patient = record.get("patient_id", "")

    def fail(self, column: str, problem: str) -> ObservedError:
        """The refusal of this row's ``column``."""
        who = f" (patient {self.patient})" if self.patient else ""
        return ObservedError(f"{self.source}, row {self.row}{who}, column {column}: {problem}")

    def text(self, column: str) -> str:
        """The cell as text ("" when empty or absent)."""
        return self.record.get(column, "")

    def date(self, column: str) -> dt.date | None:
        """The cell as a date, None when empty."""
        cell = self.text(column)
        if not cell:
            return None
        try:
            return dt.date.fromisoformat(cell)
        except ValueError:
            raise self.fail(column, f"{cell!r} is not a date; write YYYY-MM-DD") from None

    def choice(self, column: str, allowed: Sequence[str], normal: Callable[[str], str] = str.upper) -> str:
        """The cell as one of ``allowed`` (or "" when empty)."""
        cell = normal(self.text(column))
        if cell and cell not in allowed:
            raise self.fail(column, f"{self.text(column)!r} is not allowed; allowed: {', '.join(allowed)} or empty")
        return cell

    def flag(self, column: str) -> bool | None:
        """The cell as true/false, None when empty."""
        cell = self.text(column).lower()
        if not cell:
            return None
        if cell not in _TRUE + _FALSE:
            raise self.fail(column, f"{self.text(column)!r} is not allowed; allowed: true or false")
        return cell in _TRUE


def _patient(row: int, record: dict[str, str], scenario: Scenario, as_of: dt.date, source: str) -> ObservedPatient:
    """One row read and checked on its own."""
    r = _Row(row, record, source)
    if not r.patient:
        raise r.fail("patient_id", "is empty; every patient needs an identifier")
    sites = {s.name: s for s in scenario.recruitment.sites}
    site = r.text("site")
    if site not in sites:
        raise r.fail("site", f"{site!r} is not a site of the scenario; allowed: {', '.join(sites)}")
    enrolled = r.date("enrollment_date")
    if enrolled is None:
        raise r.fail("enrollment_date", "is empty; every patient in the file is enrolled")
    opened = max(sites[site].activation, scenario.trial.recruitment_open)
    if enrolled < opened:
        raise r.fail("enrollment_date", f"{enrolled} is before {site!r} could enroll ({opened}: activation or opening)")
    if enrolled > scenario.trial.recruitment_close:
        raise r.fail("enrollment_date", f"{enrolled} is after recruitment closed ({scenario.trial.recruitment_close})")
    best = r.choice("best_response", RESPONSES)
    patient = ObservedPatient(
        row=row,
        patient_id=r.patient,
        site=site,
        enrollment_date=enrolled,
        first_dose_date=r.date("first_dose_date"),
        best_response="" if best == "NE" else best,
        confirmed=bool(r.flag("confirmed")),
        last_scan_date=r.date("last_scan_date"),
        progression_date=r.date("progression_date"),
        death_date=r.date("death_date"),
        treatment_end_date=r.date("treatment_end_date"),
        treatment_end_reason=r.choice("treatment_end_reason", END_REASONS, str.lower),
        last_known_alive_date=r.date("last_known_alive_date"),
    )
    _check_dates(r, patient, scenario, as_of)
    _check_outcomes(r, patient)
    _check_event_order(r, patient, scenario)
    return patient


_DATE_COLUMNS = (
    "enrollment_date",
    "first_dose_date",
    "last_scan_date",
    "progression_date",
    "death_date",
    "treatment_end_date",
    "last_known_alive_date",
)


def _check_dates(r: _Row, p: ObservedPatient, scenario: Scenario, as_of: dt.date) -> None:
    """No date after the as-of date; every event on or after enrollment, treatment events after first dose."""
    for column in _DATE_COLUMNS:
        day = getattr(p, column)
        if day is not None and day > as_of:
            raise r.fail(column, f"{day} is after the as-of date {as_of}")
        if day is not None and day < p.enrollment_date:
            raise r.fail(column, f"{day} is before the patient's enrollment ({p.enrollment_date})")
    _check_dose(r, p, scenario, as_of)
    if p.death_date is not None and p.last_known_alive_date is not None and p.last_known_alive_date > p.death_date:
        raise r.fail("last_known_alive_date", f"{p.last_known_alive_date} is after the death date {p.death_date}")


def _check_dose(r: _Row, p: ObservedPatient, scenario: Scenario, as_of: dt.date) -> None:
    """The first dose within the scenario's delay of enrollment (or still possible), before any treatment event."""
    if p.first_dose_date is None:
        for column in ("last_scan_date", "progression_date", "treatment_end_date"):
            if getattr(p, column) is not None:
                raise r.fail(column, "is given but first_dose_date is empty: treatment events need a first dose")
        high = scenario.recruitment.enrollment_to_first_dose_days[1]
        if (as_of - p.enrollment_date).days >= high:
            raise r.fail(
                "first_dose_date",
                f"is empty, but recruitment.enrollment_to_first_dose_days allows at most {high} days from enrollment "
                f"and the as-of date is {(as_of - p.enrollment_date).days} days after it",
            )
        return
    low, high = scenario.recruitment.enrollment_to_first_dose_days
    gap = (p.first_dose_date - p.enrollment_date).days
    if not low <= gap <= high:
        raise r.fail(
            "first_dose_date",
            f"is {gap} days after enrollment; recruitment.enrollment_to_first_dose_days allows {low} to {high}",
        )
    for column in ("last_scan_date", "progression_date", "treatment_end_date"):
        day = getattr(p, column)
        if day is not None and day < p.first_dose_date:
            raise r.fail(column, f"{day} is before the first dose ({p.first_dose_date})")


def _check_outcomes(r: _Row, p: ObservedPatient) -> None:
    """The outcome cells agree with each other (a response needs a dose, progression a scan, ...)."""
    if p.best_response and p.first_dose_date is None:
        raise r.fail(
            "best_response", f"is {p.best_response} but first_dose_date is empty: a response needs a first dose"
        )
    if r.flag("confirmed") is not None and p.best_response not in ("CR", "PR"):
        raise r.fail("confirmed", "applies only to a best response of CR or PR")
    if p.best_response in ("CR", "PR") and r.flag("confirmed") is None:
        raise r.fail("confirmed", f"is empty; say true or false for a best response of {p.best_response}")
    if p.progression_date is not None and not p.best_response:
        raise r.fail("best_response", "is empty but progression_date is given: progression is read at a scan")
    if p.best_response == "PD" and p.progression_date is None:
        raise r.fail("progression_date", "is empty but the best response is PD")
    _check_treatment_end(r, p)


def _check_treatment_end(r: _Row, p: ObservedPatient) -> None:
    """An ended treatment has a date and one of the reasons, and the event its reason names."""
    if p.treatment_end_date is not None and not p.treatment_end_reason:
        raise r.fail("treatment_end_reason", f"is empty; allowed: {', '.join(END_REASONS)}")
    if p.treatment_end_reason and p.treatment_end_date is None:
        raise r.fail("treatment_end_date", f"is empty but treatment_end_reason is {p.treatment_end_reason}")
    if p.treatment_end_reason == "progression" and p.progression_date is None:
        raise r.fail("progression_date", "is empty but treatment ended for progression")
    if p.treatment_end_reason == "death" and p.death_date is None:
        raise r.fail("death_date", "is empty but treatment ended for death")
    if p.death_date is not None and p.first_dose_date is not None and p.treatment_end_date is None:
        raise r.fail("treatment_end_date", "is empty but the patient died: treatment ends at death at the latest")


def _check_scan_days(r: _Row, p: ObservedPatient, scenario: Scenario) -> None:
    """The last scan and progression on scan days; with unscheduled assessments, a progression on any later day.

    With ``schedule.unscheduled_progression_share`` > 0 a symptom-prompted assessment may find a
    progression on any day after the first dose, and that is the last scan.
    """
    sc = scenario.schedule
    for column in ("last_scan_date", "progression_date"):
        day = getattr(p, column)
        if day is None or p.first_dose_date is None:
            continue
        gap = (day - p.first_dose_date).days
        if sc.unscheduled_progression_share > 0 and p.progression_date is not None and day == p.progression_date:
            # an unscheduled assessment may find progression on any day after the first dose
            if gap < 1:
                raise r.fail(column, f"{day} is not after the first dose {p.first_dose_date}")
            continue
        scan = round(gap / sc.scan_interval_days)
        if scan < 1 or abs(gap - scan * sc.scan_interval_days) > sc.scan_window_days:
            raise r.fail(
                column,
                f"{day} is {gap} days after the first dose, not a scan day: scans fall every "
                f"{sc.scan_interval_days} ± {sc.scan_window_days} days from the first dose "
                "(schedule.scan_interval_days, schedule.scan_window_days)",
            )


def _check_event_order(r: _Row, p: ObservedPatient, scenario: Scenario) -> None:
    """Scans on the schedule, none after progression or death; treatment ending on the day of its reason.

    The model reads progression at a scan, stops scanning at progression, and ends treatment on the
    day of the progression or death that ends it; the forecast conditions on these dates, so a row
    that breaks them is refused.
    """
    _check_scan_days(r, p, scenario)
    if p.progression_date is not None and p.last_scan_date not in (None, p.progression_date):
        raise r.fail(
            "last_scan_date",
            f"{p.last_scan_date} differs from the progression date {p.progression_date}: progression is read at a "
            "scan, and scanning stops there",
        )
    if p.death_date is not None:
        for column in ("last_scan_date", "progression_date", "treatment_end_date"):
            day = getattr(p, column)
            if day is not None and day > p.death_date:
                raise r.fail(column, f"{day} is after the death date {p.death_date}")
    for reason, column in (("progression", "progression_date"), ("death", "death_date")):
        if p.treatment_end_reason == reason and p.treatment_end_date != getattr(p, column):
            raise r.fail(
                "treatment_end_date",
                f"{p.treatment_end_date} differs from the {column} {getattr(p, column)}: treatment ended for {reason}",
            )


def _check_together(patients: Sequence[ObservedPatient], scenario: Scenario, source: str) -> None:
    """Identifiers unique; no more patients than the trial enrolls."""
    seen: dict[str, int] = {}
    for p in patients:
        if p.patient_id in seen:
            raise ObservedError(
                f"{source}, row {p.row}, column patient_id: {p.patient_id!r} repeats row {seen[p.patient_id]}; "
                "each patient appears once"
            )
        seen[p.patient_id] = p.row
    n = scenario.trial.sample_size
    if len(patients) > n and not scenario.trial.replace_non_evaluable:
        raise ObservedError(
            f"{source}, row {patients[n].row}, column patient_id: the file has {len(patients)} patients, "
            f"more than trial.sample_size ({n})"
        )
