"""The exact response-rate test of many replicates in one call, equal to :class:`~.proportions.ResponseRateTest`.

A chunk of replicates has a few dozen distinct analysed counts ``n``; tabulating each one
separately costs a scipy call per ``n`` per chunk, more than the rest of a replicate's analysis.
Here the p-value ``binom.sf(k - 1, n, p0)`` and the Clopper-Pearson limits (beta quantiles) are
evaluated for every (k, n) pair at once: the same elementwise scipy kernels with the same
arguments, so every value equals the tabulated one bit for bit (``tests/test_batch_analysis.py``).
Other interval methods are read from the test's tables, one ``n`` at a time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from .proportions import ResponseRateTest, _clopper_pearson

__all__ = ["response_tests"]


def response_tests(
    test: ResponseRateTest, k: NDArray[np.int64], n: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(one-sided p-value, CI low, CI high) of ``k`` responders among ``n`` for each pair; NaN where n = 0."""
    p_value, low, high = (np.full(k.shape, np.nan) for _ in range(3))
    some = n > 0
    if not some.any():
        return p_value, low, high
    if test.method == "exact":
        # Each distinct (k, n) once: a chunk repeats a few dozen pairs hundreds of times.
        pairs, inverse = np.unique(np.stack([k[some], n[some]]), axis=1, return_inverse=True)
        kk, nn = pairs
        inverse = inverse.ravel()  # numpy 2.0.0 shapes it by the stacked input
        p_value[some] = np.minimum(stats.binom.sf(kk - 1, nn, test.p0), 1.0)[inverse]
        pair_low, pair_high = _clopper_pearson(kk, nn, test.conf_level)
        low[some], high[some] = pair_low[inverse], pair_high[inverse]
        return p_value, low, high
    for size in np.unique(n[some]).tolist():
        rows = n == size
        for column, table in zip((p_value, low, high), test.table(size)):
            column[rows] = table[k[rows]]
    return p_value, low, high
