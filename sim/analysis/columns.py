"""Per-replicate figures from the observed rows: ORR test and interval, decisions, Kaplan-Meier, safety."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ..model.history import HistoryBatch
from ..model.recist import disease_controlled, responded
from ..model.trial_model import TrialModel
from ..scenario.model import Analysis
from ..stats.proportions import ResponseRateTest
from ..stats.proportions_batch import response_tests
from ..stats.survival_batch import KaplanMeierBatch, padded_rows
from ..units import DAYS_PER_MONTH
from .observed_rows import ObservedRows

__all__ = ["Columns", "decision_columns", "final_columns", "primary_columns"]

Item = TypeVar("Item", bound=np.generic)

Columns = dict[str, NDArray[np.generic]]
"""A table as named columns of equal length (one entry per replicate)."""


def _seen(values: NDArray[Item] | None, name: str) -> NDArray[Item]:
    """A part of :class:`ObservedRows` the analysis needs; it must have been derived."""
    if values is None:
        raise ValueError(f"{name} was not derived at this cutoff (observe_rows parts)")
    return values


def _count(mask: NDArray[np.bool_], replicate: NDArray[np.intp], replicates: int) -> NDArray[np.int64]:
    """Rows where ``mask`` holds, per replicate."""
    return np.bincount(replicate[mask], minlength=replicates).astype(np.int64)


def _ratio(numerator: NDArray[np.generic], n: NDArray[np.int64]) -> NDArray[np.float64]:
    """numerator / n, NaN where n = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, numerator / np.maximum(n, 1), np.nan)


def primary_columns(obs: ObservedRows, plan: Analysis, test: ResponseRateTest, replicates: int) -> Columns:
    """ORR among the analysis population and DCR among every treated patient, at the primary cutoff.

    DCR keeps its published denominator whatever ``analysis.population`` says: a patient never
    scanned had no disease control.
    """
    evaluable = _seen(obs.evaluable, "evaluable")
    bor = _seen(obs.best_overall_response, "best_overall_response")
    analysed = evaluable if plan.population == "evaluable" else np.ones(obs.replicate.shape, bool)
    rep = obs.replicate
    n = _count(analysed, rep, replicates)
    any_response = _count(analysed & _seen(obs.any_response, "any_response"), rep, replicates)
    responders = _count(analysed & responded(bor), rep, replicates)
    controlled = _count(disease_controlled(bor), rep, replicates)  # every treated patient, as DCR is published
    treated = np.bincount(rep, minlength=replicates).astype(np.int64)
    p_value, low, high = response_tests(test, responders, n)
    return {
        "n_treated": treated,
        "n_analysed": n,
        "responders": responders,
        "orr": _ratio(responders, n),
        "orr_ci_low": low,
        "orr_ci_high": high,
        "p_value": p_value,
        "disease_control": controlled,
        "dcr": _ratio(controlled, treated),
        "responders_unconfirmed": any_response,
        "orr_unconfirmed": _ratio(any_response, n),
    }


def _survival(
    prefix: str,
    obs: ObservedRows,
    months: NDArray[np.float64],
    event: NDArray[np.bool_],
    plan: Analysis,
    replicates: int,
) -> Columns:
    """Events, the KM median with its log-log CI, and the KM rate at the landmark, per replicate."""
    n = np.bincount(obs.replicate, minlength=replicates).astype(np.int64)
    fit = KaplanMeierBatch.fit(padded_rows(months, n, np.inf), padded_rows(event, n, False).astype(bool), n)
    low, high = fit.median_ci(plan.ci_level)
    return {
        f"{prefix}_events": _count(event, obs.replicate, replicates),
        f"median_{prefix}_months": fit.median(),
        f"median_{prefix}_ci_low": low,
        f"median_{prefix}_ci_high": high,
        f"{prefix}_rate_at_landmark": fit.survival_at(plan.landmark_months),
    }


def final_columns(obs: ObservedRows, plan: Analysis, replicates: int) -> Columns:
    """PFS, OS and safety among all treated patients at the final cutoff (as the per-replicate oracle)."""
    rep = obs.replicate
    n = np.bincount(rep, minlength=replicates).astype(np.int64)
    os_months, os_event = _seen(obs.os_months, "os_months"), _seen(obs.os_event, "os_event")
    out = _survival(
        "pfs", obs, _seen(obs.pfs_months, "pfs_months"), _seen(obs.pfs_event, "pfs_event"), plan, replicates
    )
    out.update(_survival("os", obs, os_months, os_event, plan, replicates))
    ae_stops = _count(_seen(obs.ae_discontinued, "ae_discontinued"), rep, replicates)
    cycles = np.bincount(rep, weights=_seen(obs.cycles_received, "cycles_received"), minlength=replicates)
    months = padded_rows(os_months, n, np.inf)
    censored = padded_rows(~os_event, n, False).astype(bool)
    follow_up = KaplanMeierBatch.fit(months, censored, n).median()
    out.update(
        {
            "patients_with_grade3_ae": _count(_seen(obs.ae_count, "ae_count") > 0, rep, replicates),
            "ae_discontinuations": ae_stops,
            "ae_discontinuation_rate": _ratio(ae_stops, n),
            "mean_cycles": _ratio(cycles, n),
            "median_follow_up_months": np.where(n > 0, follow_up, np.nan),
        }
    )
    return out


def _succeeds(
    model: TrialModel, responders: NDArray[np.int64], n: NDArray[np.int64], binomial: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The design's final rule (:meth:`sim.scenario.rules.DesignRule.succeeds`), once per distinct input."""
    out = np.zeros(n.shape, dtype=bool)
    keys = np.stack([responders, n, binomial.astype(np.int64)], axis=1)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    verdict = np.array([model.rule.succeeds(int(k), int(m), bool(b)) for k, m, b in unique.tolist()], dtype=bool)
    out[:] = verdict[inverse.reshape(-1)] if unique.size else out
    return out


def decision_columns(
    batch: HistoryBatch, model: TrialModel, primary: Columns, primary_day: NDArray[np.float64]
) -> Columns:
    """The design's verdict per replicate (as the per-replicate oracle)."""
    replicates = batch.n_replicates
    stop_day = batch.stop_day
    stopped = ~np.isnan(stop_day)
    p_value = np.asarray(primary["p_value"], dtype=float)
    binomial = p_value <= model.scenario.analysis.alpha
    success = ~stopped & _succeeds(
        model, np.asarray(primary["responders"]), np.asarray(primary["n_analysed"]), binomial
    )
    decision_day = np.where(stopped, stop_day, primary_day)
    looks = np.bincount(batch.look_replicate, minlength=replicates).astype(np.int64)
    first = np.full(replicates, -1, dtype=np.int64)
    first_day = np.full(replicates, np.nan)
    looked, earliest = np.unique(batch.look_replicate, return_index=True)  # looks are in calendar order
    first[looked] = batch.look_responders[earliest]
    first_day[looked] = batch.look_day[earliest]
    return {
        "reject_h0": success,
        "interim_looks": looks,
        "interim_wait_days": np.bincount(batch.look_replicate, weights=batch.look_wait, minlength=replicates).astype(
            float
        ),
        "first_look_responders": first,
        "first_look_date": model.dates(first_day),
        "stopped_early": stopped,
        "stop_date": model.dates(stop_day),
        "decision_date": model.dates(decision_day),
        "decision_months": (decision_day - model.open_day) / DAYS_PER_MONTH,
    }
