"""Calibration of the efficacy model to published summary statistics, and the benchmark library.

``calibrate(CalibrationTargets(...))`` fits a scenario's ``[efficacy]`` block so that the
simulator, observing patients on the source study's scan grid, reproduces the published ORR, DCR,
median PFS and OS and landmark rates, each achieved value with its Monte Carlo standard error and
warnings where the fit is fragile; ``load_benchmarks()`` reads the published figures.
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
from .curves import read_km_curve
from .efficacy_toml import efficacy_toml, scenario_with_efficacy
from .errors import CalibrationError
from .fit import DEFAULT_TOLERANCE, CalibrationResult, calibrate
from .medians import (
    expected_km_median,
    expected_km_median_se,
    interpolated_median,
    interpolated_median_se,
    interpolated_survival,
    km_median_cdf,
)
from .parameters import FITTABLE_FAMILIES, NEAR_BOUND_FACTOR, RELATIVE_HAZARD_BOUNDS, SHAPE_BOUNDS
from .robustness import IMPLIED_LANDMARKS, PLATEAU_HAZARD_RATIO, ImpliedValue
from .targets import CalibrationTargets, Landmark

__all__ = [
    "COLUMNS",
    "DEFAULT_COHORT_SIZE",
    "DEFAULT_SEED",
    "DEFAULT_TOLERANCE",
    "FITTABLE_FAMILIES",
    "IMPLIED_LANDMARKS",
    "NEAR_BOUND_FACTOR",
    "PLATEAU_HAZARD_RATIO",
    "RELATIVE_HAZARD_BOUNDS",
    "RESPONSE_CRITERIA",
    "SHAPE_BOUNDS",
    "Benchmark",
    "BenchmarkError",
    "CalibrationError",
    "CalibrationResult",
    "CalibrationTargets",
    "CohortStatistics",
    "ImpliedValue",
    "Landmark",
    "TargetFit",
    "benchmarks_path",
    "calibrate",
    "efficacy_toml",
    "scenario_with_efficacy",
    "expected_km_median",
    "expected_km_median_se",
    "get_benchmark",
    "interpolated_median",
    "interpolated_median_se",
    "interpolated_survival",
    "km_median_cdf",
    "load_benchmarks",
    "observe_cohort",
    "read_km_curve",
    "select_benchmarks",
    "source_scenario",
]
