"""The statistics package: exact inference for one trial's data and for the simulation itself.

``proportions`` (response-rate test and intervals), ``survival`` (Kaplan-Meier as R computes it),
``designs`` (exact single-stage, Simon two-stage and Bayesian rules) and ``mcse`` (Monte Carlo
standard errors of the figures a run prints). Nothing here knows about trials or scenarios.
"""

from .designs import (
    SimonDesign,
    SimonSearch,
    SingleStageDesign,
    min_detectable_orr,
    posterior_prob_above,
    predictive_probability,
    simon_characteristics,
    simon_designs,
    single_stage,
    smallest_single_stage,
)
from .mcse import Estimate, mean_estimate, proportion_estimate, quantile_estimate, quantile_mcse
from .proportions import (
    CI_METHODS,
    ProportionResult,
    ResponseRateTest,
    analyse_proportion,
    critical_responders,
    one_sided_p_value,
    proportion_ci,
)
from .survival import (
    CONF_TYPES,
    KaplanMeier,
    SurvivalEstimate,
    kaplan_meier,
    km_median,
    median_follow_up,
)

__all__ = [
    "CI_METHODS",
    "CONF_TYPES",
    "Estimate",
    "KaplanMeier",
    "ProportionResult",
    "ResponseRateTest",
    "SimonDesign",
    "SimonSearch",
    "SingleStageDesign",
    "SurvivalEstimate",
    "analyse_proportion",
    "critical_responders",
    "kaplan_meier",
    "km_median",
    "mean_estimate",
    "median_follow_up",
    "min_detectable_orr",
    "one_sided_p_value",
    "posterior_prob_above",
    "predictive_probability",
    "proportion_ci",
    "proportion_estimate",
    "quantile_estimate",
    "quantile_mcse",
    "simon_characteristics",
    "simon_designs",
    "single_stage",
    "smallest_single_stage",
]
