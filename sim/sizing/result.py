"""The outcome of a design search: the confirmed designs ranked, the best one, the Pareto front.

Every figure quoted for a design comes from its full simulation (at latent ORR p1 for the power,
P(on time), E[N] and the decision date; at p0 for the type I error and E[N] under H0; over the
scenario's ORR prior for the assurance), each with its MCSE. A design is **feasible** when every
constraint holds by more than 2 MCSE, **borderline** when none is broken by more than 2 MCSE, and
**short** otherwise; ``binding`` names the constraint the short designs miss most often.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import tomlkit

from ..scenario.model import Scenario
from ..scenario.variants import drop_absent, resolved_scenario
from ..stats.mcse import Estimate, estimate_json
from .candidates import Design, Screened
from .levers import SizeInputError

__all__ = ["Confirmed", "Constraint", "SizeResult", "SizeTables", "read_size"]


@dataclass(frozen=True)
class Constraint:
    """One requirement: ``figure`` at least (``at_least``) or at most ``target``."""

    figure: str
    target: float
    at_least: bool

    def margin(self, e: Estimate) -> float:
        """How far the estimate is on the right side of the target, in MCSEs (inf when exact)."""
        gap = (e.value - self.target) if self.at_least else (self.target - e.value)
        if not math.isfinite(e.value):
            return -math.inf
        return gap / e.mcse if e.mcse > 0 else (math.inf if gap >= 0 else -math.inf)


@dataclass(frozen=True)
class Confirmed:
    """A shortlisted design after its full simulation: its setting, figures and verdict."""

    screened: Screened
    setting: dict[str, str]
    scenario: Scenario
    figures: dict[str, Estimate]
    decision_date_median: Estimate
    objective: tuple[float, ...]
    constraints: tuple[Constraint, ...]

    @property
    def design(self) -> Design:
        """The decision rule."""
        return self.screened.design

    @property
    def short_of(self) -> list[str]:
        """The constraints broken by more than 2 MCSE."""
        return [c.figure for c in self.constraints if c.margin(self.figures[c.figure]) < -2]

    @property
    def worst_margin(self) -> float:
        """How many MCSEs the constraint nearest to failing (or most failed) is met by."""
        return min(c.margin(self.figures[c.figure]) for c in self.constraints)

    @property
    def status(self) -> str:
        """``feasible``, ``borderline`` or ``short`` (module docstring)."""
        if self.short_of:
            return "short"
        if all(c.margin(self.figures[c.figure]) > 2 for c in self.constraints):
            return "feasible"
        return "borderline"

    def row(self) -> dict[str, Any]:
        """The design's row of the ranked table (figures with their MCSEs)."""
        d = self.design
        row: dict[str, Any] = {"status": self.status, "design": d.family, "n": d.n, "r": d.r, "n1": d.n1, "r1": d.r1}
        row.update(self.setting)
        row["sites"] = len(self.scenario.recruitment.sites)
        row["recruitment_close"] = self.scenario.trial.recruitment_close.isoformat()
        for name, e in self.figures.items():
            row[name], row[f"{name}_mcse"] = e.value, e.mcse
        row["median_decision_date"] = _date(self.scenario, self.decision_date_median.value)
        row["median_decision_date_mcse_days"] = self.decision_date_median.mcse
        row["screened_power"] = self.screened.power
        row["screened_p_on_time"] = self.screened.p_on_time
        row["short_of"] = ", ".join(self.short_of)
        return row


def _date(scenario: Scenario, day: float) -> str | None:
    return None if not math.isfinite(day) else (scenario.trial.study_start + dt.timedelta(days=round(day))).isoformat()


@dataclass(frozen=True)
class SizeResult:
    """A finished design search (module docstring); ``screened`` is the whole grid with its cheap figures."""

    confirmed: tuple[Confirmed, ...]
    screened: pd.DataFrame
    targets: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def ranked(self) -> list[Confirmed]:
        """Feasible designs by objective, then borderline ones by objective, then short ones closest first:
        by how many MCSEs their worst constraint is missed."""

        def key(c: Confirmed) -> tuple[Any, ...]:
            if c.status == "short":
                return (2, -c.worst_margin, c.objective)
            return (0 if c.status == "feasible" else 1, 0.0, c.objective)

        return sorted(self.confirmed, key=key)

    @property
    def best(self) -> Confirmed | None:
        """The first feasible design, else the first borderline one; None when every design falls short."""
        first = self.ranked[0] if self.confirmed else None
        return first if first is not None and first.status != "short" else None

    @property
    def binding(self) -> str | None:
        """The constraint the confirmed designs miss most often (then by the most), when none is feasible."""
        if any(c.status == "feasible" for c in self.confirmed):
            return None
        missed = [name for c in self.confirmed for name in c.short_of]
        if not missed:
            return None

        def shortfall(name: str) -> float:
            """Mean distance to the target over the designs that miss it (the tie-break)."""
            gaps = [
                abs(c.figures[name].value - k.target)
                for c in self.confirmed
                for k in c.constraints
                if k.figure == name and name in c.short_of
            ]
            return sum(gaps) / len(gaps)

        return max(sorted(set(missed)), key=lambda name: (missed.count(name), shortfall(name)))

    def table(self) -> pd.DataFrame:
        """The ranked designs, one row each."""
        rows = [c.row() for c in self.ranked]
        return pd.DataFrame(rows).rename_axis("rank").reset_index().assign(rank=lambda t: t["rank"] + 1)

    def pareto(self) -> pd.DataFrame:
        """The designs no other beats on both power (higher) and mean months to the decision (lower)."""
        table = self.table()
        keep = [
            not any(
                (o["power"] >= r["power"])
                and (o["months_to_decision"] <= r["months_to_decision"])
                and (o["power"] > r["power"] or o["months_to_decision"] < r["months_to_decision"])
                for _, o in table.iterrows()
            )
            for _, r in table.iterrows()
        ]
        return table[keep].sort_values("months_to_decision").reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document ``--json`` prints: ``best``, ``candidates`` (ranked), ``binding`` and the targets."""
        ranked = self.ranked
        docs = [self._document(c) for c in ranked]
        best = self.best
        return {
            "best": docs[ranked.index(best)] if best is not None else None,
            "binding": self.binding,
            "targets": self.targets,
            "candidates": docs,
            "screened_designs": len(self.screened),
            "notes": list(self.notes),
        }

    def best_scenario_toml(self) -> str | None:
        """The best design's full scenario as a TOML file ``trialsim run`` and ``report`` read (None without one)."""
        best = self.best
        if best is None:
            return None
        head = [
            "# Written by trialsim size: the best design found for",
            f"#   {json.dumps(self.targets, sort_keys=True)}",
            f"# {best.design.family}: {best.design.describe()}; recruitment setting {best.setting or 'as given'}.",
            f"# efficacy.orr is p1 = {self.targets['p1']:g}, the ORR the power was quoted at (the scenario "
            f"assumed {best.scenario.efficacy.orr:g}), and any efficacy.orr_prior is left out:",
            "# `trialsim run` on this file reproduces the search's power, P(on time) and E[N] under p1 within their",
            "# MCSEs. Every field is written out.",
        ]
        at_p1 = dataclasses.replace(best.scenario.efficacy, orr=self.targets["p1"], orr_prior=None)
        body = tomlkit.dumps(drop_absent(resolved_scenario(dataclasses.replace(best.scenario, efficacy=at_p1))))
        return "\n".join(head) + "\n\n" + body

    def write(self, folder: Path) -> list[Path]:
        """Write ``size.csv`` (ranked), ``screened.csv`` (the grid), ``pareto.csv``, ``size.json`` and, when a
        design is recommended, ``best.toml`` into ``folder``; each file is written whole or not at all."""
        files = {
            "size.csv": self.table().to_csv(index=False),
            "screened.csv": self.screened.to_csv(index=False),
            "pareto.csv": self.pareto().to_csv(index=False),
            "size.json": json.dumps(self.to_dict(), indent=2) + "\n",
        }
        toml = self.best_scenario_toml()
        if toml is not None:
            files["best.toml"] = toml
        else:  # an earlier search's recommendation must not stand beside this one's "none"
            (folder / "best.toml").unlink(missing_ok=True)
        written = []
        for name, text in files.items():
            path = folder / name
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, delete=False, suffix=".tmp") as fh:
                fh.write(text)
            Path(fh.name).replace(path)
            written.append(path)
        return written

    @staticmethod
    def _document(c: Confirmed) -> dict[str, Any]:
        d = c.design
        doc: dict[str, Any] = {"design": d.family, "n": d.n, "r": d.r, "status": c.status, "short_of": c.short_of}
        if d.n1 is not None:
            doc.update({"n1": d.n1, "r1": d.r1})
        doc["setting"] = c.setting
        doc["sites"] = len(c.scenario.recruitment.sites)
        doc["recruitment_close"] = c.scenario.trial.recruitment_close.isoformat()
        doc.update({name: estimate_json(e) for name, e in c.figures.items()})
        doc["median_decision_date"] = {
            "date": _date(c.scenario, c.decision_date_median.value),
            "mcse_days": c.decision_date_median.mcse,
        }
        return doc


@dataclass(frozen=True)
class SizeTables:
    """A search as ``--out`` wrote it: the ranked table, the Pareto front and the JSON document."""

    table: pd.DataFrame
    pareto: pd.DataFrame
    document: dict[str, Any]


def read_size(folder: str | Path) -> SizeTables:
    """The search written to ``folder`` by :meth:`SizeResult.write`, for a report to draw without searching."""
    folder = Path(folder)
    missing = [name for name in ("size.csv", "pareto.csv", "size.json") if not (folder / name).is_file()]
    if missing:
        raise SizeInputError(
            f"--size {folder}: no {', '.join(missing)} there; write them with trialsim size --out {folder}"
        )
    return SizeTables(
        table=pd.read_csv(folder / "size.csv"),
        pareto=pd.read_csv(folder / "pareto.csv"),
        document=json.loads((folder / "size.json").read_text(encoding="utf-8")),
    )
