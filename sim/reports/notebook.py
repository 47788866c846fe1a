"""The report's figures for a run in a notebook, drawn from the result without writing a folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..run_folder import SavedRun
from ..runner import RunResult
from .figures import ReportFigure, all_figures

__all__ = ["figures_of"]


def figures_of(result: RunResult, scenario_file: str | Path, overrides: Sequence[str] = ()) -> list[ReportFigure]:
    """The report's figures for ``result`` (run from ``scenario_file`` with ``overrides``).

    Recruitment, survival and treatment figures need the patient table: run with ``keep_patients=True``.
    """
    return all_figures([SavedRun.from_result(result, scenario_file, overrides)])
