"""The two ORR targets a run reports (``docs/model.md``, "Estimand"): the latent ORR and the tested rate.

The tested rate is the mean over replicates of ``responders / n_analysed``, the rate the exact test
sees. Without dropout, and with every response present at the first scan and confirmed before the
cutoff, it is the latent ORR; withdrawal before confirmation puts it below.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from sim.runs.runner import RunResult, run
from sim.scenario import Scenario
from tests.helpers import IDEAL

R = 2000


def _run(scenario: Scenario) -> RunResult:
    return run(scenario, replicates=R, seed=88, n_jobs=2, progress=False)


def _check_tested_figures(result: RunResult) -> None:
    """The tested rate, its coverage and their MCSEs, recomputed from the replicate table."""
    summary, table = result.summary, result.replicates
    orr = table["orr"].to_numpy(dtype=float)
    tested = summary.tested_rate
    assert tested.value == pytest.approx(orr.mean(), rel=1e-12)
    assert tested.mcse == pytest.approx(orr.std(ddof=1) / math.sqrt(orr.size), rel=1e-12)
    low, high = table["orr_ci_low"].to_numpy(dtype=float), table["orr_ci_high"].to_numpy(dtype=float)
    covered = ((low <= tested.value) & (tested.value <= high))[np.isfinite(low) & np.isfinite(high)]
    coverage = summary.coverage_of_tested
    assert coverage.value == pytest.approx(covered.mean(), rel=1e-12) and coverage.n == covered.size
    # the MCSE counts the target's own error: the coverage moved by one MCSE of the target, half each way
    finite = np.isfinite(low) & np.isfinite(high)
    shifted = [((low <= x) & (x <= high))[finite].mean() for x in (tested.value + tested.mcse, tested.value - tested.mcse)]
    binomial = math.sqrt(covered.mean() * (1 - covered.mean()) / covered.size)
    assert coverage.mcse == pytest.approx(math.hypot(binomial, abs(shifted[0] - shifted[1]) / 2), rel=1e-12)
    assert coverage.mcse >= binomial
    orr_block = summary.to_dict()["orr"]
    assert orr_block["tested_rate"] == {"estimate": tested.value, "mcse": tested.mcse, "replicates": R}
    assert orr_block["coverage_of_tested"]["estimate"] == coverage.value
    assert {"true", "mean", "bias", "median_ci_width", "mean_ci_width", "coverage"} <= orr_block.keys()


@pytest.mark.slow
def test_without_dropout_the_tested_rate_is_the_latent_orr(scenario_with: Callable[..., Scenario]) -> None:
    scenario = scenario_with(*IDEAL)
    result = _run(scenario)
    _check_tested_figures(result)
    tested = result.summary.tested_rate
    assert (result.replicates["n_analysed"] == scenario.trial.sample_size).all()  # every patient analysed
    assert abs(tested.value - scenario.efficacy.orr) <= 4 * tested.mcse


@pytest.mark.slow
def test_with_heavy_withdrawal_the_tested_rate_is_below_the_latent_orr(scenario_with: Callable[..., Scenario]) -> None:
    """A third of patients a month withdraw: many responders leave before their response is confirmed."""
    scenario = scenario_with("safety.withdrawal_per_month=0.3")
    result = _run(scenario)
    _check_tested_figures(result)
    summary = result.summary
    tested, latent = summary.tested_rate, scenario.efficacy.orr
    assert latent - tested.value > 4 * tested.mcse
    # the bias against the latent ORR is exactly the gap between the two targets
    assert summary.orr_bias.value == pytest.approx(tested.value - latent, abs=1e-12)
    # intervals are built for the rate the data estimate, so they cover it as designed (Clopper-Pearson
    # is conservative: at least 95%), and cover the latent ORR less often
    of_tested, of_latent = summary.coverage_of_tested, summary.coverage
    assert of_tested.value >= 0.95 - 4 * of_tested.mcse
    assert of_tested.value - of_latent.value > 4 * math.hypot(of_tested.mcse, of_latent.mcse)
