"""The design search (``trialsim size``): which sample size, decision rule and recruitment would work.

See :mod:`sim.sizing.search` for the method and ``docs/size.md`` for the command.
"""

from __future__ import annotations

from .candidates import Design
from .levers import DESIGNS, Levers, SizeInputError
from .result import Confirmed, SizeResult, SizeTables, read_size
from .search import OBJECTIVES, Targets, size

__all__ = [
    "DESIGNS",
    "OBJECTIVES",
    "Confirmed",
    "Design",
    "Levers",
    "SizeInputError",
    "SizeResult",
    "SizeTables",
    "Targets",
    "read_size",
    "size",
]
