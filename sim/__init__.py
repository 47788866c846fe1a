"""trialsim: discrete-event feasibility simulation of single-arm oncology trials.

The pipeline is scenario -> simulate -> cut at data cutoff -> analyse -> summarise:
``sim.load_scenario`` reads and validates a scenario, ``sim.run`` simulates and analyses many
replicates and returns their operating characteristics with Monte Carlo standard errors;
``sim.size`` searches the designs that would meet a trial's targets (:mod:`sim.sizing`).
"""

from .runner import RunResult, run
from .scenario import Scenario, ScenarioError, load_scenario
from .sizing import Levers, SizeResult, Targets, size
from .version import __version__

__all__ = [
    "Levers",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SizeResult",
    "Targets",
    "__version__",
    "load_scenario",
    "run",
    "size",
]
