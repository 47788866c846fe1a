"""The trial's decision rule as an object: single stage, Simon two-stage or Bayesian monitoring.

Each rule owns what the scenario's ``monitoring`` table means for it: the fields it needs and their
checks, the interim looks, the futility stop, the final success decision, its exact operating
characteristics under a binomial model where they exist, and the words the report uses for it.
The engines, the analysis, the summary and the report ask the rule instead of testing its name;
:func:`design_rule` builds it from a scenario's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import scipy

from ..stats.designs import posterior_prob_above, predictive_probability, simon_characteristics
from ..stats.proportions import critical_responders
from .limits import MAX_LOOK_WORK
from .plan import Analysis, Monitoring

__all__ = [
    "BayesianRule",
    "DesignRule",
    "Exact",
    "RULES",
    "SimonRule",
    "SingleStageRule",
    "design_rule",
    "rule_problems",
]


@dataclass(frozen=True)
class Exact:
    """A rule's operating characteristics at a true ORR when every patient is analysed (binomial, no clock)."""

    success: float
    early_stop: float
    expected_n: float


class DesignRule(Protocol):
    """What every decision rule answers; ``name`` is its ``monitoring.rule`` value."""

    @property
    def name(self) -> str:
        """The ``monitoring.rule`` value: ``none``, ``simon`` or ``bayesian``."""
        ...

    @property
    def look_sizes(self) -> tuple[int, ...]:
        """Patients judged at each interim look, in order (none for a single stage)."""
        ...

    @property
    def fixed_threshold(self) -> bool:
        """Whether the responders needed for success are fixed by the design, whoever is analysed."""
        ...

    def stops(self, responders: int, judged: int) -> bool:
        """Whether a look with ``responders`` among ``judged`` patients stops the trial for futility."""
        ...

    def succeeds(self, responders: int, analysed: int, test_rejects: bool) -> bool:
        """The final decision; ``test_rejects`` is the exact binomial test's verdict, which a single stage uses."""
        ...

    def threshold(self, analysed: int) -> int:
        """The fewest responders among ``analysed`` that give a positive result."""
        ...

    def exact(self, orr: float) -> Exact | None:
        """Exact operating characteristics at ``orr``, or None where no closed form is kept."""
        ...

    def words(self) -> str:
        """The rule as the report names it ("the exact test", "the Simon design's final rule", ...)."""
        ...


@dataclass(frozen=True)
class SingleStageRule:
    """One analysis of every patient: positive when the exact one-sided binomial test rejects ``p0``."""

    sample_size: int
    p0: float
    alpha: float
    name: str = "none"
    look_sizes: tuple[int, ...] = ()
    fixed_threshold: bool = False

    @staticmethod
    def problems(m: Monitoring, sample_size: int) -> list[str]:
        """None: a single stage needs no monitoring fields."""
        return []

    def stops(self, responders: int, judged: int) -> bool:
        """Never: there is no interim look."""
        return False

    def succeeds(self, responders: int, analysed: int, test_rejects: bool) -> bool:
        """The exact test's verdict (no patients, no success)."""
        return analysed > 0 and test_rejects

    def threshold(self, analysed: int) -> int:
        """The exact test's critical number of responders."""
        return critical_responders(analysed, self.p0, self.alpha)

    def exact(self, orr: float) -> Exact:
        """P(at least the critical count of ``sample_size``); nothing stops early."""
        r = self.threshold(self.sample_size)
        return Exact(float(scipy.stats.binom.sf(r - 1, self.sample_size, orr)), 0.0, float(self.sample_size))

    def words(self) -> str:
        """The exact test, as the report names it."""
        return "the exact test"


@dataclass(frozen=True)
class SimonRule:
    """Simon's two-stage design: stop when stage-1 responders <= r1 of n1; positive when all responders > r."""

    sample_size: int
    n1: int
    r1: int
    r: int
    name: str = "simon"
    fixed_threshold: bool = True

    @staticmethod
    def problems(m: Monitoring, sample_size: int) -> list[str]:
        """n1 below the sample size, r1 below n1, r1 <= r below the sample size."""
        n1, r1, r = m.stage1_patients, m.stage1_max_responders, m.final_max_responders
        assert n1 is not None and r1 is not None and r is not None
        problems = []
        if not n1 < sample_size:
            problems.append(f"monitoring.stage1_patients ({n1}) must be below trial.sample_size ({sample_size})")
        if not r1 < n1:
            problems.append(f"monitoring.stage1_max_responders ({r1}) must be below monitoring.stage1_patients ({n1})")
        if not r1 <= r < sample_size:
            problems.append(
                f"monitoring.final_max_responders ({r}) must lie between monitoring.stage1_max_responders ({r1}) "
                f"and trial.sample_size - 1 ({sample_size - 1})"
            )
        return problems

    @property
    def look_sizes(self) -> tuple[int, ...]:
        """One look, at the n1-th patient."""
        return (self.n1,)

    def stops(self, responders: int, judged: int) -> bool:
        """Stage-1 responders at most r1."""
        return responders <= self.r1

    def succeeds(self, responders: int, analysed: int, test_rejects: bool) -> bool:
        """More than r responders in all."""
        return analysed > 0 and responders > self.r

    def threshold(self, analysed: int) -> int:
        """r + 1, whatever the count analysed."""
        return self.r + 1

    def exact(self, orr: float) -> Exact:
        """Simon's PET, E[N] and P(reject) (:func:`sim.stats.designs.simon_characteristics`)."""
        pet, expected_n, reject = simon_characteristics(self.r1, self.n1, self.r, self.sample_size, orr)
        return Exact(reject, pet, expected_n)

    def words(self) -> str:
        """Simon's final rule, as the report names it."""
        return "the Simon design's final rule"


@dataclass(frozen=True)
class BayesianRule:
    """Bayesian monitoring (Lee and Liu 2008): stop when the predictive probability of success is too low."""

    sample_size: int
    p0: float
    looks: tuple[int, ...]
    futility_predictive: float
    success_posterior: float
    prior_a: float
    prior_b: float
    name: str = "bayesian"
    fixed_threshold: bool = False

    @staticmethod
    def problems(m: Monitoring, sample_size: int) -> list[str]:
        """Looks strictly increasing below the sample size, and not more work than a look can afford."""
        if any(b <= a for a, b in zip(m.looks, m.looks[1:])) or m.looks[-1] >= sample_size:
            return [
                f"monitoring.looks must increase strictly and stay below trial.sample_size ({sample_size}), "
                f"got {_short(list(m.looks))}"
            ]
        if len(m.looks) * sample_size > MAX_LOOK_WORK:
            return [
                f"monitoring.looks has {len(m.looks)} looks and trial.sample_size is {sample_size}; looks x sample "
                f"size may be at most {MAX_LOOK_WORK:,} (each look sums over every possible final outcome): "
                "look less often"
            ]
        return []

    @property
    def look_sizes(self) -> tuple[int, ...]:
        """The scenario's looks."""
        return self.looks

    def stops(self, responders: int, judged: int) -> bool:
        """The predictive probability of final success below ``futility_predictive``."""
        chance = predictive_probability(
            responders, judged, self.sample_size, self.p0, self.success_posterior, self.prior_a, self.prior_b
        )
        return chance < self.futility_predictive

    def succeeds(self, responders: int, analysed: int, test_rejects: bool) -> bool:
        """Posterior P(ORR > p0) above ``success_posterior`` (no patients, no success)."""
        if analysed == 0:
            return False
        return posterior_prob_above(self.p0, responders, analysed, self.prior_a, self.prior_b) > self.success_posterior

    def threshold(self, analysed: int) -> int:
        """The fewest responders whose posterior P(ORR > p0) clears the bar (``analysed + 1`` if none does)."""
        return next((k for k in range(analysed + 1) if self.succeeds(k, analysed, False)), analysed + 1)

    def exact(self, orr: float) -> None:
        """None: the looks' predictive rule has no closed form kept here; the simulation estimates it."""
        return None

    def words(self) -> str:
        """The Bayesian rule, as the report names it."""
        return "the Bayesian rule"


def _single(m: Monitoring, a: Analysis, n: int) -> DesignRule:
    return SingleStageRule(n, a.p0, a.alpha)


def _simon(m: Monitoring, a: Analysis, n: int) -> DesignRule:
    assert m.stage1_patients is not None and m.stage1_max_responders is not None
    assert m.final_max_responders is not None
    return SimonRule(n, m.stage1_patients, m.stage1_max_responders, m.final_max_responders)


def _bayesian(m: Monitoring, a: Analysis, n: int) -> DesignRule:
    assert m.futility_predictive is not None and m.success_posterior is not None
    return BayesianRule(n, a.p0, m.looks, m.futility_predictive, m.success_posterior, m.prior_a, m.prior_b)


RULES: dict[str, tuple[tuple[str, ...], Callable[[Monitoring, int], list[str]], Callable[..., DesignRule]]] = {
    "none": ((), SingleStageRule.problems, _single),
    "simon": (("stage1_patients", "stage1_max_responders", "final_max_responders"), SimonRule.problems, _simon),
    "bayesian": (("looks", "futility_predictive", "success_posterior"), BayesianRule.problems, _bayesian),
}
"""Each ``monitoring.rule``: the fields it requires, its own checks, and how its object is built."""


def rule_problems(m: Monitoring, sample_size: int) -> list[str]:
    """What is missing or inconsistent in ``monitoring`` for its rule, each naming its field."""
    required, checks, _ = RULES[m.rule]
    missing = [
        f"monitoring.{name} is required when monitoring.rule is {m.rule!r}"
        for name in required
        if not getattr(m, name) and getattr(m, name) != 0
    ]
    return missing or checks(m, sample_size)


TRIGGER_FIELDS = {"assessments": ("look_scans", "pending_response"), "judgement_window": ("judgement_days",)}
"""The monitoring fields each ``monitoring.look_trigger`` reads; the other trigger's fields are refused."""


def trigger_problems(m: Monitoring) -> list[str]:
    """A field of the other look trigger given: it would be silently ignored, so it is refused."""
    return [
        f"monitoring.{name} applies only with monitoring.look_trigger = {kind!r}, but the trigger is "
        f"{m.look_trigger!r}; remove it or set monitoring.look_trigger = {kind!r}"
        for kind, names in TRIGGER_FIELDS.items()
        if kind != m.look_trigger
        for name in names
        if getattr(m, name) is not None
    ]


def design_rule(monitoring: Monitoring, analysis: Analysis, sample_size: int) -> DesignRule:
    """The rule object of a validated scenario's ``monitoring`` and ``analysis`` tables."""
    return RULES[monitoring.rule][2](monitoring, analysis, sample_size)


def _short(values: list[int]) -> str:
    """A list as a message shows it, its middle elided when long."""
    if len(values) <= 12:
        return str(values)
    return f"[{', '.join(map(str, values[:5]))}, ..., {', '.join(map(str, values[-5:]))}] ({len(values)} entries)"
