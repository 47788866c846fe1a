"""Least squares on an objective read off a Monte Carlo cohort.

With common random numbers the cohort's statistics are deterministic, but they move in steps of
one patient; derivatives are therefore forward differences over a fixed 1% step of the
log-parameters, which spans many patients, instead of scipy's default step near machine precision.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize

__all__ = ["JACOBIAN_STEP", "least_squares"]

JACOBIAN_STEP = 0.01
"""Forward-difference step of the log-parameters."""


class _CachedResiduals:
    """The residual vector as a function of the log-parameters, remembered at the last point asked.

    least_squares asks for the residuals and then the Jacobian at the same point; the differences
    reuse that evaluation instead of drawing the cohort again.
    """

    def __init__(self, evaluate: Callable[[np.ndarray], np.ndarray]) -> None:
        self._evaluate = evaluate
        self._last: tuple[bytes, np.ndarray] | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        key = np.asarray(x, dtype=float).tobytes()
        if self._last is None or self._last[0] != key:
            self._last = (key, self._evaluate(np.asarray(x, dtype=float)))
        return self._last[1]

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Forward differences over JACOBIAN_STEP in each log-parameter."""
        f0 = self(x)
        columns = []
        for i in range(x.size):
            step = np.zeros_like(x)
            step[i] = JACOBIAN_STEP
            columns.append((self._evaluate(x + step) - f0) / JACOBIAN_STEP)
        return np.column_stack(columns)


def least_squares(
    evaluate: Callable[[np.ndarray], np.ndarray], x0: list[float], low: list[float], high: list[float], xtol: float
) -> tuple[np.ndarray, bool, str]:
    """Minimise the sum of squared residuals within bounds from ``x0``; (x, converged, scipy's message).

    The search stops once the log-parameters move by less than ``xtol`` (relative).
    """
    residuals = _CachedResiduals(evaluate)
    start = np.clip(np.asarray(x0, dtype=float), np.asarray(low) + 1e-9, np.asarray(high) - 1e-9)
    solution = optimize.least_squares(
        residuals,
        start,
        jac=residuals.jacobian,
        bounds=(low, high),
        method="trf",
        ftol=1e-10,
        xtol=xtol,
        gtol=1e-10,
        max_nfev=100,
    )
    return np.asarray(solution.x), bool(solution.status > 0), str(solution.message)
