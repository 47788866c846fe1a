"""Exact statistics for one trial's data: response-rate inference and Kaplan-Meier survival."""

from .proportions import (
    CI_METHODS,
    ProportionResult,
    analyse_proportion,
    critical_responders,
    incidence_table,
    one_sided_p_value,
    proportion_ci,
)
from .survival import (
    CONF_TYPES,
    KaplanMeier,
    SurvivalEstimate,
    duration_of_response,
    kaplan_meier,
    km_median,
    median_follow_up,
)

__all__ = [
    "CI_METHODS",
    "ProportionResult",
    "analyse_proportion",
    "critical_responders",
    "incidence_table",
    "one_sided_p_value",
    "proportion_ci",
    "CONF_TYPES",
    "KaplanMeier",
    "SurvivalEstimate",
    "duration_of_response",
    "kaplan_meier",
    "km_median",
    "median_follow_up",
]
