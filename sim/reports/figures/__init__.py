"""The report's figures: one module per figure family, each drawing finished runs without simulating.

Every family exposes ``<family>_figures(runs) -> list[ReportFigure]`` and the pure data functions
behind its figures (testable without drawing); :func:`all_figures` returns them in page order.
Figures are ``matplotlib.figure.Figure`` objects built directly, never through pyplot, so no global
backend state is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...runs.folder import SavedRun
from .assurance import assurance_figures
from .base import OKABE_ITO, SECTIONS, ReportFigure, new_figure, scenario_labels, series_style
from .forecast import forecast_figure
from .power import power_figures
from .precision import precision_figures
from .recruitment import recruitment_figures
from .survival import survival_figures
from .timeline import timeline_figures
from .treatment import treatment_figures

__all__ = [
    "OKABE_ITO",
    "SECTIONS",
    "ReportFigure",
    "all_figures",
    "assurance_figures",
    "forecast_figure",
    "new_figure",
    "power_figures",
    "precision_figures",
    "recruitment_figures",
    "scenario_labels",
    "series_style",
    "survival_figures",
    "timeline_figures",
    "treatment_figures",
]


def all_figures(runs: Sequence[SavedRun]) -> list[ReportFigure]:
    """Every figure of the report for ``runs``, in page order (the sections of :data:`SECTIONS`).

    Figures that need the patient table (fan chart, survival, treatment) are left out for runs
    that did not keep their patients.
    """
    return [
        *recruitment_figures(runs),
        *timeline_figures(runs),
        *power_figures(runs),
        *assurance_figures(runs),
        *precision_figures(runs),
        *survival_figures(runs),
        *treatment_figures(runs),
    ]
