"""Reports: the result objects of runs, grids, designs and calibrations rendered for people to read.

Rendering only: every function takes a finished result (``OperatingCharacteristics``, a grid
result, a design summary, benchmark rows, a ``CalibrationResult``, saved runs) and never simulates.
``text`` renders for the terminal; ``figures``, ``story``, ``assumptions`` and ``page`` make the
steering committee's HTML report (docs/report.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_names

if TYPE_CHECKING:
    from .figures import ReportFigure, all_figures
    from .forecast_text import forecast_text
    from .notebook import figures_of
    from .page import write_report
    from .story import Thresholds
    from .text import (
        Heading,
        benchmark_text,
        calibration_text,
        check_text,
        design_text,
        oc_text,
        summary_text,
        sweep_text,
    )

_WHERE = {
    "Heading": ".text",
    "ReportFigure": ".figures",
    "Thresholds": ".story",
    "all_figures": ".figures",
    "benchmark_text": ".text",
    "calibration_text": ".text",
    "check_text": ".text",
    "design_text": ".text",
    "figures_of": ".notebook",
    "forecast_text": ".forecast_text",
    "oc_text": ".text",
    "summary_text": ".text",
    "sweep_text": ".text",
    "write_report": ".page",
}
"""Each public name and its module: the terminal's text needs neither matplotlib nor jinja2."""

__all__ = [
    "Heading",
    "ReportFigure",
    "Thresholds",
    "all_figures",
    "benchmark_text",
    "calibration_text",
    "check_text",
    "design_text",
    "figures_of",
    "forecast_text",
    "oc_text",
    "summary_text",
    "sweep_text",
    "write_report",
]


__getattr__, __dir__ = lazy_names(__name__, _WHERE, globals())
