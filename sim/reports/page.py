"""The steering committee's page: one self-contained HTML file, with each figure also as SVG, PNG and CSV.

The page is drawn from saved runs (:class:`~sim.runs.folder.SavedRun`) only, so a report made
while simulating and one made later from the run folders are the same page. Everything the page
shows is inline (stylesheet, figures as SVG data); it needs no network and prints on A4. Files are
written to a temporary folder first and moved into place at the end, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import base64
import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2

from ..runs.folder import SavedRun
from ..version import __version__
from .assumptions import assumption_table
from .figures import ReportFigure, all_figures
from .story import Thresholds, scenario_sentences, verdicts

__all__ = ["ReportFiles", "render_page", "templates_folder", "write_report", "SECTIONS"]

SECTIONS: tuple[tuple[str, str], ...] = (
    ("forecast", "Where the trial stands: the forecast from the data so far"),
    ("recruitment", "Recruitment"),
    ("timeline", "Timeline"),
    ("power", "Power"),
    ("design", "What would make it work"),
    ("precision", "Precision of the response rate"),
    ("survival", "Survival"),
    ("treatment", "Why patients stop treatment"),
)


@dataclass(frozen=True)
class ReportFiles:
    """What a report wrote: the page, and per figure its SVG, PNG and CSV."""

    index: Path
    figures: tuple[Path, ...]
    data: tuple[Path, ...]


def templates_folder() -> Path:
    """The page template and stylesheet: installed as package data, or the clone's ``reports/``."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "report_templates", package.parent / "reports"):
        if (folder / "report.html.j2").is_file():
            return folder
    raise FileNotFoundError("the report template (reports/report.html.j2) is not installed")


def _unique_names(runs: Sequence[SavedRun]) -> list[str]:
    """Scenario labels, numbered when two runs share a name."""
    names: list[str] = []
    for run in runs:
        name, k = run.name, 2
        while name in names:
            name, k = f"{run.name} ({k})", k + 1
        names.append(name)
    return names


def _svg_uri(figure: ReportFigure) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(figure.svg().encode()).decode()


def _number(value: Any) -> str:
    """A summary-table value as shown: 4 decimals, dates as they are, n/a when undefined."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return value if isinstance(value, str) else f"{value:.4f}"


def _mcse(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    return f"{value:.1f}" if "date" in unit else f"{value:.4f}"


def _scenario_context(run: SavedRun, name: str, limits: Thresholds) -> dict[str, Any]:
    table = run.summary.table()
    return {
        "name": name,
        "title": run.scenario.trial.name,
        "sentences": scenario_sentences(run),
        "verdicts": verdicts(run, limits),
        "summary": [
            {"figure": r.figure, "estimate": _number(r.estimate), "mcse": _mcse(r.mcse, r.unit), "unit": r.unit}
            for r in table.itertuples(index=False)
        ],
        "replicates": run.summary.replicates,
        "seed": run.seed,
        "command": run.command,
        "version": run.version,
        "created": run.created,
        "sha256": run.scenario_sha256,
        "overrides": list(run.overrides),
        "without_patients": run.patients is None,
    }


def render_page(runs: Sequence[SavedRun], figures: Sequence[ReportFigure], limits: Thresholds) -> str:
    """The HTML of the report for ``runs`` with ``figures`` drawn from them."""
    if not runs:
        raise ValueError("runs must hold at least one saved run")
    names = _unique_names(runs)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_folder()),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    assumptions = assumption_table([_renamed(run, name) for run, name in zip(runs, names)])
    sections = [
        {"key": key, "title": title, "figures": [f for f in figures if f.section == key]} for key, title in SECTIONS
    ]
    template = environment.get_template("report.html.j2")
    return template.render(
        scenarios=[_scenario_context(run, name, limits) for run, name in zip(runs, names)],
        labels=[v.label for v in verdicts(runs[0], limits)],
        limits=limits,
        sections=sections,
        svg_uri=_svg_uri,
        assumptions=assumptions.to_dict("records"),
        names=names,
        stylesheet=(templates_folder() / "report.css").read_text(encoding="utf-8"),
        version=__version__,
    )


def _renamed(run: SavedRun, name: str) -> SavedRun:
    return replace(run, name=name)


def write_report(
    runs: Sequence[SavedRun], out: Path, limits: Thresholds, extra: Sequence[ReportFigure] = ()
) -> ReportFiles:
    """Write ``out/index.html``, ``out/figures/*.svg|png`` and ``out/data/*.csv``; all or nothing.

    ``extra`` figures drawn from elsewhere (the forecast's) join the page in their sections.
    """
    figures = [*extra, *all_figures(runs)]
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (staging / "figures").mkdir()
        (staging / "data").mkdir()
        for figure in figures:
            (staging / "figures" / f"{figure.key}.svg").write_text(figure.svg(), encoding="utf-8")
            (staging / "figures" / f"{figure.key}.png").write_bytes(figure.png())
            figure.data.to_csv(staging / "data" / f"{figure.key}.csv", index=False)
        (staging / "index.html").write_text(render_page(runs, figures, limits), encoding="utf-8")
        for part in ("figures", "data"):
            shutil.rmtree(out / part, ignore_errors=True)
            (staging / part).replace(out / part)
        (staging / "index.html").replace(out / "index.html")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ReportFiles(
        index=out / "index.html",
        figures=tuple(out / "figures" / f"{f.key}.{ext}" for f in figures for ext in ("svg", "png")),
        data=tuple(out / "data" / f"{f.key}.csv" for f in figures),
    )
