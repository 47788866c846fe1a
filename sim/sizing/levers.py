"""The levers a design search may pull, and the scenario each combination of them makes.

A *recruitment setting* is one combination of the recruitment levers: the number of centres (the
scenario's own, then copies of its first site), months added to the recruitment period (the
study end moves with it, so the follow-up after the close is kept) and any ``--vary`` fields. The
design levers (sample size and decision rule) are searched within each setting.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..errors import TrialsimError
from ..scenario import apply_overrides

__all__ = ["DESIGNS", "Levers", "SizeInputError", "recruitment_settings", "setting_overrides", "with_setting"]

DESIGNS = ("single", "simon-optimal", "simon-minimax")
"""The design families: the exact single-stage test, Simon's optimal and minimax two-stage designs."""

SITES, EXTEND = "sites", "extend_recruitment_months"
"""The names of the two recruitment levers in a setting (every other key is a ``--vary`` field)."""


class SizeInputError(ValueError, TrialsimError):
    """A design search asked for with unusable levers or targets; the message begins with the option."""


@dataclass(frozen=True)
class Levers:
    """What the search varies: sample sizes, design families and the recruitment levers.

    No sample sizes (``n`` empty) searches from half to twice the scenario's sample size.
    """

    n: tuple[int, ...] = ()
    designs: tuple[str, ...] = ("single",)
    sites: tuple[int, ...] = ()
    extend_months: tuple[int, ...] = (0,)
    vary: Mapping[str, Sequence[str]] = field(default_factory=dict)
    new_site_activation: dt.date | None = None

    def __post_init__(self) -> None:
        if self.n and min(self.n) < 2:
            raise SizeInputError(f"--n must give sample sizes of at least 2, got {list(self.n)}")
        unknown = [d for d in self.designs if d not in DESIGNS]
        if unknown or not self.designs:
            raise SizeInputError(f"--designs must be a list of {', '.join(DESIGNS)}, got {', '.join(self.designs)}")
        if self.sites and min(self.sites) < 1:
            raise SizeInputError(f"--sites must be at least 1, got {min(self.sites)}")
        if not self.extend_months or min(self.extend_months) < 0:
            raise SizeInputError(f"--extend-recruitment-months must be 0 or more, got {list(self.extend_months)}")


def recruitment_settings(levers: Levers) -> list[dict[str, str]]:
    """Every combination of the recruitment levers, as ``{lever: value}`` (empty levers left out)."""
    axes: dict[str, list[str]] = {}
    if levers.sites:
        axes[SITES] = [str(k) for k in levers.sites]
    axes[EXTEND] = [str(m) for m in levers.extend_months]
    axes.update({k: list(v) for k, v in levers.vary.items()})
    return [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]


def _later(day: Any, months: int) -> dt.date:
    """``day`` (a date or ISO text) ``months`` calendar months later."""
    return (pd.Timestamp(str(day)) + pd.DateOffset(months=months)).date()


def with_setting(raw: Mapping[str, Any], setting: Mapping[str, str], levers: Levers) -> dict[str, Any]:
    """The raw scenario table with one recruitment setting applied (module docstring)."""
    data = copy.deepcopy(dict(raw))
    if SITES in setting:
        sites = data["recruitment"]["sites"]
        template = sites[0]
        for k in range(len(sites), int(setting[SITES])):
            extra = dict(template, name=f"Added centre {k + 1}")
            if levers.new_site_activation is not None:
                extra["activation"] = levers.new_site_activation
            sites.append(extra)
        del sites[int(setting[SITES]) :]
    months = int(setting.get(EXTEND, "0"))
    if months:
        trial = data["trial"]
        trial["recruitment_close"] = _later(trial["recruitment_close"], months)
        trial["study_end"] = _later(trial["study_end"], months)
    vary = [f"{k}={v}" for k, v in setting.items() if k not in (SITES, EXTEND)]
    return apply_overrides(data, vary)


def setting_overrides(setting: Mapping[str, str]) -> str:
    """A setting in words for tables: ``sites=2, extend_recruitment_months=6``."""
    return ", ".join(f"{k}={v}" for k, v in setting.items())
