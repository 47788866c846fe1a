"""The ORR-PFS link (``efficacy.pfs_orr_link``): proportional hazards in the true ORR, off by default.

Checked against closed forms (a Weibull under proportional hazards is a Weibull with its scale
moved by ``hr ** (-1 / shape)``), against the same model written out by hand, and across engines.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import sim
from sim.distributions import Exponential, LogLogistic, LogNormal, PiecewiseExponential, SurvivalDistribution, Weibull
from sim.model.patient_model import PatientModel
from sim.model.pfs_link import ProportionalHazards, linked_ceiling, pfs_at
from sim.model.recist import earliest_sure_confirmation_day
from sim.model.trial_model import TrialModel
from sim.scenario import ScenarioError, load_scenario
from sim.units import DAYS_PER_MONTH

LINK = {"hazard_ratio": 0.8, "reference_orr": 0.15}


def _linked(orr: float, **link: float) -> sim.Scenario:
    return sim.vary(load_scenario("base"), {"efficacy.orr": orr, "efficacy.pfs_orr_link": {**LINK, **link}})


@pytest.mark.parametrize("hr", [0.5, 0.8, 1.7])
def test_a_weibull_under_proportional_hazards_is_the_weibull_with_its_scale_moved(hr: float) -> None:
    base = Weibull(3.2, 0.57)
    moved = ProportionalHazards(base, hr)
    exact = Weibull(3.2 * hr ** (-1 / 0.57), 0.57)
    p = np.array([1e-12, 0.01, 0.3, 0.5, 0.9, 1 - 1e-9])
    t = np.array([0.1, 1.0, 4.0, 20.0])
    np.testing.assert_allclose(moved.quantile(p), exact.quantile(p), rtol=1e-10)
    np.testing.assert_allclose(moved.sf(t), base.sf(t) ** hr, rtol=1e-12)
    np.testing.assert_allclose(moved.sf(t), exact.sf(t), rtol=1e-10)
    assert moved.median == pytest.approx(exact.median, rel=1e-10)
    assert moved.mean() == pytest.approx(exact.mean(), rel=1e-7)
    assert ProportionalHazards(Exponential(4.0), hr).median == pytest.approx(4.0 / hr, rel=1e-12)


def test_without_a_link_or_at_its_reference_the_pfs_is_the_scenarios_own() -> None:
    base = load_scenario("base")
    assert base.efficacy.pfs_orr_link is None
    assert TrialModel.from_scenario(base).patients.efficacy is base.efficacy  # nothing rebuilt: bit for bit
    at_reference = _linked(0.15)
    assert pfs_at(at_reference.efficacy, 0.15) is at_reference.efficacy.pfs
    assert TrialModel.from_scenario(at_reference).patients.efficacy.pfs is at_reference.efficacy.pfs


@pytest.mark.parametrize("orr", [0.05, 0.30])
def test_a_linked_model_draws_what_the_moved_pfs_written_out_draws(orr: float) -> None:
    """The same patients, draw for draw, as a model given the moved Weibull and the reference's PPS by hand."""
    linked = TrialModel.from_scenario(_linked(orr))
    e = linked.scenario.efficacy
    hr = 0.8 ** ((orr - 0.15) / 0.1)
    by_hand = dataclasses.replace(
        e,
        pfs=Weibull(e.pfs.median_months * hr ** (-1 / e.pfs.shape), e.pfs.shape),  # type: ignore[attr-defined]
        post_progression_survival=linked.patients.post_progression_survival,
        pfs_orr_link=None,
    )
    horizon = linked.horizon_day
    model = PatientModel.from_scenario(by_hand, linked.scenario.safety, linked.scenario.schedule, horizon)
    a = linked.patients.draw(np.random.default_rng(7), 400)
    b = model.draw(np.random.default_rng(7), 400)
    for f in dataclasses.fields(a):
        np.testing.assert_allclose(getattr(a, f.name), getattr(b, f.name), rtol=1e-9, err_msg=f.name)


def test_the_post_progression_survival_stays_as_solved_at_the_reference() -> None:
    pps = {orr: TrialModel.from_scenario(_linked(orr)).patients.post_progression_survival for orr in (0.05, 0.15, 0.3)}
    assert pps[0.05] == pps[0.15] == pps[0.3]
    assert pps[0.15] == TrialModel.from_scenario(load_scenario("base")).patients.post_progression_survival


def test_a_prior_draw_moves_the_pfs_with_the_replicates_own_orr() -> None:
    model = TrialModel.from_scenario(
        sim.vary(_linked(0.15), {"efficacy.orr_prior": {"beta": [3, 12]}})
    )
    for orr in (0.05, 0.25):
        assert model.with_orr(orr).efficacy.pfs.median == pytest.approx(pfs_at(model.scenario.efficacy, orr).median)
        assert model.with_orr(orr).efficacy.orr == orr


def test_the_orr_ceiling_is_where_the_orr_meets_the_pfs_it_moves() -> None:
    scenario = _linked(0.15)
    confirm = earliest_sure_confirmation_day(scenario.schedule) / DAYS_PER_MONTH
    c = linked_ceiling(scenario.efficacy, confirm)
    assert float(pfs_at(scenario.efficacy, c).sf(confirm)) == pytest.approx(c, abs=1e-12)
    assert TrialModel.from_scenario(scenario).orr_ceiling == pytest.approx(c * (1 - 1e-9), rel=1e-15)
    unlinked = load_scenario("base").efficacy
    assert linked_ceiling(unlinked, confirm) == float(unlinked.pfs.sf(confirm))


def test_a_link_outside_its_range_is_refused_naming_the_field() -> None:
    with pytest.raises(ScenarioError, match=r"efficacy\.pfs_orr_link\.hazard_ratio must be a number in \[0\.1, 10\]"):
        _linked(0.2, hazard_ratio=0.0)
    with pytest.raises(ScenarioError, match=r"efficacy\.pfs_orr_link\.reference_orr is required"):
        sim.vary(load_scenario("base"), {"efficacy.pfs_orr_link": {"hazard_ratio": 0.8}})


def test_the_engines_agree_on_a_linked_scenario_within_4_combined_mcse() -> None:
    """At ORR 0.30 with the link the PFS is longer; des and vector see the same trial within their MCSE."""
    scenario = _linked(0.30)
    des = sim.run(scenario, replicates=400, seed=3, engine="des", progress=False).summary
    vector = sim.run(scenario, replicates=2000, seed=4, engine="vector", progress=False).summary
    unlinked = sim.run(sim.vary(load_scenario("base"), {"efficacy.orr": 0.30}), replicates=2000, seed=4,
                       engine="vector", progress=False).summary
    for name in ("power", "median_pfs", "orr_mean", "n_analysed"):
        a, b = getattr(des, name), getattr(vector, name)
        assert abs(a.value - b.value) <= 4 * math.hypot(a.mcse, b.mcse), name
    gap = vector.median_pfs.value - unlinked.median_pfs.value  # the longer PFS shows, far beyond the noise
    assert gap > 4 * math.hypot(vector.median_pfs.mcse, unlinked.median_pfs.mcse)


@pytest.mark.parametrize(
    "base",
    [LogLogistic(3.0, 1.4), LogNormal(3.0, 0.9), PiecewiseExponential(3.0, (2.0, 6.0), (1.0, 0.6, 0.3))],
    ids=["loglogistic", "lognormal", "piecewise"],
)
def test_every_family_can_be_moved_by_a_hazard_ratio(base: SurvivalDistribution) -> None:
    """S(Q(p)) = 1 - p for the moved curve of a family without an exact inverse hazard of its own."""
    moved = ProportionalHazards(base, 0.7)
    p = np.array([0.01, 0.25, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(moved.sf(moved.quantile(p)), 1 - p, rtol=1e-8)
    assert np.isfinite(moved.quantile(1.0 - 2.0**-53))  # the largest uniform a sampler draws
