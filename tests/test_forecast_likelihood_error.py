"""The ORR likelihood's own Monte Carlo error: enough matches at every ORR, no holes, independent patients, reported."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.forecast.orr_posterior import OrrPosterior
from sim.model.conditioning import ConditioningError
from sim.model.recist import Response
from sim.model.status_likelihood import status_probabilities
from sim.model.trial_model import TrialModel
from sim.model.trial_state import KnownOutcomes
from sim.runs.dispatch import Dispatch
from sim.scenario import load_scenario
from sim.stats.beta_mixture import BetaMixture

PLAIN = (
    "safety.ae_probability_by_cycle=[0.0]",
    "safety.withdrawal_per_month=0.0",
    "safety.loss_to_follow_up_per_month=0.0",
    "schedule.scan_window_days=0",
)
DOSE = 100.0


def _model() -> TrialModel:
    return TrialModel.from_scenario(load_scenario("base", list(PLAIN)))


def _patients(n: int, best: Response, confirmed: bool) -> KnownOutcomes:
    """``n`` patients with the same status: best reading ``best``, no progression, on treatment."""
    return KnownOutcomes(
        np.full(n, best, np.int8),
        np.full(n, confirmed),
        np.zeros(n, bool),
        np.zeros(n, bool),
        np.full(n, -1, np.int8),
    )


def test_a_status_no_draw_matches_between_two_orrs_is_refused_naming_the_patient() -> None:
    """A confirmed responder is impossible at ORR 0: a zero node between two others is a hole, not a limit."""
    model = _model()
    models = [model.with_orr(p) for p in (0.2, 0.0, 0.3)]
    wanted = _patients(1, Response.PR, True)
    as_of = DOSE + 6 * 42 + 1.0
    with pytest.raises(ConditioningError, match=r"patient R7: .* in 4,000 .* at an ORR of 0\.000"):
        status_probabilities(models, wanted, np.array([DOSE]), as_of, 1, cap=4000, patient_id=("R7",))
    with pytest.raises(ConditioningError, match=r"patient R7: .* at any ORR"):
        status_probabilities(models[1:2], wanted, np.array([DOSE]), as_of, 1, cap=4000, patient_id=("R7",))
    # at the end of the grid, a zero is the model's own limit and is kept
    ends = status_probabilities(models[1:], wanted, np.array([DOSE]), as_of, 1, cap=4000).estimate()[0]
    assert ends[0] == 0.0 < ends[1]


def test_a_rare_status_draws_until_every_orr_has_400_matches() -> None:
    """Draws adapt: a confirmed responder is rare at a small ORR, so it takes more than the 20,000 of old."""
    model = _model()
    models = [model.with_orr(p) for p in (0.0, 0.02, 0.03)]
    found = status_probabilities(models, _patients(1, Response.PR, True), np.array([DOSE]), DOSE + 6 * 42 + 1.0, 2)
    matches, draws = found.matches.sum(axis=0)[0], found.draws.sum(axis=0)[0]
    assert matches[0] == 0 and (matches[1:] >= 400).all()
    assert 20_000 < draws <= 200_000


def test_each_patient_has_independent_draws_and_the_estimate_is_deterministic() -> None:
    """Two patients with one status get independent estimates (their errors do not add up), the same for a seed
    however many processes share them."""
    model = _model()
    models = [model.with_orr(p) for p in (0.1, 0.3)]
    wanted = _patients(2, Response.SD, False)
    args = (models, wanted, np.full(2, DOSE), DOSE + 4 * 42 + 1.0)
    with Dispatch(2, "loky") as workers:  # two loky processes, as a forecast's likelihood with --jobs 2
        one, again = status_probabilities(*args, 5), status_probabilities(*args, 5, spread=workers.map)
    assert np.array_equal(one.matches, again.matches) and np.array_equal(one.draws, again.draws)
    assert not np.array_equal(one.matches[:, 0], one.matches[:, 1])
    assert not np.array_equal(one.matches[0], one.matches[1])  # the halves too
    p, n = one.estimate(), one.draws.sum(axis=0)[:, None]
    se = np.sqrt(p * (1 - p) * (1 / n[0] + 1 / n[1]))
    assert np.all(np.abs(p[0] - p[1]) <= 4 * se)  # the same probability, independently estimated


def test_the_likelihood_error_tracks_the_posterior_mean_over_seeds() -> None:
    """Half the gap between the halves' posteriors is 0.8 of the pooled posterior mean's SE, on average.

    Six seeds of four stable patients, ORRs up to 0.3: the spread of the posterior mean over seeds and the mean
    reported error agree within a factor 4 (4 SE of the ratio on the log scale, about 0.35 each).
    """
    model = _model()
    nodes = np.linspace(0.0, 0.3, 5)
    models = [model.with_orr(float(p)) for p in nodes]
    wanted = _patients(4, Response.SD, False)
    prior = BetaMixture.beta(1.5, 8.5)
    means, errors = [], []
    for seed in range(6):
        found = status_probabilities(models, wanted, np.full(4, DOSE), DOSE + 5 * 42 + 1.0, seed, target=200)
        halves = np.stack([found.estimate(0), found.estimate(1)])
        law = OrrPosterior(prior, 0.3, nodes, found.estimate(), halves)
        means.append(law.mean())
        error = law.likelihood_error()
        assert error is not None and set(error) == {"mean", "q05", "q95"}
        errors.append(error["mean"])
    spread = float(np.std(means, ddof=1))
    ratio = float(np.mean(errors)) / (math.sqrt(2 / math.pi) * spread)
    assert 0.25 < ratio < 4.0
    assert spread < 0.01  # the posterior mean's own error is small
