"""Golden pins of seeded output: every shipped scenario and each monitoring rule, table for table.

A refactor must leave these equal. A change meant to alter the model regenerates them with
``python tests/data/make_golden.py`` and says why in its commit. The pins hold on any machine:
counts, dates, decisions and labels exactly, floats to :data:`tests.helpers.CROSS_MACHINE_RTOL`
(numpy's SIMD kernels, chosen by CPU, round transcendental functions differently in the last bits).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.data.make_golden import CASES, FOLDER, simulate
from tests.helpers import assert_same_seeded_output

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("case", sorted(CASES))
def test_seeded_output_is_unchanged(case: str) -> None:
    result = simulate(case)
    for table in ("replicates", "looks", "patients"):
        golden = pd.read_parquet(FOLDER / f"{case}.{table}.parquet")
        assert_same_seeded_output(getattr(result, table), golden)


def _golden_patients() -> pd.DataFrame:
    return pd.read_parquet(FOLDER / "base.patients.parquet")


def test_the_pin_allows_last_bit_rounding_of_floats() -> None:
    golden = _golden_patients()
    rounded = golden.assign(pfs_months=golden["pfs_months"] * (1 + 1e-14))
    assert_same_seeded_output(rounded, golden)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda t: t.assign(pfs_months=t["pfs_months"] * (1 + 1e-10)), id="float beyond rounding"),
        pytest.param(lambda t: t.assign(replicate=t["replicate"] + (t.index == 3)), id="integer"),
        pytest.param(lambda t: t.assign(enrollment_date=t["enrollment_date"].mask(t.index == 3, t["enrollment_date"] + pd.Timedelta(days=1))), id="date"),
        pytest.param(lambda t: t.assign(pfs_months=t["pfs_months"].astype("float32")), id="dtype"),
    ],
)
def test_the_pin_catches_any_real_change(change) -> None:
    golden = _golden_patients()
    with pytest.raises(AssertionError):
        assert_same_seeded_output(change(golden), golden)


def test_numpy_baseline_kernels_give_the_same_seeded_output(tmp_path) -> None:
    """The cross-machine promise, tested on this machine: numpy's baseline kernels stand in for a CPU
    without this one's SIMD extensions (on a CPU with none beyond the baseline both runs are alike)."""
    script = (
        "import sys; from tests.data.make_golden import CASES, simulate\n"
        "for case in CASES:\n"
        "    for table in ('replicates', 'looks', 'patients'):\n"
        "        getattr(simulate(case), table).to_parquet(f'{sys.argv[1]}/{case}.{table}.parquet')\n"
    )
    disable = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "baseline_simd.py")], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": disable, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, cwd=ROOT, check=True)
    for case in CASES:
        result = simulate(case)
        for table in ("replicates", "looks", "patients"):
            assert_same_seeded_output(pd.read_parquet(tmp_path / f"{case}.{table}.parquet"), getattr(result, table))
