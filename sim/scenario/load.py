"""Read a scenario file, apply dotted-path overrides (the command line's ``--set``), and validate every field."""

from __future__ import annotations

import copy
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import TrialsimError
from ..units import DAYS_PER_MONTH
from .checks import FieldError, ScenarioProblems, convert_table
from .limits import MAX_PATIENT_SCHEDULE, MAX_SCREENED_PER_TRIAL, MAX_STUDY_YEARS
from .model import (
    Cutoff,
    Recruitment,
    Scenario,
    Schedule,
    Source,
    Trial,
)
from .rules import rule_problems, trigger_problems

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "ScenarioError",
    "load_scenario",
    "parse_scenario",
    "parse_value",
    "apply_overrides",
    "scenario_path",
    "builtin_scenarios",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: the dotted field it concerns ("" if none) and the message."""

    field: str
    message: str


class ScenarioError(ValueError, TrialsimError):
    """The scenario cannot be used; the message names each bad field and what it allows.

    ``problems`` lists them one by one as :class:`Problem` records, for a caller that shows or
    handles each field on its own; the message joins them in one line.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(_problem(text) for text in (problems or [message]))


def _problem(text: str) -> Problem:
    """A problem's message with the dotted field path it starts with (``trial.sample_size must ...``)."""
    found = _FIELD.match(text)
    return Problem(found.group(1) if found else "", text)


_FIELD = re.compile(r"^([a-z_]+(?:\.[a-z_0-9]+)+)\b")


def _shipped_folder() -> Path | None:
    """Where the shipped scenarios are: installed as package data, or the clone's ``scenarios/``."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "scenarios_data", package.parent / "scenarios"):
        if folder.is_dir():
            return folder
    return None


def builtin_scenarios() -> dict[str, Path]:
    """The scenarios shipped with the package, by name."""
    folder = _shipped_folder()
    if folder is None:
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def scenario_path(name_or_path: str | Path) -> Path:
    """A scenario file path from a path or the name of a shipped scenario (``base``, ...)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = builtin_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    names = ", ".join(sorted(shipped))
    raise ScenarioError(f"scenario {str(name_or_path)!r} is neither a file nor a shipped scenario ({names})")


def parse_value(text: str) -> Any:
    """An override's value read as TOML (numbers, booleans, dates, lists, tables), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``raw`` with each ``dotted.path=value`` set; list entries by index (``sites.0.name``)."""
    data: dict[str, Any] = copy.deepcopy(dict(raw))
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(f"overrides expects dotted.path=value, got {item!r}")
        path, text = item.split("=", 1)
        if not all(path.strip().split(".")):
            raise ScenarioError(f"overrides expects dotted.path=value, got {item!r}")
        set_field(data, path.strip(), parse_value(text.strip()), "overrides")
    return data


def set_field(data: dict[str, Any], path: str, value: Any, label: str) -> None:
    """Set the dotted ``path`` of a raw scenario table to ``value`` in place (``label`` names the caller)."""
    keys = path.split(".")
    if not all(keys):
        raise ScenarioError(f"{label} expects dotted.path=value, got {path!r}")
    node: Any = data
    for depth, key in enumerate(keys[:-1]):
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError(f"{label} {path}: {where} must be a list index below {len(node)}")
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
        if not isinstance(node, (dict, list)):
            raise ScenarioError(f"{label} {path}: {where} is a value, not a table")
    last = keys[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise ScenarioError(f"{label} {path}: {path} must be a list index below {len(node)}")
        node[int(last)] = value
    else:
        node[last] = value


def _cutoff_problems(name: str, cut: Cutoff, trial: Trial) -> list[str]:
    """A cutoff rule has the parameter it needs, within the trial's limits."""
    field = f"analysis.{name}"
    needs = {"after_last_first_dose": "months", "os_events": "events", "date": "date"}[cut.rule]
    problems = []
    if getattr(cut, needs) is None:
        problems.append(f"{field}.{needs} is required when {field}.rule is {cut.rule!r}")
    if cut.rule == "date" and cut.date is not None and not trial.recruitment_open < cut.date <= trial.study_end:
        problems.append(
            f"{field}.date must lie after trial.recruitment_open and not after trial.study_end, got {cut.date}"
        )
    if cut.rule == "os_events" and cut.events is not None and cut.events > trial.sample_size:
        problems.append(f"{field}.events ({cut.events}) cannot exceed trial.sample_size ({trial.sample_size})")
    return problems


def _order_problems(t: Trial) -> list[str]:
    """The trial's calendar runs start <= open < close < end."""
    problems = []
    if not t.study_start <= t.recruitment_open:
        problems.append(
            f"trial.recruitment_open ({t.recruitment_open}) must not be before trial.study_start ({t.study_start})"
        )
    if not t.recruitment_open < t.recruitment_close:
        problems.append(
            f"trial.recruitment_close ({t.recruitment_close}) must be after "
            f"trial.recruitment_open ({t.recruitment_open})"
        )
    if not t.recruitment_close < t.study_end:
        problems.append(
            f"trial.study_end ({t.study_end}) must be after trial.recruitment_close ({t.recruitment_close})"
        )
    return problems


def _schedule_problems(t: Trial, sc: Schedule) -> list[str]:
    """Refuse a trial whose per-patient cycle and scan arrays would not fit in memory (formulas of PatientModel)."""
    horizon_days = (t.study_end - t.study_start).days
    cycles = max(1, int(sc.max_treatment_months * DAYS_PER_MONTH // sc.cycle_days))
    scans = math.ceil((horizon_days + sc.scan_window_days) / sc.scan_interval_days) + 1
    size = t.sample_size * (cycles + scans)
    if size <= MAX_PATIENT_SCHEDULE:
        return []
    return [
        f"trial.sample_size x (treatment cycles + scheduled scans per patient) is {t.sample_size} x ({cycles} + "
        f"{scans}) = {size:,}; at most {MAX_PATIENT_SCHEDULE:,} can be simulated: lower trial.sample_size, "
        "raise schedule.cycle_days or schedule.scan_interval_days, or shorten schedule.max_treatment_months or "
        "trial.study_start to trial.study_end"
    ]


def _size_problems(t: Trial, r: Recruitment) -> list[str]:
    """Refuse a scenario whose simulation would not fit in memory or time, naming what to lower."""
    problems = []
    years = (t.study_end - t.study_start).days / 365.25
    if years > MAX_STUDY_YEARS:
        problems.append(
            f"trial.study_end ({t.study_end}) is {years:.0f} years after trial.study_start; "
            f"at most {MAX_STUDY_YEARS} years can be simulated"
        )
    peak = math.prod(max(p.rate_factor, 1.0) for p in r.periods)
    opens = [max(site.activation, t.recruitment_open) for site in r.sites]
    months = [max((t.recruitment_close - opened).days, 0) / 30.4375 for opened in opens]
    screened = sum(site.screened_per_month * peak * m for site, m in zip(r.sites, months))
    if screened > MAX_SCREENED_PER_TRIAL:
        problems.append(
            f"recruitment implies about {screened:.3g} screened patients per simulated trial (screened_per_month x "
            f"calendar rate factors x months open); at most {MAX_SCREENED_PER_TRIAL} can be simulated: lower "
            "recruitment.sites[i].screened_per_month or recruitment.periods[i].rate_factor, or shorten "
            "trial.recruitment_open to trial.recruitment_close"
        )
    return problems


def _recruitment_problems(t: Trial, r: Recruitment) -> list[str]:
    """Sites open within the recruitment window; calendar periods run forwards."""
    problems = [
        f"recruitment.sites[{i}].activation ({site.activation}) must not be after "
        f"trial.recruitment_close ({t.recruitment_close})"
        for i, site in enumerate(r.sites)
        if site.activation > t.recruitment_close
    ]
    problems += [
        f"recruitment.periods[{i}].end ({period.end}) must not be before its start ({period.start})"
        for i, period in enumerate(r.periods)
        if period.end < period.start
    ]
    return problems


def _patient_problems(s: Scenario) -> list[str]:
    """Schedule, safety and efficacy numbers that only make sense together."""
    sc, e, sa = s.schedule, s.efficacy, s.safety
    problems = []
    if 2 * sc.scan_window_days >= sc.scan_interval_days:
        problems.append(
            f"schedule.scan_window_days ({sc.scan_window_days}) must be less than half of "
            f"schedule.scan_interval_days ({sc.scan_interval_days}) so scans keep their order"
        )
    shares = sa.ae_interruption_share + sa.ae_discontinuation_share
    if shares > 1:
        problems.append(
            f"safety.ae_interruption_share + safety.ae_discontinuation_share must not exceed 1, got {shares:g}"
        )
    if e.unconfirmed_response_share > 0 and not sc.confirmation_required:
        problems.append(
            "efficacy.unconfirmed_response_share must be 0 when schedule.confirmation_required is false "
            "(an unconfirmed response then counts as a response)"
        )
    if e.os_median_months is None and e.post_progression_survival is None:
        problems.append("efficacy.os_median_months is required (or efficacy.post_progression_survival instead)")
    if e.os_median_months is not None and e.post_progression_survival is not None:
        problems.append(
            "efficacy.post_progression_survival cannot be given with efficacy.os_median_months; give one of them"
        )
    return problems


def _prior_kind_problems(path: str, beta: Any, responders: Any, patients: Any) -> list[str]:
    """A Beta prior or earlier data, not both and not neither; responders no more than patients."""
    data = responders is not None or patients is not None
    if (beta is not None) == data:
        return [f"{path} must give either beta = [a, b] or responders and patients"]
    if data and (responders is None or patients is None):
        return [f"{path} needs both responders and patients"]
    if data and responders > patients:
        return [f"{path}.responders ({responders}) must not exceed {path}.patients ({patients})"]
    return []


def _prior_problems(s: Scenario) -> list[str]:
    """The ORR prior: one way of giving it, weights that sum to one; p1 above p0."""
    problems = []
    a = s.analysis
    if a.p1 is not None and a.p1 <= a.p0:
        problems.append(f"analysis.p1 ({a.p1:g}) must be above analysis.p0 ({a.p0:g})")
    f = s.forecast
    if (f.prior_a is None) != (f.prior_b is None):
        problems.append("forecast.prior_a and forecast.prior_b go together: give both, or neither for the default")
    prior, path = s.efficacy.orr_prior, "efficacy.orr_prior"
    if prior is None:
        return problems
    if prior.mixture:
        if prior.beta is not None or prior.responders is not None or prior.patients is not None or prior.weight:
            return problems + [f"{path}.mixture cannot be given with beta, responders, patients or weight"]
        for i, part in enumerate(prior.mixture):
            problems += _prior_kind_problems(f"{path}.mixture[{i}]", part.beta, part.responders, part.patients)
        total = sum(part.weight for part in prior.mixture)
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            problems.append(f"{path}.mixture weights must sum to 1, got {total:g}")
        return problems
    problems += _prior_kind_problems(path, prior.beta, prior.responders, prior.patients)
    if prior.weight is not None and prior.beta is not None:
        problems.append(f"{path}.weight discounts earlier data: give it with responders and patients, not beta")
    return problems


def _analysis_problems(s: Scenario) -> list[str]:
    """Cutoff rules with what they need, in order."""
    t, primary, final = s.trial, s.analysis.primary_cutoff, s.analysis.final_cutoff
    problems = _cutoff_problems("primary_cutoff", primary, t) + _cutoff_problems("final_cutoff", final, t)
    if primary.rule == final.rule == "date" and primary.date and final.date and final.date < primary.date:
        problems.append(
            f"analysis.final_cutoff.date ({final.date}) must not be before "
            f"analysis.primary_cutoff.date ({primary.date})"
        )
    return problems


def _cross_field_problems(s: Scenario) -> list[str]:
    """Checks that involve more than one field; all of them live here (bar the efficacy model's own)."""
    problems = _order_problems(s.trial) + _recruitment_problems(s.trial, s.recruitment)
    problems += _patient_problems(s) + _analysis_problems(s) + _prior_problems(s)
    problems += rule_problems(s.monitoring, s.trial.sample_size) + trigger_problems(s.monitoring)
    if not problems:
        problems += _size_problems(s.trial, s.recruitment) + _schedule_problems(s.trial, s.schedule)
    return problems


def parse_scenario(raw: Mapping[str, Any]) -> Scenario:
    """Validate a scenario table; raise ScenarioError listing every problem found.

    Whether the efficacy numbers can hold together is checked when the trial model is built
    (:class:`sim.model.trial_model.TrialModel`), since it needs the model's derivations.
    """
    try:
        scenario = convert_table(Scenario, dict(raw), "")
    except ScenarioProblems as exc:
        raise ScenarioError(str(exc), exc.problems) from None
    except FieldError as exc:
        raise ScenarioError(str(exc)) from None
    problems = _cross_field_problems(scenario)
    if problems:
        raise ScenarioError(str(ScenarioProblems(problems)), problems)
    return scenario


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """The raw TOML table of a scenario file."""
    return _table(scenario_path(path), scenario_text(path))


def scenario_text(path: str | Path) -> str:
    """A scenario file's text, comments included (a shipped scenario by name)."""
    path = scenario_path(path)
    try:
        # utf-8-sig: editors on Windows start files with a byte-order mark TOML does not allow
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read: {exc.strerror}") from None


def _table(path: Path, text: str) -> dict[str, Any]:
    """The TOML table of a scenario file's text."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None


def load_scenario(name_or_path: str | Path = "base", overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario file (or a shipped scenario by name).

    ``overrides`` is a list of ``dotted.path=value`` strings; a single string is one override. The
    scenario keeps the file's text and the overrides as its :class:`~sim.scenario.model.Source`.
    """
    given = (overrides,) if isinstance(overrides, str) else tuple(overrides)
    text = scenario_text(name_or_path)
    scenario = parse_scenario(apply_overrides(_table(scenario_path(name_or_path), text), given))
    object.__setattr__(scenario, "source", Source(str(name_or_path), text, given))  # frozen: set once, here
    return scenario
