"""The latent patient model keeps the scenario's PFS marginal, ORR and OS median exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.recist import earliest_sure_confirmation_day
from sim.trial_model import TrialModel
from sim.units import DAYS_PER_MONTH

N = 60_000


def _draw(scenario, seed: int = 1):
    model = TrialModel.from_scenario(scenario).patients
    return model, model.draw(np.random.default_rng(seed), N)


def _within_4_se(observed: float, p: float, n: int = N) -> bool:
    return abs(observed - p) <= 4 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("association", [0.0, 0.5, 1.0])
def test_pfs_marginal_and_orr_hold(scenario_with, association: float) -> None:
    scenario = scenario_with(f"efficacy.response_pfs_association={association}")
    model, latent = _draw(scenario)
    pfs = scenario.efficacy.pfs
    assert _within_4_se(latent.responder.mean(), scenario.efficacy.orr)
    months = latent.pfs_event_day / DAYS_PER_MONTH
    for t in (1.0, 2.0, 4.0, 8.0, 16.0):
        assert _within_4_se(np.mean(months <= t), float(pfs.cdf(t)))


def test_responders_outlast_their_confirmation(base) -> None:
    model, latent = _draw(base)
    confirm = earliest_sure_confirmation_day(base.schedule)
    assert confirm == 91.0
    assert (latent.pfs_event_day[latent.responder] > confirm).all()
    onset = latent.response_onset_day[latent.responder]
    assert (onset > 0).all() and (onset < latent.pfs_event_day[latent.responder]).all()


def test_association_orders_responder_pfs(scenario_with) -> None:
    medians = []
    for a in (0.0, 1.0):
        _, latent = _draw(scenario_with(f"efficacy.response_pfs_association={a}"))
        medians.append(np.median(latent.pfs_event_day[latent.responder]))
    assert medians[1] > medians[0] * 1.3


def test_os_median_is_solved_exactly(base) -> None:
    model, latent = _draw(base)
    os_months = latent.death_day / DAYS_PER_MONTH
    assert _within_4_se(np.mean(os_months <= base.efficacy.os_median_months), 0.5)
    assert (latent.death_day >= latent.pfs_event_day).all()
    assert _within_4_se(latent.death_first.mean(), base.efficacy.death_without_progression_share)


def test_ae_rates_follow_the_cycle_probabilities(base) -> None:
    model, latent = _draw(base)
    probs = base.safety.ae_probability_by_cycle
    for cycle in range(5):
        p = probs[min(cycle, len(probs) - 1)]
        assert _within_4_se(latent.ae_occurs[:, cycle].mean(), p)
    ae = latent.ae_occurs[:, 0]
    assert _within_4_se(latent.ae_discontinues[ae, 0].mean(), base.safety.ae_discontinuation_share, int(ae.sum()))
