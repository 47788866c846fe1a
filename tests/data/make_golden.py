"""Regenerate the golden tables of tests/test_regression.py: ``python tests/data/make_golden.py``.

Run it only when a change is *meant* to alter seeded output (a model fix), and say so in the
commit; a refactor must leave these files untouched.
"""

from __future__ import annotations

from pathlib import Path

import sim
from sim.scenario import load_scenario

FOLDER = Path(__file__).resolve().parent / "golden"
REPLICATES, SEED, CHUNK = 16, 7, 5

MONITORED = {
    "simon": [
        "trial.sample_size=29",
        "monitoring.rule='simon'",
        "monitoring.stage1_patients=10",
        "monitoring.stage1_max_responders=1",
        "monitoring.final_max_responders=5",
        "monitoring.pause_enrollment=true",
    ],
    "bayesian": [
        "monitoring.rule='bayesian'",
        "monitoring.looks=[10, 20]",
        "monitoring.futility_predictive=0.05",
        "monitoring.success_posterior=0.9",
    ],
    "replace_evaluable": ["trial.replace_non_evaluable=true", "analysis.population='evaluable'"],
    "deviations_fda": [
        "schedule.missed_scan_probability=0.1",
        "efficacy.unconfirmed_response_share=0.2",
        "safety.new_therapy_probability=0.6",
        "analysis.pfs_censoring='fda'",
    ],
}
CASES: dict[str, tuple[str, list[str]]] = {
    **{name: (name, []) for name in ("base", "optimistic", "pessimistic", "slow_recruitment")},
    **{name: ("base", overrides) for name, overrides in MONITORED.items()},
}


def simulate(case: str) -> sim.RunResult:
    """The run a golden case pins."""
    name, overrides = CASES[case]
    return sim.run(
        load_scenario(name, overrides), replicates=REPLICATES, seed=SEED, chunk_size=CHUNK, keep_patients=True, progress=False
    )


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for case in CASES:
        result = simulate(case)
        for table in ("replicates", "looks", "patients"):
            getattr(result, table).to_parquet(FOLDER / f"{case}.{table}.parquet", index=False)
        print(case, len(result.replicates), len(result.patients))


if __name__ == "__main__":
    main()
