"""A calibration as the JSON document ``trialsim calibrate --json`` prints: the fit, target by target."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .fit import CalibrationResult

__all__ = ["calibration_document"]


def _json_safe(value: float) -> float | None:
    """A number for JSON: NaN and infinities become null."""
    return value if math.isfinite(value) else None


def calibration_document(result: CalibrationResult, command: str, block: str, out: Path | None) -> dict[str, Any]:
    """What ``--json`` prints: the fit, target by target, and the block it wrote."""
    return {
        "command": command,
        "family": result.family,
        "scan_interval_days": result.scan_interval_days,
        "scan_window_days": result.scan_window_days,
        "confirmed": result.targets.confirmed,
        "source_n": result.targets.source_n,
        "not_assessed": result.targets.not_assessed,
        "unscheduled_progression": result.targets.unscheduled_progression,
        "cohort_size": result.cohort_size,
        "seed": result.seed,
        "targets": [
            {
                "name": f.name,
                "target": f.target,
                "achieved": _json_safe(f.achieved),
                "mcse": _json_safe(f.mcse),
                "miss": _json_safe(f.miss),
                "statistic": f.statistic,
            }
            for f in result.fits
        ],
        "implied": [
            {"name": i.name, "value": _json_safe(i.value), "mcse": _json_safe(i.mcse), "statistic": i.statistic}
            for i in result.implied
        ],
        "parameters": result.parameters(),
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "out": str(out) if out is not None else None,
        "toml": block,
    }
