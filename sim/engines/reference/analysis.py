"""One replicate analysed as the trial's statisticians would (docs/model.md, "Analysis"), and its tables.

ORR and DCR among the analysis population at the primary cutoff, with the exact one-sided
binomial test and the plan's interval; PFS, OS and safety among all treated patients at the
final cutoff, by Kaplan-Meier; the design's decision. Columns are those of :mod:`sim.analysis.records`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...analysis.records import PATIENT_COLUMNS
from ...model.trial_model import TrialModel
from ...scenario.model import Analysis
from ...stats import ResponseRateTest, kaplan_meier, median_follow_up
from ...units import DAYS_PER_MONTH
from .database import EnrolledPatient, PatientAtCutoff, at_cutoff, cutoff_day
from .trial import TrialLog

__all__ = ["CutoffView", "database_at", "look_rows", "patient_rows", "replicate_row"]

CutoffView = list[tuple[int, PatientAtCutoff]]
"""The patients dosed by a cutoff (index in enrollment order, what the database shows of them)."""


def database_at(patients: Sequence[EnrolledPatient], model: TrialModel, day: float) -> CutoffView:
    """Every patient dosed by cutoff ``day``, as the database shows them then."""
    if math.isnan(day):
        return []
    s = model.scenario
    return [
        (i, at_cutoff(p, day, s.schedule.sd_min_days, s.analysis.pfs_censoring))
        for i, p in enumerate(patients)
        if p.first_dose_day <= day
    ]


def _date(model: TrialModel, day: float) -> np.datetime64:
    """The calendar date of a day from study start (NaT for a day that never came)."""
    return model.dates(day).reshape(1)[0]


def primary_analysis(view: CutoffView, plan: Analysis, test: ResponseRateTest) -> dict[str, Any]:
    """ORR (exact test and interval) and the unconfirmed ORR among the analysis population; DCR among all treated."""
    analysed = [p for _, p in view if plan.population == "all_treated" or p.evaluable]
    n = len(analysed)
    responders = sum(p.responder for p in analysed)
    controlled = sum(p.disease_controlled for _, p in view)  # DCR counts every treated patient
    any_response = sum(p.any_response for p in analysed)
    p_value, low, high = test(responders, n)
    return {
        "n_treated": len(view),
        "n_analysed": n,
        "responders": responders,
        "orr": responders / n if n else math.nan,
        "orr_ci_low": low,
        "orr_ci_high": high,
        "p_value": p_value,
        "disease_control": controlled,
        "dcr": controlled / len(view) if len(view) else math.nan,
        "responders_unconfirmed": any_response,
        "orr_unconfirmed": any_response / n if n else math.nan,
    }


def _survival(prefix: str, months: np.ndarray, event: np.ndarray, plan: Analysis) -> dict[str, Any]:
    """Events, the Kaplan-Meier median with its log-log CI, and the rate at the landmark."""
    fit = kaplan_meier(months, event, conf_type="log-log", conf_level=plan.ci_level)
    low, high = fit.median_ci
    return {
        f"{prefix}_events": int(event.sum()),
        f"median_{prefix}_months": float(fit.median),
        f"median_{prefix}_ci_low": float(low),
        f"median_{prefix}_ci_high": float(high),
        f"{prefix}_rate_at_landmark": float(fit.survival_at(plan.landmark_months)[0]) if months.size else math.nan,
    }


def final_analysis(view: CutoffView, plan: Analysis) -> dict[str, Any]:
    """PFS, OS, safety and follow-up among all treated patients."""
    patients = [p for _, p in view]
    n = len(patients)
    pfs = np.array([p.pfs_days for p in patients], dtype=float) / DAYS_PER_MONTH
    os_ = np.array([p.os_days for p in patients], dtype=float) / DAYS_PER_MONTH
    os_event = np.array([p.os_event for p in patients], dtype=bool)
    out = _survival("pfs", pfs, np.array([p.pfs_event for p in patients], dtype=bool), plan)
    out.update(_survival("os", os_, os_event, plan))
    stops = sum(p.ae_discontinued for p in patients)
    out.update(
        {
            "patients_with_grade3_ae": sum(p.grade3_ae_count > 0 for p in patients),
            "ae_discontinuations": stops,
            "ae_discontinuation_rate": stops / n if n else math.nan,
            "mean_cycles": float(np.mean([len(p.cycles) for p in patients])) if n else math.nan,
            "median_follow_up_months": median_follow_up(os_, os_event) if n else math.nan,
        }
    )
    return out


def _succeeds(model: TrialModel, primary: dict[str, Any]) -> bool:
    """The design rule's final decision; the rule is part of the specification, shared (docs/reference_engine.md)."""
    rejects = bool(primary["p_value"] <= model.scenario.analysis.alpha)
    return model.rule.succeeds(primary["responders"], primary["n_analysed"], rejects)


def look_waits(log: TrialLog) -> list[float]:
    """Days each look waited after its n-th patient's enrollment."""
    return [look.day - log.patients[look.patients - 1].enrollment_day for look in log.looks]


def decision(log: TrialLog, model: TrialModel, primary: dict[str, Any], primary_day: float) -> dict[str, Any]:
    """The looks, a futility stop, and the design's verdict; never a success after a stop."""
    stop_day = log.stop_day
    stopped = not math.isnan(stop_day)
    first = log.looks[0] if log.looks else None
    decision_day = stop_day if stopped else primary_day
    return {
        "reject_h0": not stopped and _succeeds(model, primary),
        "interim_looks": len(log.looks),
        "interim_wait_days": float(sum(look_waits(log))),
        "first_look_responders": first.responders if first else -1,
        "first_look_date": _date(model, first.day if first else math.nan),
        "stopped_early": stopped,
        "stop_date": _date(model, stop_day),
        "decision_date": _date(model, decision_day),
        "decision_months": (decision_day - model.open_day) / DAYS_PER_MONTH,
    }


def replicate_row(
    log: TrialLog, model: TrialModel, test: ResponseRateTest
) -> tuple[dict[str, Any], tuple[float, CutoffView], tuple[float, CutoffView]]:
    """One replicate-table row, and the (day, view) of the primary and final cutoffs."""
    s = model.scenario
    plan = s.analysis
    patients = log.patients
    primary_day = cutoff_day(plan.primary_cutoff, patients, s.trial.study_start, model.horizon_day)
    final_day = cutoff_day(plan.final_cutoff, patients, s.trial.study_start, model.horizon_day)
    primary, final = database_at(patients, model, primary_day), database_at(patients, model, final_day)
    n = len(patients)
    enrolled = [p.enrollment_day for p in patients]
    complete = log.enrollment_complete_day if n >= log.enrollment_target else math.nan
    row: dict[str, Any] = {
        "n_screened": log.n_screened,
        "n_screen_failed": log.n_screen_failed,
        "n_enrolled": n,
        "enrollment_target": log.enrollment_target,
        "closed_short": n < log.enrollment_target and math.isnan(log.stop_day),
        "first_patient_in_date": _date(model, min(enrolled, default=math.nan)),
        "last_patient_in_date": _date(model, max(enrolled, default=math.nan)),
        "enrollment_complete_date": _date(model, complete),
        "enrollment_months": (max(enrolled) - model.open_day) / DAYS_PER_MONTH if n else math.nan,
        "primary_cutoff_date": _date(model, primary_day),
        "final_cutoff_date": _date(model, final_day),
        "true_orr": model.scenario.efficacy.orr,
    }
    row.update(primary_analysis(primary, plan, test))
    row.update(decision(log, model, row, primary_day))
    row.update(final_analysis(final, plan))
    return row, (primary_day, primary), (final_day, final)


def look_rows(replicate: int, log: TrialLog, model: TrialModel) -> list[dict[str, Any]]:
    """One look-table row per interim look, in calendar order."""
    return [
        {
            "replicate": replicate,
            "look": k,
            "look_date": _date(model, look.day),
            "patients": look.patients,
            "responders": look.responders,
            "stopped": look.stopped,
            "wait_days": wait,
            "look_months": (look.day - model.open_day) / DAYS_PER_MONTH,
        }
        for k, (look, wait) in enumerate(zip(log.looks, look_waits(log)), start=1)
    ]


def patient_rows(
    patients: Sequence[EnrolledPatient], model: TrialModel, cutoff: tuple[float, CutoffView], replicate: int, label: str
) -> pd.DataFrame:
    """The patient table at one cutoff: every patient dosed by then, as the database shows them."""
    day, view = cutoff
    rows = []
    for i, seen in view:
        p = patients[i]
        rows.append(
            {
                "replicate": replicate,
                "cutoff": label,
                "cutoff_date": _date(model, day),
                "patient": i + 1,
                "site": p.site + 1,
                "screening_date": _date(model, p.consent_day),
                "enrollment_date": _date(model, p.enrollment_day),
                "first_dose_date": _date(model, p.first_dose_day),
                "scan_dates": model.dates(np.array([p.first_dose_day + s.day for s in seen.scans])).tolist(),
                "scan_results": [s.reading for s in seen.scans],
                "evaluable": seen.evaluable,
                "best_overall_response": seen.best_overall_response,
                "pfs_months": seen.pfs_days / DAYS_PER_MONTH,
                "pfs_event": seen.pfs_event,
                "os_months": seen.os_days / DAYS_PER_MONTH,
                "os_event": seen.os_event,
                "cycles_received": len(seen.cycles),
                "treatment_end_reason": seen.treatment_end_reason,
                "treatment_end_date": _date(model, p.first_dose_day + seen.treatment_end_day),
                "grade3_ae_count": seen.grade3_ae_count,
                "ae_discontinued": seen.ae_discontinued,
            }
        )
    return pd.DataFrame(rows, columns=[c.name for c in PATIENT_COLUMNS])

