"""What every report figure is: a drawn ``Figure`` with its words and the data behind it.

A :class:`ReportFigure` holds the matplotlib figure, a caption that tells a non-statistician what to
look at, alt text with the key numbers, and the tidy table the figure was drawn from (the page writes
it as CSV). Figures are ``matplotlib.figure.Figure`` objects built directly: they need no pyplot and
no backend state, so drawing is safe in any process and any thread.

Colours are the Okabe-Ito palette, safe for the common colour-vision deficiencies; each series also
has its own line style and marker, so a grey printout still tells the series apart.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib
import pandas as pd
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator, PercentFormatter

from ...runs.folder import SavedRun

__all__ = [
    "A4_WIDTH_INCHES",
    "LINE_STYLES",
    "MARKERS",
    "OKABE_ITO",
    "HATCHES",
    "SECTIONS",
    "ReportFigure",
    "new_figure",
    "percent_axis",
    "scenario_labels",
    "series_style",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""Okabe & Ito's colour-blind-safe palette, darkest and most distinct first (series order)."""

LINE_STYLES: tuple[str, ...] = ("-", "--", ":", "-.")
"""Line styles that tell series apart when the page is printed in grey."""

MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
"""Marker shapes, one per series, for the same reason."""

HATCHES: tuple[str, ...] = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
"""Fill patterns for stacked bars, so categories survive a grey printout."""

SECTIONS: tuple[str, ...] = (
    "forecast", "recruitment", "timeline", "power", "design", "precision", "survival", "treatment"
)
"""The page's figure sections, in page order."""

A4_WIDTH_INCHES = 7.0
"""Figure width that fits an A4 page inside its margins at full scale."""


@dataclass(frozen=True, eq=False)
class ReportFigure:
    """One figure of the report: what it shows in words, the data behind it, and the drawing.

    ``key`` is the file stem (``recruitment_fan_base``); ``section`` one of :data:`SECTIONS`;
    ``scenario`` names the run a per-scenario figure shows ("" when it compares scenarios).
    Compared by identity: a DataFrame has no single truth value to compare by.
    """

    key: str
    section: str
    title: str
    caption: str
    alt: str
    data: pd.DataFrame
    figure: Figure
    scenario: str = ""

    def __post_init__(self) -> None:
        if self.section not in SECTIONS:
            raise ValueError(f"section must be one of {', '.join(SECTIONS)}; got {self.section!r}")
        if not re.fullmatch(r"[a-z0-9_]+", self.key):
            raise ValueError(f"key must be a file stem of a-z, 0-9 and _; got {self.key!r}")

    def svg(self) -> str:
        """The figure as SVG text to inline in HTML: no XML header, ids numbered under the key.

        Ids become ``<key>-<n>`` in order of definition: several inline SVGs on one page then share
        no clip path or glyph id, and the text is the same on every call (matplotlib's hashed ids
        change with float round-off after a render at another dpi). The alt text becomes the
        ``aria-label`` of an ``img`` role for screen readers.
        """
        buffer = io.StringIO()
        # glyph outlines need no font where the SVG is shown
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "trialsim"}):
            self.figure.savefig(buffer, format="svg", metadata={"Date": None})
        text = buffer.getvalue()
        text = text[text.index("<svg") :]
        prefix = self.key.replace("_", "-")
        names = {old: f"{prefix}-{i}" for i, old in enumerate(dict.fromkeys(re.findall(r'\bid="([^"]+)"', text)))}
        text = re.sub(
            r'(\bid="|href="#|url\(#)([^")]+)',
            lambda m: m.group(1) + names.get(m.group(2), f"{prefix}-{m.group(2)}"),
            text,
        )
        label = html.escape(self.alt, quote=True)
        return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)

    def png(self, dpi: int = 150) -> bytes:
        """The figure as PNG bytes at ``dpi`` (150 prints sharply on A4)."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()


def new_figure(height: float = 3.5, ncols: int = 1, **subplot_options: Any) -> tuple[Figure, Any]:
    """An A4-wide figure (7 inches by ``height``) with ``ncols`` panels side by side.

    Returns the figure and its axes (one ``Axes`` for one panel, else an array of them).
    Constrained layout keeps labels inside the figure without a backend.
    """
    figure = Figure(figsize=(A4_WIDTH_INCHES, height), layout="constrained")
    axes = figure.subplots(1, ncols, squeeze=True, **subplot_options)
    return figure, axes


def series_style(index: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``index``-th series (cycling), distinct in colour and in grey."""
    return {
        "color": OKABE_ITO[index % len(OKABE_ITO)],
        "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
        "marker": MARKERS[index % len(MARKERS)],
    }


def scenario_labels(runs: Sequence[SavedRun]) -> list[str]:
    """Each run's name, made unique ("base", "base_2") and safe in a file stem, in run order."""
    labels: list[str] = []
    for run in runs:
        stem = re.sub(r"[^a-z0-9]+", "_", run.name.lower()).strip("_") or "scenario"
        label, n = stem, 1
        while label in labels:
            n += 1
            label = f"{stem}_{n}"
        labels.append(label)
    return labels


def percent_axis(axis: Axis) -> None:
    """Label ``axis`` (proportions) in whole percents, at a step that makes every label exact.

    Call it once the axis limits are final: the step is the smallest of 1, 2, 5, 10, 20 or 25
    percentage points giving at most ten ticks over the range shown, so no tick reads "23%" for 22.5%.
    """
    low, high = axis.get_view_interval()
    span = abs(float(high) - float(low))
    step = next((s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25) if span / s <= 10), 0.25)
    axis.set_major_locator(MultipleLocator(step))
    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
