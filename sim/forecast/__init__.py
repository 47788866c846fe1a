"""Re-forecasting a running trial from the patients observed so far (``trialsim forecast``).

:mod:`.observed` reads and checks the observed-patients file and :mod:`.screening` the screening
log, :mod:`.posterior` updates the sites' rates, :mod:`.orr_posterior` the ORR given every
patient's status, :mod:`.state` builds the state the engine starts from, :mod:`.result` runs the
forecast. docs/forecast.md sets out the model and why the conditioning is exact.
"""

from __future__ import annotations

from .observed import ObservedError, ObservedPatient, ObservedTrial, parse_observed, read_observed
from .result import Forecast, conditional_model, date_quantile, forecast, forecast_document, forecast_models
from .screening import ScreeningCounts, parse_screening, read_screening
from .state import ForecastError, KnownRateWarning, start_state

__all__ = [
    "Forecast",
    "ForecastError",
    "KnownRateWarning",
    "ObservedError",
    "ObservedPatient",
    "ObservedTrial",
    "ScreeningCounts",
    "conditional_model",
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
