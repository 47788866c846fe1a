"""Interim monitoring of the response rate in calendar time: Simon two-stage and Bayesian rules.

A look happens on the day the first ``n`` enrolled patients have all had their response judged
(confirmed, ruled out by progression, death or exit, or past the judgement horizon). Responders
are the responses confirmed by that day. The rule then continues or stops the trial for futility;
the final decision at the primary analysis follows the same design.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from .scenario.model import Analysis, Monitoring
from .stats.designs import posterior_prob_above, predictive_probability

__all__ = ["Look", "DecisionRule", "monitor_process"]


@dataclass(frozen=True)
class Look:
    """One interim look: when, on how many judged patients, how many responders, and the verdict."""

    day: float
    patients: int
    responders: int
    stop: bool


@dataclass(frozen=True)
class DecisionRule:
    """The design's interim and final decisions."""

    monitoring: Monitoring
    analysis: Analysis
    sample_size: int

    def stops(self, responders: int, judged: int) -> bool:
        """Whether a look with ``responders`` among ``judged`` patients stops the trial for futility."""
        m = self.monitoring
        if m.rule == "simon":
            assert m.stage1_max_responders is not None
            return responders <= m.stage1_max_responders
        if m.rule == "bayesian":
            assert m.futility_predictive is not None and m.success_posterior is not None
            chance = predictive_probability(
                responders, judged, self.sample_size, self.analysis.p0, m.success_posterior, m.prior_a, m.prior_b
            )
            return chance < m.futility_predictive
        return False

    def succeeds(self, responders: int, analysed: int, binomial_rejects: bool) -> bool:
        """The final decision at the primary analysis (the exact binomial test without monitoring)."""
        m = self.monitoring
        if analysed == 0:
            return False
        if m.rule == "simon":
            assert m.final_max_responders is not None
            return responders > m.final_max_responders
        if m.rule == "bayesian":
            assert m.success_posterior is not None
            posterior = posterior_prob_above(self.analysis.p0, responders, analysed, m.prior_a, m.prior_b)
            return posterior > m.success_posterior
        return binomial_rejects


def monitor_process(
    env: simpy.Environment,
    rule: DecisionRule,
    enrolled: Callable[[int], simpy.Event | None],
    judged_and_confirmed: Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]],
    hold: Callable[[bool], None],
    close: Callable[[], None],
    record: Callable[[Look], None],
) -> Generator[simpy.Event, Any, None]:
    """SimPy process running the scenario's looks in calendar time.

    ``enrolled(n)`` gives an event that fires when the n-th patient is enrolled (None if already);
    ``judged_and_confirmed(n)`` the judgement and confirmation days (from study start) of the first
    n patients; ``hold(True/False)`` pauses or resumes enrollment; ``close()`` stops recruitment.
    """
    pause = rule.monitoring.pause_enrollment
    for n in rule.monitoring.look_sizes:
        wait = enrolled(n)
        if wait is not None:
            yield wait
        if pause:
            hold(True)
        judged, confirmed = judged_and_confirmed(n)
        day = float(judged.max())
        if day > env.now:
            yield env.timeout(day - env.now)
        responders = int(np.count_nonzero(confirmed <= day))
        stop = rule.stops(responders, n)
        record(Look(day=env.now, patients=n, responders=responders, stop=stop))
        if pause:
            hold(False)
        if stop:
            close()
            return
