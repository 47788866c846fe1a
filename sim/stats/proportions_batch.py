"""The exact response-rate test of many replicates in one call, equal to :class:`~.proportions.ResponseRateTest`.

A chunk of replicates has a few dozen distinct analysed counts ``n``; tabulating each one
separately costs a scipy call per ``n`` per chunk, more than the rest of a replicate's analysis.
A run's driver tabulates its test once for every count a replicate can analyse
(:meth:`~.proportions.ResponseRateTest.tabulate_through`), and a chunk reads its values from
those tables, one ``n`` at a time. A count without a table is computed here: for the exact test,
the p-value ``binom.sf(k - 1, n, p0)`` and the Clopper-Pearson limits (beta quantiles) of every
distinct (k, n) pair at once, the same elementwise scipy kernels with the same arguments, so every
value equals the tabulated one bit for bit (``tests/test_batch_analysis.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .proportions import ResponseRateTest, _clopper_pearson, _greater_p_values

__all__ = ["response_tests"]


def response_tests(
    test: ResponseRateTest, k: NDArray[np.int64], n: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """(one-sided p-value, CI low, CI high) of ``k`` responders among ``n`` for each pair; NaN where n = 0.

    Counts ``n`` the test has tables for are read from them; the exact test computes the others'
    distinct pairs at once, any other method tabulates them.
    """
    p_value, low, high = (np.full(k.shape, np.nan) for _ in range(3))
    some = n > 0
    pairs = some & ~test.tabulated(n) if test.method == "exact" else np.zeros_like(some)
    if pairs.any():
        # Each distinct (k, n) once: a chunk repeats a few dozen pairs hundreds of times.
        unique, inverse = np.unique(np.stack([k[pairs], n[pairs]]), axis=1, return_inverse=True)
        kk, nn = unique
        inverse = inverse.ravel()  # numpy 2.0.0 shapes it by the stacked input
        p_value[pairs] = _greater_p_values(kk, nn, test.p0)[inverse]
        pair_low, pair_high = _clopper_pearson(kk, nn, test.conf_level)
        low[pairs], high[pairs] = pair_low[inverse], pair_high[inverse]
    for size in np.unique(n[some & ~pairs]).tolist():
        rows = n == size
        for column, table in zip((p_value, low, high), test.table(size)):
            column[rows] = table[k[rows]]
    return p_value, low, high
