"""Reports: the result objects of runs, grids, designs and calibrations rendered for people to read.

Rendering only: every function takes a finished result (``OperatingCharacteristics``, a grid
result, a design summary, benchmark rows, a ``CalibrationResult``) and never simulates.
"""

from .text import benchmark_text, calibration_text, design_text, oc_text, summary_text, sweep_text

__all__ = ["benchmark_text", "calibration_text", "design_text", "oc_text", "summary_text", "sweep_text"]
