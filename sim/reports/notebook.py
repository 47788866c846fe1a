"""The report's figures for a run in a notebook, drawn from the result without writing a folder."""

from __future__ import annotations

from ..runs.folder import SavedRun
from ..runs.runner import RunResult
from .figures import ReportFigure, all_figures

__all__ = ["figures_of"]


def figures_of(result: RunResult) -> list[ReportFigure]:
    """The report's figures for ``result``; its scenario's file comes with it (:func:`sim.runs.folder.provenance`).

    Recruitment, survival and treatment figures need the patient table: run with ``keep_patients=True``.
    """
    return all_figures([SavedRun.from_result(result)])
