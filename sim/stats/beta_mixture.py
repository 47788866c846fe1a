"""A belief about the true ORR: a mixture of Beta laws, optionally truncated at a ceiling.

One object serves assurance before the trial (each replicate draws its true ORR from the prior)
and the forecast during it (the same prior updated with the responses seen so far). A mixture is
conjugate to binomial data: after ``k`` responders and ``m`` non-responders, component ``j``
becomes Beta(a_j + k, b_j + m) and its weight is multiplied by its marginal likelihood
``B(a_j + k, b_j + m) / B(a_j, b_j)``, then the weights are renormalised. Truncation to
``[0, c]`` commutes with that update, so a truncated prior's posterior is the truncated posterior.

A draw takes one uniform (the composition method): the uniform, scaled to the mass below ``c``,
picks the component whose share of that mass it falls in and, rescaled within that share, gives
the component's truncated quantile. For a single component this is ``F^{-1}(u F(c))``, the draw
the forecast has always made; for a mixture it is not the mixture's quantile function
(:meth:`BetaMixture.quantile` is), but it has the mixture's law.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = ["BetaMixture", "JEFFREYS"]

JEFFREYS = (0.5, 0.5)
"""The Jeffreys prior of a binomial proportion: the vague start a data prior adds its patients to."""


@dataclass(frozen=True)
class BetaMixture:
    """Weights and Beta(a, b) shapes of each component; weights positive, summing to 1."""

    weights: tuple[float, ...]
    a: tuple[float, ...]
    b: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (len(self.weights) == len(self.a) == len(self.b) >= 1):
            raise ValueError("a Beta mixture needs one weight, a and b per component")
        if min(self.a) <= 0 or min(self.b) <= 0 or min(self.weights) <= 0:
            raise ValueError(f"Beta shapes and weights must be positive, got {self!r}")
        if not math.isclose(sum(self.weights), 1.0, abs_tol=1e-9):
            raise ValueError(f"mixture weights must sum to 1, got {sum(self.weights)!r}")

    @classmethod
    def beta(cls, a: float, b: float) -> BetaMixture:
        """A single Beta(a, b)."""
        return cls((1.0,), (float(a),), (float(b),))

    @classmethod
    def from_data(cls, responders: int, patients: int, weight: float = 1.0) -> BetaMixture:
        """The Jeffreys prior updated with ``weight`` times the earlier data (a power prior, weight in (0, 1])."""
        return cls.beta(JEFFREYS[0] + weight * responders, JEFFREYS[1] + weight * (patients - responders))

    @classmethod
    def mixture(cls, parts: list[tuple[float, BetaMixture]]) -> BetaMixture:
        """The mixture of ``parts`` (weight, mixture) pairs, flattened into one set of components."""
        weights = [w * v for w, part in parts for v in part.weights]
        return cls(
            tuple(weights),
            tuple(a for _, part in parts for a in part.a),
            tuple(b for _, part in parts for b in part.b),
        )

    @property
    def _w(self) -> NDArray[np.float64]:
        return np.asarray(self.weights)

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        """P(ORR <= x) under the untruncated mixture."""
        x = np.asarray(x, dtype=float)
        return np.asarray(sum(w * scipy.stats.beta.cdf(x, a, b) for w, a, b in zip(self.weights, self.a, self.b)))

    def pdf(self, x: ArrayLike, ceiling: float = 1.0) -> NDArray[np.float64]:
        """The density, truncated to [0, ``ceiling``] and renormalised."""
        x = np.asarray(x, dtype=float)
        dens = sum(w * scipy.stats.beta.pdf(x, a, b) for w, a, b in zip(self.weights, self.a, self.b))
        return np.where(x <= ceiling, dens, 0.0) / self.mass_below(ceiling)

    def mass_below(self, ceiling: float) -> float:
        """P(ORR <= ``ceiling``): the share of the prior a truncation at the ceiling keeps."""
        return float(self.cdf(ceiling))

    def mean(self, ceiling: float = 1.0) -> float:
        """Mean of the truncated mixture: E[p 1(p <= c)] = a / (a + b) F_{a+1,b}(c) per component."""
        parts = [
            w * a / (a + b) * scipy.stats.beta.cdf(ceiling, a + 1, b) for w, a, b in zip(self.weights, self.a, self.b)
        ]
        return float(sum(parts)) / self.mass_below(ceiling)

    def quantile(self, q: float, ceiling: float = 1.0) -> float:
        """The ``q`` quantile of the truncated mixture (a root of its distribution function)."""
        if len(self.weights) == 1:
            return float(self.draw(q, ceiling))
        target = q * self.mass_below(ceiling)
        return float(scipy.optimize.brentq(lambda x: float(self.cdf(x)) - target, 0.0, ceiling, xtol=1e-12))

    def draw(self, u: ArrayLike, ceiling: float = 1.0) -> NDArray[np.float64]:
        """True ORRs from uniforms ``u`` under the mixture truncated at ``ceiling`` (module docstring)."""
        u = np.asarray(u, dtype=float)
        masses = np.array([w * scipy.stats.beta.cdf(ceiling, a, b) for w, a, b in zip(self.weights, self.a, self.b)])
        cumulative = np.cumsum(masses)
        v = u * cumulative[-1]
        j = np.minimum(np.searchsorted(cumulative, v, side="right"), len(masses) - 1)
        below = np.where(j > 0, cumulative[j - 1], 0.0)
        within = (v - below) / self._w[j]
        return np.asarray(scipy.stats.beta.ppf(within, np.asarray(self.a)[j], np.asarray(self.b)[j]))

    def posterior(self, responders: int, non_responders: int) -> BetaMixture:
        """The mixture after ``responders`` and ``non_responders`` settled patients (module docstring)."""
        a, b = np.asarray(self.a), np.asarray(self.b)
        log_w = np.log(self._w) + special.betaln(a + responders, b + non_responders) - special.betaln(a, b)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        return BetaMixture(tuple(w.tolist()), tuple((a + responders).tolist()), tuple((b + non_responders).tolist()))

    def describe(self) -> str:
        """The law in words: ``Beta(2, 8)`` or ``0.5 Beta(1, 9) + 0.5 Beta(4, 6)``."""
        parts = [f"Beta({a:g}, {b:g})" for a, b in zip(self.a, self.b)]
        if len(parts) == 1:
            return parts[0]
        return " + ".join(f"{w:g} {p}" for w, p in zip(self.weights, parts))
