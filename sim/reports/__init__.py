"""Reports: the result objects of runs, grids, designs and calibrations rendered for people to read.

Rendering only: every function takes a finished result (``OperatingCharacteristics``, a grid
result, a design summary, benchmark rows, a ``CalibrationResult``, saved runs) and never simulates.
``text`` renders for the terminal; ``figures``, ``story``, ``assumptions`` and ``page`` make the
steering committee's HTML report (docs/report.md).
"""

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
