"""Golden pins of seeded output: every shipped scenario and each monitoring rule, table for table.

A refactor must leave these equal. A change meant to alter the model regenerates them with
``python tests/data/make_golden.py`` and says why in its commit.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.data.make_golden import CASES, FOLDER, simulate


@pytest.mark.parametrize("case", sorted(CASES))
def test_seeded_output_is_unchanged(case: str) -> None:
    result = simulate(case)
    for table in ("replicates", "looks", "patients"):
        golden = pd.read_parquet(FOLDER / f"{case}.{table}.parquet")
        pd.testing.assert_frame_equal(getattr(result, table), golden, check_exact=True)
