"""Re-forecasting a running trial from the patients observed so far (``trialsim forecast``).

:mod:`.observed` reads and checks the observed-patients file, :mod:`.posterior` updates the sites'
rates and the ORR, :mod:`.state` builds the state the engine starts from, :mod:`.result` runs the
forecast. docs/forecast.md sets out the model and why the conditioning is exact.
"""

from __future__ import annotations

from .observed import (
    ObservedError,
    ObservedPatient,
    ObservedTrial,
    ScreeningCounts,
    parse_observed,
    parse_screening,
    read_observed,
    read_screening,
)
from .result import Forecast, date_quantile, forecast, forecast_document, forecast_models
from .state import ForecastError, KnownRateWarning, start_state

__all__ = [
    "Forecast",
    "ForecastError",
    "KnownRateWarning",
    "ObservedError",
    "ObservedPatient",
    "ObservedTrial",
    "ScreeningCounts",
    "date_quantile",
    "forecast",
    "forecast_document",
    "forecast_models",
    "parse_observed",
    "parse_screening",
    "read_observed",
    "read_screening",
    "start_state",
]
