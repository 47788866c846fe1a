"""``size``: which design would work. Screen the whole grid cheaply, confirm a shortlist by full simulation.

1. Each recruitment setting (:mod:`sim.sizing.levers`) is screened once (:mod:`sim.sizing.screen`): its
   tested rates and the decision day of every sample size.
2. Every design of every setting gets exact screened figures (:mod:`sim.sizing.candidates`).
3. The designs that pass the screen, best objective first, are shortlisted (with the single-stage
   design one patient smaller than the best, so the table shows where the power runs out); when
   none passes, the closest are.
4. Each shortlisted design is simulated in full at latent ORR p1 and p0 (and over the ORR prior
   when the scenario has one), every design with the same seed: common random numbers make the
   differences between neighbouring designs precise. The result quotes only these figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.summary import OperatingCharacteristics
from ..model.trial_model import TrialModel, orr_ceiling
from ..runs.settings import RunSettings, settings_with
from ..runs.sweep import Cell, at_point_orr, run_grid
from ..scenario import ScenarioError, apply_overrides, parse_scenario, read_scenario_file
from ..scenario.model import Scenario
from ..scenario.variants import drop_absent, resolved_scenario
from ..stats.mcse import Estimate, proportion_estimate, quantile_estimate
from ..units import day_number
from .candidates import Screened, candidates
from .levers import Levers, SizeInputError, recruitment_settings, setting_overrides, with_setting
from .result import Confirmed, Constraint, SizeResult
from .screen import SettingScreen, screen_setting

__all__ = ["CONFIRM_REPLICATES", "OBJECTIVES", "Targets", "size"]

CONFIRM_REPLICATES = 2000
"""Replicates of each confirming run when the settings do not say."""

OBJECTIVES = ("n", "expected-n", "months-to-decision", "cost")
"""What ``--minimise`` may name; ties go to the next objective in this order."""


@dataclass(frozen=True)
class Targets:
    """What a design must achieve, and what to minimise among those that do."""

    p1: float
    on_time_by: dt.date
    power: float = 0.8
    p_on_time: float = 0.8
    alpha: float | None = None
    minimise: str = "n"
    assurance: float | None = None
    maximise_assurance: bool = False
    cost_per_patient: float = 0.0
    cost_per_site_month: float = 0.0

    def check(self, scenario: Scenario) -> None:
        """Refuse targets the scenario cannot meet the meaning of, naming the option."""
        p0 = scenario.analysis.p0
        if not p0 < self.p1 < 1:
            raise SizeInputError(f"--p1 ({self.p1:g}) must be above analysis.p0 ({p0:g}) and below 1")
        if self.p1 >= orr_ceiling(scenario):
            raise SizeInputError(
                f"--p1 ({self.p1:g}) is above {orr_ceiling(scenario):.3f}, "
                "the largest ORR this scenario's PFS can carry"
            )
        for option, value in (("--power", self.power), ("--p-on-time", self.p_on_time)):
            if not 0 < value < 1:
                raise SizeInputError(f"{option} must be a probability strictly between 0 and 1, got {value:g}")
        if self.alpha is not None and not 0 < self.alpha < 0.5:
            raise SizeInputError(f"--alpha must be in (0, 0.5), got {self.alpha:g}")
        if self.on_time_by <= scenario.trial.recruitment_open:
            raise SizeInputError(
                f"--on-time-by ({self.on_time_by}) must be after "
                f"trial.recruitment_open ({scenario.trial.recruitment_open})"
            )
        if self.minimise not in OBJECTIVES:
            raise SizeInputError(f"--minimise must be one of {', '.join(OBJECTIVES)}, got {self.minimise!r}")
        if self.minimise == "cost" and self.cost_per_patient <= 0 and self.cost_per_site_month <= 0:
            raise SizeInputError("--minimise cost needs --cost-per-patient or --cost-per-site-month")
        wants_prior = self.assurance is not None or self.maximise_assurance
        if wants_prior and scenario.efficacy.orr_prior is None:
            raise SizeInputError("--assurance and --maximise assurance need efficacy.orr_prior in the scenario")


def _site_months(scenario: Scenario) -> float:
    """Months each site is open to recruitment, summed over the sites."""
    t = scenario.trial
    close = t.recruitment_close
    return sum(max(0, (close - max(s.activation, t.recruitment_open)).days) for s in scenario.recruitment.sites) / (
        365.25 / 12
    )


def _objective(targets: Targets, n: float, expected_n: float, months: float, scenario: Scenario) -> tuple[float, ...]:
    """The ranking key: the chosen objective first, then the others in :data:`OBJECTIVES` order."""
    cost = targets.cost_per_patient * expected_n + targets.cost_per_site_month * _site_months(scenario)
    values = {"n": n, "expected-n": expected_n, "months-to-decision": months, "cost": cost}
    order = [targets.minimise] + [o for o in OBJECTIVES if o != targets.minimise]
    return tuple(values[o] if math.isfinite(values[o]) else math.inf for o in order)


def _screen_key(s: Screened, screens: Sequence[SettingScreen], targets: Targets, slack: float) -> tuple[Any, ...]:
    """Passing designs first (by objective), then the rest by how far they fall short."""
    wanted = [targets.power - s.power, targets.p_on_time - slack - s.p_on_time, 0.0]
    if targets.assurance is not None:
        wanted.append(targets.assurance - s.assurance)
    shortfall = max(wanted)
    objective = _objective(
        targets, s.design.n, s.expected_n_p0, s.months_to_decision, screens[s.setting_index].scenario
    )
    if targets.maximise_assurance:
        objective = (-s.assurance, *objective)
    return (shortfall > 0, shortfall, objective)


def _shortlist(
    screened: list[Screened], screens: Sequence[SettingScreen], targets: Targets, size: int, slack: float, margin: float
) -> list[Screened]:
    """The ``size`` best designs by the screen; the best few whose screened power clears the target by
    ``margin`` (those a full simulation can call feasible); and the single-stage design one patient
    smaller than the best, so the table shows where the power runs out."""
    ranked = sorted(screened, key=lambda s: _screen_key(s, screens, targets, slack))
    chosen = ranked[:size]
    clear = [s for s in ranked if s.power >= targets.power + margin and s not in chosen]
    chosen += clear[: max(2, size // 2)]
    single = next((s for s in chosen if s.design.family == "single"), None)
    if single is not None:
        smaller = next(
            (
                s
                for s in ranked
                if s.design.family == "single"
                and s.setting_index == single.setting_index
                and s.design.n == single.design.n - 1
            ),
            None,
        )
        if smaller is not None and smaller not in chosen:
            chosen.append(smaller)
    return chosen


def _figures(
    at_p1: OperatingCharacteristics,
    at_p0: OperatingCharacteristics,
    table: pd.DataFrame,
    deadline: dt.date,
    prior: OperatingCharacteristics | None,
) -> dict[str, Estimate]:
    """The confirmed figures of one design from its runs."""
    decided = pd.to_datetime(table["decision_date"]).to_numpy(dtype="datetime64[D]")
    figures = {
        "power": at_p1.power,
        "type_one_error": at_p0.power,
        "p_on_time": proportion_estimate(decided <= np.datetime64(deadline, "D")),
        "expected_n_p0": at_p0.n_enrolled,
        "expected_n_p1": at_p1.n_enrolled,
        "months_to_decision": at_p1.decision_months,
    }
    if prior is not None:
        figures["assurance"] = prior.decisions.assurance
    return figures


def _settings(raw: dict[str, Any], levers: Levers) -> list[tuple[dict[str, str], Scenario]]:
    """Every recruitment setting and its validated scenario; a bad lever value names the setting."""
    out = []
    for setting in recruitment_settings(levers):
        try:
            out.append((setting, parse_scenario(with_setting(raw, setting, levers))))
        except ScenarioError as exc:
            raise ScenarioError(f"in the setting {setting_overrides(setting)}: {exc}") from None
    return out


def _constraints(targets: Targets, alpha: float) -> tuple[Constraint, ...]:
    """What every design must meet: the power, the type I error, P(on time) and any least assurance."""
    found = [
        Constraint("power", targets.power, True),
        Constraint("type_one_error", alpha, False),
        Constraint("p_on_time", targets.p_on_time, True),
    ]
    if targets.assurance is not None:
        found.append(Constraint("assurance", targets.assurance, True))
    return tuple(found)


def size(
    scenario: str | Path,
    targets: Targets,
    levers: Levers,
    overrides: Sequence[str] = (),
    settings: RunSettings | None = None,
    *,
    screen_replicates: int = 2000,
    shortlist: int = 8,
    **changes: Any,
) -> SizeResult:
    """Search the designs ``levers`` span for those meeting ``targets`` (module docstring).

    ``settings`` (amended by ``changes``; :data:`CONFIRM_REPLICATES` replicates unless they say)
    run the confirming runs, and their seed also seeds the screen. With a ``checkpoint_dir`` each
    confirming run keeps its chunks in a subfolder named for its setting, design and ORR, so an
    interrupted search resumes, and a search that shortlists a design again reuses its runs.
    """
    run_settings = settings_with(settings if settings is not None else RunSettings(CONFIRM_REPLICATES), changes)
    replicates, seed = run_settings.replicates, run_settings.seed
    extra = [] if targets.alpha is None else [f"analysis.alpha={targets.alpha!r}"]
    raw = apply_overrides(read_scenario_file(scenario), [*overrides, *extra])
    variants = _settings(raw, levers)
    base = variants[0][1]
    targets.check(base)
    n_values = levers.n or tuple(range(max(2, base.trial.sample_size // 2), 2 * base.trial.sample_size + 1))
    alpha, n_max = base.analysis.alpha, max(n_values)
    sizes = range(min(n_values), n_max + 1)
    deadline = day_number(targets.on_time_by, base.trial.study_start) + 1.0  # through the whole day
    screens = [
        screen_setting(setting, scenario_, n_max, targets.p1, screen_replicates, seed, i)
        for i, (setting, scenario_) in enumerate(variants)
    ]
    families = set(levers.designs)
    wants = targets.assurance is not None or targets.maximise_assurance
    screened = [
        s
        for i, sc in enumerate(screens)
        for s in candidates(sc, i, sizes, families, alpha, targets.power, deadline, with_assurance=wants)
    ]
    screened = [s for s in screened if s.design.n in n_values]
    if not screened:
        raise SizeInputError("--n: no design of these sizes can reject H0 at this alpha; give larger sizes")
    slack = 3 * math.sqrt(targets.p_on_time * (1 - targets.p_on_time) / screen_replicates)
    margin = 2.5 * math.sqrt(targets.power * (1 - targets.power) / replicates)
    chosen = _shortlist(screened, screens, targets, shortlist, slack, margin)
    confirmed, notes = _confirm(chosen, screens, targets, alpha, run_settings)
    return SizeResult(
        tuple(confirmed), _screened_table(screened, screens), _target_document(targets, alpha), notes=notes
    )


def _screened_table(screened: Sequence[Screened], screens: Sequence[SettingScreen]) -> pd.DataFrame:
    """Every design of the grid with its setting, rule and screened figures, one row each."""
    rows = []
    for s in screened:
        d, screen = s.design, screens[s.setting_index]
        rows.append(
            {
                **screen.setting,
                "design": d.family,
                "n": d.n,
                "r": d.r,
                "n1": d.n1,
                "r1": d.r1,
                "screened_power": s.power,
                "screened_type_one_error": s.type_one_error,
                "screened_p_on_time": s.p_on_time,
                "screened_expected_n_p0": s.expected_n_p0,
                "screened_months_to_decision": s.months_to_decision,
                "screened_assurance": s.assurance,
                "theta1": screen.theta1,
            }
        )
    return pd.DataFrame(rows)


def _target_document(targets: Targets, alpha: float) -> dict[str, Any]:
    """The targets as the JSON document and ``best.toml``'s header give them (the alpha applied)."""
    doc = dataclasses.asdict(targets)
    doc["on_time_by"] = targets.on_time_by.isoformat()
    doc["alpha"] = alpha
    return doc


def _confirm(
    chosen: Sequence[Screened],
    screens: Sequence[SettingScreen],
    targets: Targets,
    alpha: float,
    settings: RunSettings,
) -> tuple[list[Confirmed], tuple[str, ...]]:
    """Simulate each shortlisted design in full, all with the same seed (module docstring, step 4); with
    what the runs' checkpoints did."""
    cells: list[Cell] = []
    scenarios = []
    for s in chosen:
        design = parse_scenario(_with_design(screens[s.setting_index].scenario, s))
        scenarios.append(design)
        # each run named for what it simulates, so a checkpoint folder serves the same run again
        name = {**screens[s.setting_index].setting, "design": s.design.label}
        cells += [
            Cell({**name, "orr": f"p1={targets.p1:g}"}, at_point_orr(design, targets.p1)),
            Cell({**name, "orr": f"p0={design.analysis.p0:g}"}, at_point_orr(design, design.analysis.p0)),
        ]
        if design.efficacy.orr_prior is not None:
            cells.append(Cell({**name, "orr": "prior"}, TrialModel.from_scenario(design)))
    grid = run_grid(cells, settings, keep_replicates=True, label="design search")
    results = grid.cells
    confirmed, k = [], 0
    constraints = _constraints(targets, alpha)
    for s, design in zip(chosen, scenarios):
        at_p1, at_p0 = results[k], results[k + 1]
        prior = results[k + 2] if design.efficacy.orr_prior is not None else None
        k += 3 if prior is not None else 2
        assert at_p1.replicates is not None  # kept by the grid
        figures = _figures(
            at_p1.summary,
            at_p0.summary,
            at_p1.replicates,
            targets.on_time_by,
            prior.summary if prior is not None else None,
        )
        days = (pd.to_datetime(at_p1.replicates["decision_date"]) - pd.Timestamp(design.trial.study_start)).dt.days
        objective = _objective(
            targets, s.design.n, figures["expected_n_p0"].value, figures["months_to_decision"].value, design
        )
        if targets.maximise_assurance:
            objective = (-figures["assurance"].value, *objective)
        confirmed.append(
            Confirmed(
                s,
                screens[s.setting_index].setting,
                design,
                figures,
                quantile_estimate(days.to_numpy(dtype=float), 0.5),
                objective,
                constraints,
            )
        )
    return confirmed, grid.notes


def _with_design(scenario: Scenario, s: Screened) -> dict[str, Any]:
    """The raw table of ``scenario`` with the design's fields set."""
    raw = drop_absent(resolved_scenario(scenario))
    return apply_overrides(raw, s.design.overrides(scenario.monitoring.pause_enrollment))
