"""The limits a scenario's fields are held to, and how a field declares its check.

A limit keeps a scenario's typo from becoming a run that cannot finish or fit in memory; each is
stated once here and quoted by the checks and by ``docs/reference.md``.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from . import checks as c

__all__ = [
    "MAX_LOOK_WORK",
    "MAX_MONTHS",
    "MAX_PATIENT_SCHEDULE",
    "MAX_SCREENED_PER_TRIAL",
    "MAX_STUDY_YEARS",
    "declared",
]


MAX_SCREENED_PER_TRIAL = 200_000
"""Screened patients one simulated trial may imply; beyond, a scenario has a typo, not a plan."""

MAX_STUDY_YEARS = 50
"""Longest study (start to end); the scan grid and follow-up are simulated day by day up to it."""

MAX_MONTHS = MAX_STUDY_YEARS * 12.0
"""Longest span in months a field may give: the longest study that can be simulated."""

MAX_PATIENT_SCHEDULE = 5_000_000
"""Patients times (cycles + scans) each may have: the patient model draws several numbers per cycle and scan.

About 60 bytes each at the peak (measured), so a replicate stays near 300 MB, and under a gigabyte when
replacements draw further blocks of patients; a 10000-patient trial may still have 500 cycles and scans each.
"""

MAX_LOOK_WORK = 2_000_000
"""Bayesian looks times sample size: each look's predictive probability sums over the patients still to come.

At about 0.7 microseconds a term (measured), a replicate's looks then take at most 1.5 s; continuous
monitoring (a look after every patient) stays possible up to about 1400 patients.
"""


def declared(check: c.Check, default: Any = ..., doc: str = "") -> Any:
    """A dataclass field carrying its check, its meaning for the reference, and a default when optional."""
    meta = {"check": check, "doc": doc}
    if default is ...:
        return field(metadata=meta)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)
