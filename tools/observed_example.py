"""Write the made-up observed-patients file shipped as ``scenarios/observed_made_up.csv``.

It is a trial simulated from the base scenario (replicate 0 of seed 7) cut at 2026-11-15, with
made-up identifiers; living patients were last seen two days before the as-of date. Usage:
``python tools/observed_example.py [OUT.csv]``.
"""

from __future__ import annotations

import datetime as dt
import sys

from sim.engines.des import simulate_trial
from sim.forecast.synthetic import observed_frame
from sim.model.trial_model import TrialModel
from sim.runs.runner import replicate_seeds
from sim.scenario import load_scenario


def main() -> None:
    """Simulate, cut and write the example file."""
    out = sys.argv[1] if len(sys.argv) > 1 else "scenarios/observed_made_up.csv"
    model = TrialModel.from_scenario(load_scenario("base"))
    history = simulate_trial(model, replicate_seeds(7, 0, 1)[0])
    frame = observed_frame(history, model, dt.date(2026, 11, 15))
    frame["patient_id"] = [f"MADE-UP-{i + 1:02d}" for i in range(len(frame))]
    alive = (frame["death_date"] == "") & (frame["first_dose_date"] != "")
    frame.loc[alive, "last_known_alive_date"] = "2026-11-13"
    frame.to_csv(out, index=False)


if __name__ == "__main__":
    main()
