"""Calibration of the efficacy model to published summary statistics, and the benchmark library.

``calibrate(CalibrationTargets(...))`` fits a scenario's ``[efficacy]`` block so that the
simulator, observing patients on the source study's scan grid, reproduces the published ORR, DCR,
median PFS and OS and landmark rates; ``load_benchmarks()`` reads the published figures.
See docs/calibration.md.
"""

from .benchmarks import (
    COLUMNS,
    RESPONSE_CRITERIA,
    Benchmark,
    BenchmarkError,
    benchmarks_path,
    get_benchmark,
    load_benchmarks,
    select_benchmarks,
)
from .cohort import DEFAULT_COHORT_SIZE, DEFAULT_SEED, CohortStatistics, observe_cohort, source_scenario
from .criteria import TargetFit
from .efficacy_toml import efficacy_toml
from .errors import CalibrationError
from .fit import DEFAULT_TOLERANCE, CalibrationResult, calibrate
from .medians import expected_km_median, interpolated_median, interpolated_survival
from .parameters import FITTABLE_FAMILIES, SHAPE_BOUNDS
from .targets import CalibrationTargets, Landmark

__all__ = [
    "COLUMNS",
    "DEFAULT_COHORT_SIZE",
    "DEFAULT_SEED",
    "DEFAULT_TOLERANCE",
    "FITTABLE_FAMILIES",
    "RESPONSE_CRITERIA",
    "SHAPE_BOUNDS",
    "Benchmark",
    "BenchmarkError",
    "CalibrationError",
    "CalibrationResult",
    "CalibrationTargets",
    "CohortStatistics",
    "Landmark",
    "TargetFit",
    "benchmarks_path",
    "calibrate",
    "efficacy_toml",
    "expected_km_median",
    "get_benchmark",
    "interpolated_median",
    "interpolated_survival",
    "load_benchmarks",
    "observe_cohort",
    "select_benchmarks",
    "source_scenario",
]
