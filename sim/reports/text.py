"""Plain-text reports for the terminal: fixed-width tables of estimates with their MCSEs.

Each function renders a result object the library returned; none computes a figure. Estimates
print with four decimals, dates as ISO dates with their MCSE in days, and "n/a" where a figure
is undefined (no replicate reached a median, no CI to cover). A :class:`Heading` puts what was
run above a report: the scenario file, the seed, the overrides and the hypothesis tested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from ..analysis.summary import OperatingCharacteristics
from ..calibration import Benchmark, CalibrationResult
from ..model.planning import PlanningFigures
from ..runs.sweep import GridResult, OCGridResult
from ..scenario.model import Scenario
from ..scenario.variants import drop_absent, resolved_scenario

__all__ = [
    "Heading",
    "benchmark_text",
    "calibration_text",
    "check_text",
    "design_text",
    "oc_text",
    "summary_text",
    "sweep_text",
]


@dataclass(frozen=True)
class Heading:
    """What a report names above its figures, so that two runs' outputs cannot be confused.

    ``scenario_file`` is the scenario as given (a shipped name or a path) and ``file`` the file it
    names; ``seed`` is None where nothing is simulated (``trialsim check``); ``engine`` names the
    engine that simulated a run (what ``auto`` chose), None where a report does not say.
    """

    scenario_file: str
    file: str
    trial_name: str
    p0: float
    alpha: float
    seed: int | None = None
    overrides: tuple[str, ...] = ()
    engine: str | None = None

    @classmethod
    def of(
        cls, scenario_file: str | Path, file: str | Path, scenario: Scenario, seed: int | None, overrides: Sequence[str]
    ) -> Heading:
        """The heading of a report on ``scenario`` (read from ``file``, given as ``scenario_file``)."""
        analysis = scenario.analysis
        name = scenario.trial.name
        return cls(str(scenario_file), str(file), name, analysis.p0, analysis.alpha, seed, tuple(overrides))

    def lines(self, replicates: int | None = None) -> list[str]:
        """Three lines: the scenario file and trial; the seed and overrides; H0, alpha and the replicates."""
        source = self.scenario_file if self.file == self.scenario_file else f"{self.scenario_file} ({self.file})"
        settings = [] if self.seed is None else [f"seed {self.seed}"]
        settings += [] if self.engine is None else [f"engine {self.engine}"]
        settings.append(f"overrides {', '.join(self.overrides)}" if self.overrides else "no overrides")
        hypothesis = f"H0: ORR <= {self.p0:g}, one-sided alpha {self.alpha:g}"
        if replicates is not None:
            hypothesis += f"; {replicates} replicates"
        run = "; ".join(settings)
        return [f"Scenario {source}: {self.trial_name}", run[0].upper() + run[1:], hypothesis]


_GRID_NOTE = "± is one Monte Carlo standard error; every cell uses the same seed (common random numbers)."

_DESIGN_LABELS = {"single_stage": "single-stage", "simon_optimal": "Simon optimal", "simon_minimax": "Simon minimax"}

_BENCHMARK_COLUMNS = (
    ("id", "id", 6),
    ("regimen", "regimen", 34),
    ("setting", "setting", 30),
    ("n", "n", 5),
    ("orr", "ORR", 6),
    ("dcr", "DCR", 6),
    ("median_pfs_months", "mPFS", 5),
    ("median_os_months", "mOS", 5),
    ("response_criteria", "criteria", 10),
    ("consensus_ref", "ref", 14),
)
"""(attribute, heading, width) of each column of the benchmark table."""


def estimate_cell(estimate: Any) -> str:
    """An estimate as the summary shows it: a date as is, a number to four decimals, else n/a."""
    if isinstance(estimate, str):
        return estimate
    if estimate is None or not math.isfinite(estimate):
        return "n/a"
    return f"{estimate:.4f}"


def mcse_cell(mcse: float, unit: str) -> str:
    """An MCSE to four decimals, or to a tenth of a day for a date."""
    if not math.isfinite(mcse):
        return "n/a"
    return f"{mcse:.1f}" if "date" in unit else f"{mcse:.4f}"


def summary_text(summary: OperatingCharacteristics, heading: Heading | None = None) -> str:
    """A run's operating characteristics as a table of figure, estimate, MCSE and unit, under ``heading`` if given."""
    if heading is not None:
        lines = [*heading.lines(summary.replicates), ""]
    else:
        lines = [f"{summary.scenario_name}: {summary.replicates} replicates", ""]
    if summary.decisions.prior_line:
        lines[-1:-1] = [summary.decisions.prior_line]
    table = summary.table()
    width = max(len(f) for f in table["figure"])
    lines.append(f"{'figure':<{width}}  {'estimate':>12}  {'MCSE':>9}  unit")
    for row in table.itertuples(index=False):
        estimate, mcse = estimate_cell(row.estimate), _uncertainty_cell(row.estimate, row.mcse, row.bound_95, row.unit)
        lines.append(f"{row.figure:<{width}}  {estimate:>12}  {mcse:>9}  {row.unit}")
    if table["bound_95"].notna().any():
        lines.append(_BOUND_NOTE)
    return "\n".join(lines)


_BOUND_NOTE = (
    "<= and >=: the figure is 0 or 1 in every trial, where the MCSE is 0 and says nothing; shown instead is its "
    "exact one-sided 95% bound (Clopper-Pearson; about 3 / replicates, the rule of three)"
)


def _uncertainty_cell(estimate: Any, mcse: float, bound: float, unit: str) -> str:
    """The MCSE cell, or the one-sided bound of a share of 0 (``<=``) or 1 (``>=``)."""
    if isinstance(bound, float) and math.isfinite(bound):
        return f"{'<=' if estimate == 0 else '>='}{bound:.4f}"
    return mcse_cell(mcse, unit)


def _grid_lines(grid: GridResult, title: str) -> list[str]:
    """The title, the grid table with each figure shown as ``estimate ± MCSE``, and what ± means."""
    table = grid.table()
    # a figure no cell has (the interim wait of a design without looks) is left out of the text
    table = table.drop(columns=[c for c in table.columns if table[c].isna().all()])
    shown = table.copy()
    bounded = False
    for name in [name for name in table.columns if f"{name}_mcse" in table.columns]:
        bounds = table[f"{name}_bound_95"] if f"{name}_bound_95" in table.columns else [math.nan] * len(table)
        shown[name] = [
            f"{v:.4f} ± {m:.4f}" if not math.isfinite(b) else f"{v:.4f} {'<=' if v == 0 else '>='}{b:.4f}"
            for v, m, b in zip(table[name], table[f"{name}_mcse"], bounds)
        ]
        bounded = bounded or any(math.isfinite(b) for b in bounds)
        shown = shown.drop(columns=[c for c in (f"{name}_mcse", f"{name}_bound_95") if c in shown.columns])
    return [title, shown.to_string(index=False), "", _GRID_NOTE, *([_BOUND_NOTE] if bounded else [])]


def headed(heading: Heading | None, lines: list[str]) -> str:
    """``lines`` under the heading's lines and a blank line, if there is a heading."""
    return "\n".join([*heading.lines(), "", *lines] if heading else lines)


def sweep_text(grid: GridResult, heading: Heading | None = None) -> str:
    """A sensitivity grid: one row per cell, each figure with its MCSE (under ``heading`` if given)."""
    return headed(heading, _grid_lines(grid, f"Sensitivity grid ({grid.replicates} replicates per cell)"))


def oc_text(grid: OCGridResult, heading: Heading | None = None) -> str:
    """Operating characteristics over the latent ORR, ending with the type I error at latent ORR = p0 and at the edge.

    The row at latent ORR = p0 is a point inside H0 when dropout lowers the tested rate; the
    boundary figure is the size where the tested rate equals p0, or says why the grid cannot give it.
    """
    title = f"Operating characteristics over the latent ORR ({grid.replicates} replicates per row)"
    null = grid.null_cell
    power = null.summary.power
    lead = f"Type I error at p0 = {float(null.setting['efficacy.orr']):g}: "
    lines = [f"{lead}{power.value:.4f} ({power.uncertainty()}) at latent ORR = p0"]
    boundary = grid.boundary
    if boundary.bracketed:
        latent, size = boundary.latent_orr, boundary.type_one_error
        low, high = boundary.between
        lines.append(
            f"{'':<{len(lead)}}{size.value:.4f} (MCSE {size.mcse:.4f}) at the boundary, where the tested rate is p0: "
            f"latent ORR {latent.value:.4f} (MCSE {latent.mcse:.4f}), interpolated between {low:g} and {high:g}"
        )
        if boundary.interpolation_gap > size.mcse:
            lines.append(
                "Caution: the grid is coarse at the boundary; interpolating on the log scale moves the size by "
                f"{boundary.interpolation_gap:.4f}, more than its MCSE. "
                f"Add latent ORR values between {low:g} and {high:g}."
            )
    else:
        lines.append(f"{'':<{len(lead)}}not read at the boundary, where the tested rate is p0: {boundary.problem}")
    return headed(heading, [*_grid_lines(grid, title), *lines])


def design_text(summary: Mapping[str, Any]) -> str:
    """Designs as ``design_summary`` records them, as a fixed-width table under the hypotheses."""
    lines = [
        f"Designs for H0: ORR <= {summary['p0']:g} against H1: ORR = {summary['p1']:g}",
        (
            f"exact binomial; one-sided alpha <= {summary['alpha']:g}, power >= {summary['power']:g}, "
            f"n <= {summary['nmax']}"
        ),
        "",
        (
            f"{'design':<15}{'r1/n1':>7}{'r/n':>8}{'PET(p0)':>9}{'PET(p1)':>9}"
            f"{'EN(p0)':>8}{'EN(p1)':>8}{'alpha':>8}{'power':>8}"
        ),
    ]
    for key, label in _DESIGN_LABELS.items():
        d = summary["designs"][key]
        one_stage = d["n1"] is None
        stage1 = "-" if one_stage else f"{d['r1']}/{d['n1']}"
        pet0, pet1 = ("-", "-") if one_stage else (f"{d['pet_p0']:.4f}", f"{d['pet_p1']:.4f}")
        lines.append(
            f"{label:<15}{stage1:>7}{d['r']:>5}/{d['n']:<3}{pet0:>8}{pet1:>9}"
            f"{d['en_p0']:>8.2f}{d['en_p1']:>8.2f}{d['alpha']:>8.4f}{d['power']:>8.4f}"
        )
    lines += ["", f"Rule: {summary['rule']}."]
    return "\n".join(lines)


def _benchmark_cell(value: Any, width: int) -> str:
    """A benchmark value in a column: empty when not reported, shortened with ~ when too wide."""
    text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
    return text if len(text) <= width else text[: width - 1] + "~"


def benchmark_text(rows: Sequence[Benchmark]) -> str:
    """Benchmark rows as a fixed-width table (rates as proportions, times in months)."""
    header = "  ".join(f"{title:<{width}}" for _, title, width in _BENCHMARK_COLUMNS).rstrip()
    lines = [header, "-" * len(header)]
    for row in rows:
        cells = [_benchmark_cell(getattr(row, name), width) for name, _, width in _BENCHMARK_COLUMNS]
        lines.append("  ".join(f"{c:<{w}}" for c, (_, _, w) in zip(cells, _BENCHMARK_COLUMNS)).rstrip())
    lines.append(
        f"{len(rows)} row(s); rates are proportions, times months; `--json` shows every column and the citation"
    )
    return "\n".join(lines)


def _calibration_number(value: float) -> str:
    """A calibration figure to four decimals, or n/a."""
    return f"{value:.4f}" if math.isfinite(value) else "n/a"


def calibration_text(result: CalibrationResult, out: Path | None = None) -> str:
    """A calibration's targets next to what it achieves (with MCSEs), what it implies, the fitted
    parameters, its warnings and notes, and where it went."""
    t = result.targets
    lines = [
        f"Calibrated {result.family} PFS, scans every {t.scan_weeks:g} weeks ({result.scan_interval_days} +/- "
        f"{result.scan_window_days} days), {'confirmed' if t.confirmed else 'unconfirmed'} responses, "
        + (f"n = {t.source_n}" if t.source_n else "large study"),
        "",
        f"{'statistic':<20} {'target':>8} {'achieved':>9} {'MCSE':>7} {'miss':>8}  "
        "compared as (miss: on the survival scale)",
    ]
    for f in result.fits:
        achieved, mcse = _calibration_number(f.achieved), _calibration_number(f.mcse)
        lines.append(
            f"{f.name:<20} {f.target:>8g} {achieved:>9} {mcse:>7} {round(f.miss, 4) + 0.0:>+8.4f}  {f.statistic}"
        )
    if result.implied:
        width = max(29, *(len(i.name) for i in result.implied))
        lines += ["", f"{'implied, not a target':<{width}} {'value':>9} {'MCSE':>7}"]
        for i in result.implied:
            value, mcse = _calibration_number(i.value), _calibration_number(i.mcse)
            lines.append(f"{i.name:<{width}} {value:>9} {mcse:>7}  {i.statistic}")
    params = result.parameters()
    lines += ["", f"efficacy.orr = {params['orr']:g}", f"efficacy.pfs = {params['pfs']}"]
    if "unconfirmed_response_share" in params:
        lines.append(f"efficacy.unconfirmed_response_share = {params['unconfirmed_response_share']:g}")
    if "os_median_months" in params:
        lines.append(f"efficacy.os_median_months = {params['os_median_months']:g}")
    if "post_progression_survival" in params:
        lines.append(f"efficacy.post_progression_survival = {params['post_progression_survival']}")
    lines += [f"warning: {warning}" for warning in result.warnings]
    lines += [f"note: {note}" for note in result.notes]
    if out is not None:
        lines.append(f"Wrote {out}")
    return "\n".join(lines)


def _spaced(toml: str) -> str:
    """TOML text with a blank line before every table header, as a scenario file is laid out."""
    lines: list[str] = []
    for line in toml.strip("\n").splitlines():
        if line.startswith("[") and lines and lines[-1]:
            lines.append("")
        lines.append(line)
    return "\n".join(lines)


def _planning_lines(f: PlanningFigures) -> list[str]:
    """The planning figures as (label, value, what it is) rows."""
    if f.sample_size_reached is not None:
        reach = f"the sample size ({f.sample_size}) is reached on {f.sample_size_reached.isoformat()}"
    else:
        reach = f"short of the sample size ({f.sample_size}) at the close"
    if f.post_progression_solved:
        pps = "exponential, solved so that the OS median is efficacy.os_median_months"
    else:
        pps = "efficacy.post_progression_survival as given"
    rows = [
        ("Screened per month, full rate", f"{f.screened_per_month:.2f}", "all sites, before ramp-up and calendar"),
        ("Enrolled per month, full rate", f"{f.enrolled_per_month:.2f}", "after screen failures"),
        ("Months to the sample size, full rate", f"{f.months_to_sample_size:.1f}", f"{f.sample_size} patients"),
        ("Months recruitment is open", f"{f.recruitment_months:.1f}", "recruitment_open to recruitment_close"),
        ("Screened by the close (expected)", f"{f.expected_screened_by_close:.1f}", "with ramp-up and calendar"),
        ("Enrolled by the close (expected)", f"{f.expected_enrolled_by_close:.1f}", reach),
        (
            "ORR ceiling from the PFS",
            f"{f.orr_ceiling:.4f}",
            f"PFS survival on day {f.confirmation_day:g}; efficacy.orr is {f.orr:g}",
        ),
        ("Post-progression survival median", f"{f.post_progression_median_months:.2f}", f"months; {pps}"),
    ]
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{label:<{width}}  {value:>8}  {note}" for label, value, note in rows]
    return lines + [f"Warning: {w}" for w in f.warnings]


def check_text(heading: Heading, scenario: Scenario, figures: PlanningFigures) -> str:
    """A checked scenario: its heading, every field after overrides and defaults (TOML), then the planning figures."""
    resolved = _spaced(tomlkit.dumps(drop_absent(resolved_scenario(scenario))))
    return "\n".join(
        [
            *heading.lines(),
            "",
            "The scenario is valid; every field after overrides and defaults:",
            "",
            resolved,
            "",
            "Planning figures (expectations with the accrual rate known; no simulation; docs/reference.md):",
            *_planning_lines(figures),
        ]
    )
