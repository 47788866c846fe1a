"""The error a calibration raises when its targets cannot be met; the message says what to try."""

from __future__ import annotations

__all__ = ["CalibrationError"]


class CalibrationError(ValueError):
    """Targets that are invalid, inconsistent with each other or with the model, or a fit that failed.

    A ValueError, so the command line reports it as a one-line usage error (exit status 2).
    """
