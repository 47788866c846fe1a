"""Is the forecast's posterior calibrated? Its distribution function at the truth, over trials the model simulated.

Each synthetic trial draws its true ORR from the forecast's ORR prior (with ``--learn-pfs``, its
true PFS hazard ratio from its Gamma prior too, the pair restricted to those the model can carry,
by rejection), is simulated by the SimPy engine, cut at the as-of date as the database would hold
it (:func:`sim.forecast.synthetic.observed_frame`), and the forecast's posterior is computed from
that file. If the posterior is exact, its distribution function at the truth (the probability
integral transform, PIT) is uniform over trials. The script prints the PIT's mean with its z
against 1/2 (SE ``sqrt(1 / 12 / trials)``) and a Kolmogorov-Smirnov p-value, for the ORR (and the
PFS hazard ratio).

Each trial's likelihood uses its own seed (``--shared-seed`` gives every trial the forecast's fixed
one: the likelihood's errors are then the same in every trial, and the PITs are not independent).
Usage: ``python tools/forecast_pit.py [--set dotted.path=value ...] [--trials N] [--as-of DATE]
[--matches K] [--jobs J] [--learn-pfs] [--shared-seed]``. Not a test: it takes minutes per
hundred trials; docs/forecast.md gives what it printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from joblib import Parallel, delayed
from scipy import stats

from sim.engines.des import simulate_trial
from sim.forecast import parse_observed
from sim.forecast.orr_posterior import SEED, OrrPosterior, status_posterior
from sim.forecast.pfs_posterior import pfs_posterior, prior_shape
from sim.forecast.state import orr_prior, start_state
from sim.forecast.synthetic import observed_frame
from sim.model.trial_model import TrialModel, orr_ceiling
from sim.runs.runner import replicate_seeds
from sim.scenario import load_scenario

TRIAL_SEED = 91_000
"""Root seed of the synthetic trials (trial ``t`` is replicate ``t`` of it)."""


@dataclass(frozen=True)
class Pit:
    """One synthetic trial: its truths and the posterior's distribution function at them (PFS: NaN if not learned)."""

    orr: float
    orr_pit: float
    hazard_ratio: float
    hazard_pit: float
    patients: int


def _truth(model: TrialModel, rng: np.random.Generator, learn_pfs: bool) -> tuple[float, float]:
    """A true (ORR, PFS hazard ratio) from the forecast's priors, restricted to the pairs the model carries."""
    prior = orr_prior(model).law
    shape = prior_shape(model)
    while True:
        h = float(rng.gamma(shape, 1.0 / shape)) if learn_pfs else 1.0
        ceiling = orr_ceiling(model.scenario, h)
        p = float(prior.draw(rng.random(), 1.0))
        if p <= ceiling:
            return p, h


def one_trial(overrides: list[str], trial: int, as_of: dt.date, matches: int, learn_pfs: bool, shared: bool) -> Pit:
    """Simulate trial ``trial`` at its drawn truth, cut it at ``as_of``, and read the posterior at the truth."""
    model = TrialModel.from_scenario(load_scenario("base", overrides))
    p, h = _truth(model, np.random.default_rng([TRIAL_SEED, trial]), learn_pfs)
    truth = dataclasses.replace(model, patients=model.with_orr(p, h), orr_prior=None)
    history = simulate_trial(truth, replicate_seeds(TRIAL_SEED, trial, trial + 1)[0])
    observed = parse_observed(observed_frame(history, model, as_of), model.scenario, as_of, "synthetic")
    state = start_state(model, observed, as_of)
    seed = SEED if shared else SEED + 1 + trial
    prior = orr_prior(model).law
    if not learn_pfs:
        law = status_posterior(prior, model, state, target=matches, seed=seed)
        ceiling = state.orr_ceiling
        pit = float(law.cdf(p)) if isinstance(law, OrrPosterior) else float(prior.cdf(p) / prior.cdf(ceiling))
        return Pit(p, pit, h, math.nan, int(state.outcomes.conditioned.sum()))
    joint = pfs_posterior(model, state, target=matches, seed=seed)
    margin = joint.orr_law(prior)
    mass = joint.hazard_masses * (joint.table @ np.diff(prior.cdf(joint.orr_edges)))
    below = float(mass[joint.hazard_edges[1:] <= h].sum() / mass.sum())
    cell = min(max(int(np.searchsorted(joint.hazard_edges, h, side="right")) - 1, 0), mass.size - 1)
    low, high = stats.gamma.cdf(joint.hazard_edges[cell : cell + 2], joint.shape, scale=1.0 / joint.shape)
    within = (stats.gamma.cdf(h, joint.shape, scale=1.0 / joint.shape) - low) / (high - low)
    hazard_pit = below + float(mass[cell] / mass.sum()) * float(np.clip(within, 0.0, 1.0))
    return Pit(p, float(margin.cdf(p)), h, hazard_pit, int(state.outcomes.conditioned.sum()))


def _report(name: str, pits: np.ndarray) -> str:
    """The PIT's mean, its z against 1/2, and the KS p-value against the uniform law."""
    z = (pits.mean() - 0.5) / math.sqrt(1.0 / 12.0 / pits.size)
    return f"{name}: mean PIT {pits.mean():.3f} (z {z:+.2f}), KS p {stats.kstest(pits, 'uniform').pvalue:.3f}"


def main() -> None:
    """Parse the options, run the trials in parallel, print the PITs' summaries."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="dotted.path=value")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2027, 11, 30))
    parser.add_argument("--matches", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--learn-pfs", action="store_true")
    parser.add_argument("--shared-seed", action="store_true")
    args = parser.parse_args()
    pits = Parallel(n_jobs=args.jobs)(
        delayed(one_trial)(args.set, t, args.as_of, args.matches, args.learn_pfs, args.shared_seed)
        for t in range(args.trials)
    )
    patients = np.array([r.patients for r in pits])
    print(f"{args.trials} trials, {patients.mean():.1f} patients with a status each on average, as of {args.as_of}")
    print(_report("ORR", np.array([r.orr_pit for r in pits])))
    if args.learn_pfs:
        print(_report("PFS hazard ratio", np.array([r.hazard_pit for r in pits])))


if __name__ == "__main__":
    main()
