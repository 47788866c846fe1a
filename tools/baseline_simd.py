"""Print the numpy CPU features to disable so that numpy runs its baseline kernels only.

numpy picks SIMD kernels for transcendental functions by CPU, so seeded floats differ in their last
bits between machines. ``.ci/run`` runs the tests that compare against stored output once with
``NPY_DISABLE_CPU_FEATURES="$(python tools/baseline_simd.py)"``, so the suite is exercised on the
baseline code path as well as this machine's own, whatever CPU CI happens to have.
"""

from __future__ import annotations

try:
    from numpy._core import _multiarray_umath as umath
except ImportError:  # numpy 1.x
    from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]


def dispatched_features() -> list[str]:
    """The features numpy dispatches to on this CPU beyond its compiled baseline."""
    found = umath.__cpu_features__
    return [name for name in umath.__cpu_dispatch__ if found.get(name)]


if __name__ == "__main__":
    print(" ".join(dispatched_features()))
