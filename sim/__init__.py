"""trialsim: discrete-event feasibility simulation of single-arm oncology trials.

The pipeline is scenario -> simulate -> cut at data cutoff -> analyse -> summarise:
``sim.load_scenario`` reads and validates a scenario, ``sim.run`` simulates and analyses many
replicates and returns their operating characteristics with Monte Carlo standard errors.
"""

__version__ = "0.1.0"  # before the imports: modules below record it in their outputs

from .runner import RunResult, run  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "run"]
