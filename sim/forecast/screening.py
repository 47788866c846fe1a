"""The screening log of a running trial: patients screened and found ineligible at each site by the as-of date.

One row per site (docs/reference.md, "Screening counts"), checked against the observed patients;
every refusal names the row, the site and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..scenario.model import Scenario
from .observed import ObservedError, ObservedTrial, read_text_table

__all__ = ["SCREENING_COLUMNS", "ScreeningCounts", "parse_screening", "read_screening"]


@dataclass(frozen=True)
class ScreeningCounts:
    """Patients screened and found ineligible at each site by the as-of date (sites absent: not known)."""

    screened: dict[str, int]
    failed: dict[str, int]

    def pending(self, site: str, enrolled: int) -> int:
        """Eligible patients still in screening at the as-of date (neither failed nor enrolled)."""
        return self.screened[site] - self.failed[site] - enrolled


SCREENING_COLUMNS = ("site", "screened", "screen_failed")


def read_screening(path: str | Path, scenario: Scenario, observed: ObservedTrial) -> ScreeningCounts:
    """Read and check the screening-counts CSV at ``path`` (one row per site) against the observed patients."""
    source = f"screening file {path}"
    return parse_screening(read_text_table(Path(path), source), scenario, observed, source)


def parse_screening(frame: pd.DataFrame, scenario: Scenario, observed: ObservedTrial, source: str) -> ScreeningCounts:
    """Check the screening counts: known sites once each, whole counts, failures and enrollments within the screened."""
    columns = [str(c).strip() for c in frame.columns]
    if sorted(columns) != sorted(SCREENING_COLUMNS):
        raise ObservedError(f"{source}: the columns must be {', '.join(SCREENING_COLUMNS)}; got {', '.join(columns)}")
    frame = frame.set_axis(columns, axis=1).apply(lambda col: col.str.strip())
    sites = [s.name for s in scenario.recruitment.sites]
    enrolled = {name: sum(p.site == name for p in observed.patients) for name in sites}
    screened: dict[str, int] = {}
    failed: dict[str, int] = {}
    for row, record in enumerate(frame.to_dict("records"), 1):
        site = record["site"]
        where = f"{source}, row {row} ({site or 'no site'})"
        if site not in sites:
            raise ObservedError(
                f"{where}, column site: {site!r} is not a site of the scenario; allowed: {', '.join(sites)}"
            )
        if site in screened:
            raise ObservedError(f"{where}, column site: {site!r} is given twice; give each site once")
        counts = {}
        for column in ("screened", "screen_failed"):
            text = record[column]
            if not (text.isascii() and text.isdigit()):
                raise ObservedError(f"{where}, column {column}: {text!r} is not a whole number of patients")
            counts[column] = int(text)
        if counts["screen_failed"] + enrolled[site] > counts["screened"]:
            raise ObservedError(
                f"{where}, column screened: {counts['screened']} screened cannot hold {counts['screen_failed']} "
                f"screen failures and the {enrolled[site]} patients the observed file enrolls there"
            )
        screened[site], failed[site] = counts["screened"], counts["screen_failed"]
    return ScreeningCounts(screened, failed)
