"""Analyse many replicates at once, exactly as :func:`tests.replicate_analysis.analyse_replicate` does one at a time.

A replicate's own analysis is a few dozen small numpy calls and two Kaplan-Meier fits; over a
chunk that is most of a run's time. Here the chunk's patients are stacked (replicate, then
enrollment order) in a :class:`HistoryBatch`, each replicate's cutoffs are found at once, the data
visible at each patient's cutoff are derived in one pass (:func:`observe_rows`, the rules of
:func:`sim.model.observe.observe` with one cutoff per patient), and per-replicate figures are counts over
the rows and batched Kaplan-Meier fits (:mod:`sim.stats.survival_batch`). Every column equals the
per-replicate analysis bit for bit; ``tests/test_batch_analysis.py`` checks it on every scenario.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..model.history import HistoryBatch
from ..model.trial_model import TrialModel
from ..scenario.model import Analysis
from ..stats.proportions import ResponseRateTest
from ..units import DAYS_PER_MONTH
from .columns import Columns, decision_columns, final_columns, primary_columns
from .observed_rows import ObservedRows, cutoff_days, observe_rows, per_replicate

__all__ = ["Columns", "HistoryBatch", "ObservedRows", "analyse_batch", "cutoff_days", "observe_rows", "response_test"]


def response_test(plan: Analysis) -> ResponseRateTest:
    """The analysis plan's exact test of ``p0`` with its confidence interval, tabulated per n."""
    return ResponseRateTest(plan.p0, plan.ci_method, plan.ci_level)


def analyse_batch(
    batch: HistoryBatch, model: TrialModel, test: ResponseRateTest
) -> tuple[Columns, NDArray[np.float64], NDArray[np.float64]]:
    """The replicate table's columns (all but ``replicate``), and each replicate's primary and final cutoff days."""
    plan = model.scenario.analysis
    replicates = batch.n_replicates
    primary_day = cutoff_days(plan.primary_cutoff, batch, model)
    final_day = cutoff_days(plan.final_cutoff, batch, model)
    sd_days = model.scenario.schedule.sd_min_days
    replicate = batch.replicate
    primary = observe_rows(
        batch.journeys,
        batch.first_dose_day,
        primary_day[replicate],
        sd_days,
        plan.pfs_censoring,
        replicate,
        ("responses",),
    )
    final = observe_rows(
        batch.journeys,
        batch.first_dose_day,
        final_day[replicate],
        sd_days,
        plan.pfs_censoring,
        replicate,
        ("outcomes",),
    )
    n = batch.patients
    first_in = per_replicate(np.minimum.reduceat, batch.enrollment_day, n, math.nan)
    last_in = per_replicate(np.maximum.reduceat, batch.enrollment_day, n, math.nan)
    columns: Columns = {
        "n_screened": batch.n_screened,
        "n_screen_failed": batch.n_screen_failed,
        "n_enrolled": n,
        "enrollment_target": batch.enrollment_target,
        # A futility stop ends recruitment by decision, not by running out of time.
        "closed_short": (n < batch.enrollment_target) & np.isnan(batch.stop_day),
        "first_patient_in_date": model.dates(first_in),
        "last_patient_in_date": model.dates(last_in),
        "enrollment_complete_date": model.dates(batch.enrollment_complete_day),
        "enrollment_months": (last_in - model.open_day) / DAYS_PER_MONTH,
        "primary_cutoff_date": model.dates(primary_day),
        "final_cutoff_date": model.dates(final_day),
        "true_orr": batch.true_orr,
    }
    columns.update(primary_columns(primary, plan, test, replicates))
    columns.update(decision_columns(batch, model, columns, primary_day))
    columns.update(final_columns(final, plan, replicates))
    return columns, primary_day, final_day
