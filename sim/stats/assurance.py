"""Exact assurance of a response-rate design: its success probability averaged over a prior on the ORR.

O'Hagan, Stevens and Campbell (Pharmaceutical Statistics 2005;4:187-201) define assurance as
power averaged over the prior. For a design on ``n`` patients whose success probability at ORR
``p`` is a polynomial ``sum_t c_t p^t (1 - p)^(n - t)`` (kept as ``log c_t``) (a single-stage test: ``c_t = C(n, t)``
for ``t > r``; a Simon design: the sum over the stage-1 counts that pass), each term integrates in
closed form against a Beta(a, b) component restricted to ``lo < p <= hi``:

    E[p^t (1 - p)^(n - t) 1(lo < p <= hi)] = B(a + t, b + n - t) / B(a, b) [I_hi - I_lo](a + t, b + n - t)

with ``I`` the regularised incomplete Beta function. Dividing by the prior mass below a ceiling
gives the assurance under the truncated prior the simulation draws from. This is the exact
reference the simulated assurance is held to (an idealised trial: every patient analysed and
every response confirmed), and the decision-error probabilities are the same sum over a band of ORRs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .beta_mixture import BetaMixture

__all__ = ["single_stage_coefficients", "simon_coefficients", "expected_success"]


def _log_choose(n: int, k: NDArray[np.int64]) -> NDArray[np.float64]:
    return np.asarray(special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1))


def single_stage_coefficients(n: int, r: int) -> NDArray[np.float64]:
    """``log c_t`` of a single-stage design that succeeds when responders > ``r`` of ``n`` (-inf where 0).

    Logarithms, so that designs of thousands of patients stay in floating point.
    """
    t = np.arange(n + 1)
    return np.where(t > r, _log_choose(n, t), -np.inf)


def simon_coefficients(r1: int, n1: int, r: int, n: int) -> NDArray[np.float64]:
    """``log c_t`` of a Simon design: more than ``r1`` of ``n1`` in stage 1 and more than ``r`` of ``n`` in all."""
    out = np.full(n + 1, -np.inf)
    x2 = np.arange(n - n1 + 1)
    for x1 in range(r1 + 1, n1 + 1):
        t = x1 + x2
        passing = t > r
        ways = _log_choose(n1, np.array(x1)) + _log_choose(n - n1, x2[passing])
        out[t[passing]] = np.logaddexp(out[t[passing]], ways)
    return out


def expected_success(
    log_coefficients: NDArray[np.float64],
    prior: BetaMixture,
    ceiling: float = 1.0,
    band: tuple[float, float] = (0.0, 1.0),
) -> float:
    """E[P(success | p) 1(band[0] < p <= band[1])] under ``prior`` truncated at ``ceiling``.

    ``log_coefficients`` are the design's ``log c_t``. With the whole band this is the assurance;
    with ``band = (p1, 1)`` the probability of a positive trial with an ORR worth having, with
    ``(0, p0)`` that of a false go.
    """
    n = log_coefficients.shape[0] - 1
    t = np.arange(n + 1)
    lo, hi = band[0], min(band[1], ceiling)
    if hi <= lo:
        return 0.0
    total = 0.0
    for w, a, b in zip(prior.weights, prior.a, prior.b):
        log_moment = special.betaln(a + t, b + n - t) - special.betaln(a, b)
        inside = special.betainc(a + t, b + n - t, hi) - special.betainc(a + t, b + n - t, lo)
        total += w * float(np.sum(np.exp(log_coefficients + log_moment) * inside))
    return total / prior.mass_below(ceiling)
