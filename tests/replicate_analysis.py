"""The per-replicate analysis: the oracle :mod:`sim.analysis.batch` is held equal to, bit for bit.

One replicate analysed exactly as the trial would: ORR at the primary cutoff, PFS/OS at the final.

The primary analysis is the exact one-sided binomial test of ORR against ``p0`` (scipy's
``binomtest``; never a normal approximation) with the scenario's confidence interval. Because a
run repeats the same (responders, n) pairs thousands of times, each pair is computed once per run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sim.analysis.batch import response_test
from sim.model.history import TrialHistory
from sim.model.observe import ObservedData, cutoff_day, observe
from sim.model.recist import disease_controlled, responded
from sim.model.trial_model import TrialModel
from sim.scenario.model import Analysis
from sim.stats.proportions import ResponseRateTest
from sim.stats.survival import kaplan_meier, median_follow_up
from sim.units import DAYS_PER_MONTH

__all__ = ["analyse_replicate", "look_waits", "response_test"]



def look_waits(history: TrialHistory) -> list[float]:
    """Days each interim look waited after its n-th patient's enrollment for their responses to settle.

    With ``monitoring.pause_enrollment`` this is how long enrollment stood still; without, how
    long the trial ran on past the look's patients before knowing the look's answer.
    """
    return [look.day - float(history.enrollment_day[look.patients - 1]) for look in history.looks]


def _date(model: TrialModel, day: float) -> np.datetime64:
    """One date for the replicate table (NaT for a day that never came)."""
    return model.dates(day).reshape(1)[0]


def _primary(obs: ObservedData, plan: Analysis, test: ResponseRateTest) -> dict[str, Any]:
    """ORR among the analysis population and DCR among every treated patient, at the primary cutoff."""
    analysed = obs.evaluable if plan.population == "evaluable" else np.ones(obs.n_treated, bool)
    bor = obs.best_overall_response[analysed]
    n = int(bor.shape[0])
    any_response = int(np.count_nonzero(obs.any_response[analysed]))
    responders = int(np.count_nonzero(responded(bor)))
    controlled = int(np.count_nonzero(disease_controlled(obs.best_overall_response)))  # DCR: every treated patient
    p_value, low, high = test(responders, n)
    return {
        "n_treated": obs.n_treated,
        "n_analysed": n,
        "responders": responders,
        "orr": responders / n if n else math.nan,
        "orr_ci_low": low,
        "orr_ci_high": high,
        "p_value": p_value,
        "disease_control": controlled,
        "dcr": controlled / obs.n_treated if obs.n_treated else math.nan,
        "responders_unconfirmed": any_response,
        "orr_unconfirmed": any_response / n if n else math.nan,
    }


def _survival(prefix: str, months: np.ndarray, event: np.ndarray, plan: Analysis) -> dict[str, Any]:
    """Events, the KM median with its CI, and the KM rate at the landmark."""
    fit = kaplan_meier(months, event, conf_type="log-log", conf_level=plan.ci_level)
    low, high = fit.median_ci
    return {
        f"{prefix}_events": int(np.count_nonzero(event)),
        f"median_{prefix}_months": float(fit.median),
        f"median_{prefix}_ci_low": float(low),
        f"median_{prefix}_ci_high": float(high),
        f"{prefix}_rate_at_landmark": float(fit.survival_at(plan.landmark_months)[0]) if months.size else math.nan,
    }


def _final(obs: ObservedData, plan: Analysis) -> dict[str, Any]:
    """PFS, OS and safety among all treated patients at the final cutoff."""
    n = obs.n_treated
    out = _survival("pfs", obs.pfs_months, obs.pfs_event, plan)
    out.update(_survival("os", obs.os_months, obs.os_event, plan))
    ae_stops = int(np.count_nonzero(obs.ae_discontinued))
    out.update(
        {
            "patients_with_grade3_ae": int(np.count_nonzero(obs.ae_count > 0)),
            "ae_discontinuations": ae_stops,
            "ae_discontinuation_rate": ae_stops / n if n else math.nan,
            "mean_cycles": float(obs.cycles_received.mean()) if n else math.nan,
            "median_follow_up_months": median_follow_up(obs.os_months, obs.os_event) if n else math.nan,
        }
    )
    return out


def _decision(history: TrialHistory, model: TrialModel, primary: dict[str, Any], primary_day: float) -> dict[str, Any]:
    """The design's verdict: an interim futility stop, or the final rule at the primary analysis.

    ``reject_h0`` is the protocol's decision: the exact binomial test for a single-stage design,
    Simon's ``responders > r``, or the Bayesian posterior rule; never a success after a stop.
    """
    stop_day = history.stop_day
    stopped = not math.isnan(stop_day)
    binomial = bool(primary["p_value"] <= model.scenario.analysis.alpha)
    success = not stopped and model.rule.succeeds(primary["responders"], primary["n_analysed"], binomial)
    decision_day = stop_day if stopped else primary_day
    first = history.looks[0] if history.looks else None
    return {
        "reject_h0": success,
        "interim_looks": len(history.looks),
        "interim_wait_days": float(sum(look_waits(history))),
        "first_look_responders": first.responders if first else -1,
        "first_look_date": _date(model, first.day if first else math.nan),
        "stopped_early": stopped,
        "stop_date": _date(model, stop_day),
        "decision_date": _date(model, decision_day),
        "decision_months": (decision_day - model.open_day) / DAYS_PER_MONTH,
    }


def analyse_replicate(
    history: TrialHistory, model: TrialModel, test: ResponseRateTest
) -> tuple[dict[str, Any], ObservedData, ObservedData]:
    """One replicate-table row, plus the observed data at the primary and final cutoffs."""
    plan = model.scenario.analysis
    primary_day = cutoff_day(plan.primary_cutoff, history, model)
    final_day = cutoff_day(plan.final_cutoff, history, model)
    sd_days = model.scenario.schedule.sd_min_days
    primary = observe(history.journeys, history.first_dose_day, primary_day, sd_days, plan.pfs_censoring)
    final = observe(history.journeys, history.first_dose_day, final_day, sd_days, plan.pfs_censoring)
    n = history.n_enrolled
    # A futility stop ends recruitment by decision, not by running out of time.
    short = n < history.enrollment_target and math.isnan(history.stop_day)
    row: dict[str, Any] = {
        "n_screened": history.n_screened,
        "n_screen_failed": history.n_screen_failed,
        "n_enrolled": n,
        "enrollment_target": history.enrollment_target,
        "closed_short": short,
        "first_patient_in_date": _date(model, float(history.enrollment_day.min()) if n else math.nan),
        "last_patient_in_date": _date(model, float(history.enrollment_day.max()) if n else math.nan),
        "enrollment_complete_date": _date(model, history.enrollment_complete_day),
        "enrollment_months": (float(history.enrollment_day.max()) - model.open_day) / DAYS_PER_MONTH if n else math.nan,
        "primary_cutoff_date": _date(model, primary_day),
        "final_cutoff_date": _date(model, final_day),
        "true_orr": history.true_orr,
    }
    row.update(_primary(primary, plan, test))
    row.update(_decision(history, model, row, primary_day))
    row.update(_final(final, plan))
    return row, primary, final
