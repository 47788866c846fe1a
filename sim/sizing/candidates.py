"""Candidate designs of a recruitment setting, with the screened figures that rank them.

A single-stage design of ``n`` rejects H0 when responders > ``r``, the exact test's critical count
less one (as ``trialsim design`` prints it). A Simon design of total ``n`` is the one with the least
expected size under p0 among those meeting alpha at p0 and the power at the tested rate
``theta(p1)`` (:func:`sim.stats.designs.simon_designs_by_n`). Screened power and type I error are
exact binomial figures at the tested rates; the time to the decision comes from the recruitment
replicates (:mod:`sim.sizing.screen`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..scenario.rules import SimonRule, SingleStageRule
from ..stats.designs import simon_designs_by_n
from ..stats.proportions import critical_responders
from .screen import SettingScreen

__all__ = ["Design", "Screened", "candidates"]


@dataclass(frozen=True)
class Design:
    """A decision rule: ``family`` (:data:`sim.sizing.levers.DESIGNS`), ``n`` patients, success when responders > ``r``.

    A Simon design of a setting is ``simon-minimax`` when it is Simon's minimax design (the smallest n
    that admits one, even below the sizes searched), else ``simon-optimal``: at its own n it has the
    least expected size under p0 (Simon's optimal design is the one with the least overall).
    """

    family: str
    n: int
    r: int
    n1: int | None = None
    r1: int | None = None

    def overrides(self, pause: bool) -> list[str]:
        """The scenario overrides that make a scenario run this design."""
        size = [f"trial.sample_size={self.n}"]
        if self.family == "single":
            return [*size, "monitoring.rule='none'"]
        assert self.n1 is not None and self.r1 is not None
        return [
            *size,
            "monitoring.rule='simon'",
            f"monitoring.stage1_patients={self.n1}",
            f"monitoring.stage1_max_responders={self.r1}",
            f"monitoring.final_max_responders={self.r}",
            f"monitoring.pause_enrollment={'true' if pause else 'false'}",
        ]

    @property
    def label(self) -> str:
        """The rule in a word: ``single-40-r7``, or ``simon-optimal-43-2of18-r7`` (stop at 2 or fewer of 18)."""
        if self.n1 is None:
            return f"{self.family}-{self.n}-r{self.r}"
        return f"{self.family}-{self.n}-{self.r1}of{self.n1}-r{self.r}"

    def describe(self) -> str:
        """The rule in words: ``single stage, 40 patients, success when > 7 respond``."""
        if self.family == "single":
            return f"single stage, {self.n} patients, success when more than {self.r} respond"
        return (
            f"Simon two-stage, stop if at most {self.r1} of the first {self.n1} respond; "
            f"{self.n} patients, success when more than {self.r} respond"
        )


@dataclass(frozen=True)
class Screened:
    """A candidate and its screened figures (module docstring)."""

    setting_index: int
    design: Design
    power: float
    type_one_error: float
    p_on_time: float
    expected_n_p0: float
    months_to_decision: float
    assurance: float = math.nan


_PRIOR_POINTS = 60
"""Latent ORRs at which a screened assurance averages the success probability over the prior."""


def _screened_assurance(screen: SettingScreen, n: int, success: Callable[[int, float], float]) -> float:
    """The success probability averaged over the prior and over the patients analysed (NaN without a prior).

    The tested rate at latent ORR p is taken as ``theta(p1) p / p1``: in proportion to p, as it is
    exactly in an idealised trial; only the screen uses it, the shortlist is simulated in full.
    """
    if screen.prior is None:
        return math.nan
    edges = np.linspace(0.0, screen.ceiling, _PRIOR_POINTS + 1)
    mids = (edges[1:] + edges[:-1]) / 2
    weights = np.diff(screen.prior.cdf(edges))
    weights = weights / weights.sum()
    thetas = np.minimum(mids * screen.theta1 / screen.p1, 1.0)
    ks, shares = screen.analysed_counts(n)
    return float(
        sum(s * sum(w * success(int(k), float(t)) for w, t in zip(weights, thetas)) for k, s in zip(ks, shares))
    )


def _single(screen: SettingScreen, n: int, alpha: float) -> Design | None:
    """The exact single-stage test of ``n`` patients, or None when no count is significant."""
    r = critical_responders(n, screen.scenario.analysis.p0, alpha)
    return None if r > n else Design("single", n, r - 1)


def _single_success(k: int, theta: float, p0: float, alpha: float) -> float:
    """P(the exact test on ``k`` analysed patients rejects) when each counts with probability ``theta``."""
    return SingleStageRule(k, p0, alpha).exact(theta).success  # 0 when no count of k is significant


def _simon_success(design: Design, k: int, theta: float) -> float:
    """P(a Simon design succeeds) when the trial ends with ``k`` patients (its final rule applied to them)."""
    assert design.n1 is not None and design.r1 is not None
    if k <= design.n1 or design.r >= k:
        return 0.0
    return SimonRule(k, design.n1, design.r1, design.r).exact(theta).success


def _averaged(screen: SettingScreen, n: int, success: Callable[[int], float]) -> float:
    """``success(k)`` averaged over the patients a trial of ``n`` ends with (:meth:`SettingScreen.analysed_counts`)."""
    ks, weights = screen.analysed_counts(n)
    return float(sum(w * success(int(k)) for k, w in zip(ks, weights)))


def candidates(
    screen: SettingScreen,
    index: int,
    sizes: range,
    families: set[str],
    alpha: float,
    power: float,
    deadline_day: float,
    with_assurance: bool = False,
) -> list[Screened]:
    """Every design of the setting the families allow at the sizes searched, with its screened figures
    (and its screened assurance, when asked and the scenario has a prior)."""
    p0, theta0, theta1 = screen.scenario.analysis.p0, screen.theta0, screen.theta1
    out = []
    if "single" in families:
        for n in sizes:
            design = _single(screen, n, alpha)
            if design is not None:
                out.append(
                    Screened(
                        index,
                        design,
                        _averaged(screen, n, lambda k: _single_success(k, theta1, p0, alpha)),
                        _averaged(screen, n, lambda k: _single_success(k, p0, p0, alpha)),
                        screen.p_on_time(n, deadline_day),
                        float(n),
                        screen.months_to_decision(n),
                        _screened_assurance(screen, n, lambda k, t: _single_success(k, t, p0, alpha))
                        if with_assurance
                        else math.nan,
                    )
                )
    if families & {"simon-optimal", "simon-minimax"} and theta1 > p0:
        every = simon_designs_by_n(p0, theta1, alpha, power, max(sizes))
        minimax = min(every, default=None)  # Simon's minimax design, whether or not the sizes searched reach it
        for n, simon in every.items():
            if n not in sizes:
                continue
            family = "simon-minimax" if n == minimax else "simon-optimal"
            if family not in families:
                continue
            design = Design(family, n, simon.r, simon.n1, simon.r1)
            out.append(
                Screened(
                    index,
                    design,
                    _averaged(screen, n, functools.partial(_simon_success, design, theta=theta1)),
                    _averaged(screen, n, functools.partial(_simon_success, design, theta=p0)),
                    screen.p_on_time(n, deadline_day),
                    SimonRule(n, simon.n1, simon.r1, simon.r).exact(theta0).expected_n,
                    screen.months_to_decision(n),
                    _screened_assurance(screen, n, functools.partial(_simon_success, design))
                    if with_assurance
                    else math.nan,
                )
            )
    return out
