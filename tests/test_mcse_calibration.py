"""Every MCSE a run reports is checked against the spread of its figure over independent seeds.

Each seed is a run of 500 replicates of the base scenario. For each figure of
:class:`~sim.analysis.summary.OperatingCharacteristics` (found from the dataclass, so a new figure is
checked without being listed here), the mean reported MCSE over the seeds is divided by the SD of
the estimate over the seeds. A right MCSE makes that ratio 1 up to the noise of the SD.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import sim
from sim.analysis.summary import OperatingCharacteristics
from sim.scenario import load_scenario
from sim.stats.mcse import Estimate

SEEDS = range(1, 41)
REPLICATES = 500

# 40 seeds of 500 replicates cost what 20 of 1,000 do, and the ratio's noise depends on the number
# of seeds. The SD over 40 seeds has relative SE 1/sqrt(2 (40 - 1)) = 0.113 (normal estimates), so
# 4 SE is +/- 0.45. With a right MCSE the ratio is sigma / SD: it falls below 1 / (1 + 0.45) = 0.69
# only when the SD is 4 SE too large. On the upper side the bound is 1 + 0.45 = 1.45, 4 SE in the
# ratio itself; the 4 SE bound on the SD (1 / (1 - 0.45) = 1.83) would let a far too large MCSE pass.
RELATIVE_SE = 1 / math.sqrt(2 * (len(SEEDS) - 1))
LOW, HIGH = 1 / (1 + 4 * RELATIVE_SE), 1 + 4 * RELATIVE_SE


def _figures(summary: OperatingCharacteristics) -> dict[str, Estimate]:
    """Every figure of a summary by name: each Estimate field and each timeline quantile."""
    figures = {
        field.name: getattr(summary, field.name)
        for field in dataclasses.fields(summary)
        if isinstance(getattr(summary, field.name), Estimate)
    }
    for milestone, per_q in summary.timeline.items():
        figures |= {f"{milestone} q{round(q * 100)}": estimate for q, estimate in per_q.items()}
    return figures


@pytest.fixture(scope="module")
def seeds() -> list[dict[str, Estimate]]:
    """The figures of 40 independent runs of the base scenario."""
    scenario = load_scenario("base")
    return [
        _figures(sim.run(scenario, replicates=REPLICATES, seed=seed, n_jobs=2, progress=False).summary)
        for seed in SEEDS
    ]


@pytest.mark.slow
def test_reported_mcse_matches_the_spread_over_seeds(seeds: list[dict[str, Estimate]]) -> None:
    assert 0.68 < LOW < 0.69 and 1.45 < HIGH < 1.46
    ratios, constant = {}, {}
    # the base design has no interim look: the mean look wait is undefined (no replicate has one)
    assert all(math.isnan(f["interim_wait_days"].value) and f["interim_wait_days"].n == 0 for f in seeds)
    for name in [name for name in seeds[0] if name != "interim_wait_days"]:
        values = np.array([figures[name].value for figures in seeds])
        mcses = np.array([figures[name].mcse for figures in seeds])
        assert np.all(np.isfinite(values)) and np.all(np.isfinite(mcses)), name
        sd = float(values.std(ddof=1))
        if sd == 0:
            constant[name] = float(mcses.max())
        else:
            # a figure that moves between seeds is never pinned: an MCSE of 0 (what the order-statistic
            # rule gave on discrete quantiles) is wrong even when the mean over seeds looks right
            assert np.all(mcses > 0), (name, mcses)
            ratios[name] = float(mcses.mean()) / sd
    # the base design has no interim look, so P(stopped early) is 0 in every seed; a figure that
    # cannot move must say so with an MCSE of exactly 0
    assert constant == {"early_stop": 0.0}
    outside = {name: round(ratio, 3) for name, ratio in ratios.items() if not LOW <= ratio <= HIGH}
    assert not outside, f"mean MCSE / SD over seeds outside [{LOW:.2f}, {HIGH:.2f}]: {outside}"
    # the figures whose MCSEs used to collapse: quantiles of discrete values
    assert {"ci_width_median", "last_patient_in q90", "primary_cutoff q90", "final_cutoff q90"} <= ratios.keys()
