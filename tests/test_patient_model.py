"""The latent patient model keeps the scenario's PFS marginal, ORR and OS median exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.model.recist import earliest_sure_confirmation_day
from sim.model.trial_model import TrialModel
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


# What each draw means, pinned by its own distribution (issue 15): the shares a scenario sets,
# the whole range of every uniform integer draw, and the unit of every rate.


def _share_within_4_se(flags: np.ndarray, p: float) -> bool:
    return _within_4_se(float(flags.mean()), p, int(flags.size))


def test_an_ae_discontinues_interrupts_or_is_managed_in_the_given_shares(base) -> None:
    """Among AEs: discontinuation 0.15, interruption 0.6 (not 0.6 - 0.15), managed without delay 0.25."""
    _, latent = _draw(base)
    ae = latent.ae_occurs
    sa = base.safety
    assert (sa.ae_discontinuation_share, sa.ae_interruption_share) == (0.15, 0.6)
    assert not (latent.ae_discontinues & latent.ae_interrupts).any()
    assert not ((latent.ae_discontinues | latent.ae_interrupts) & ~ae).any()
    assert _share_within_4_se(latent.ae_discontinues[ae], 0.15)
    assert _share_within_4_se(latent.ae_interrupts[ae], 0.6)
    assert _share_within_4_se(~(latent.ae_discontinues | latent.ae_interrupts)[ae], 0.25)
    # an interruption lasts 7 to 14 days, each equally likely; nothing else delays a cycle
    delays = latent.interruption_days[latent.ae_interrupts]
    assert (latent.interruption_days[~latent.ae_interrupts] == 0).all()
    for days in range(7, 15):
        assert _share_within_4_se(delays == days, 1 / 8), days


def test_cycles_and_scans_the_model_plans_for_by_hand(base, scenario_with) -> None:
    model = TrialModel.from_scenario(base).patients
    # 24 months = 730.5 days hold 34 whole 21-day cycles (34 * 21 = 714; a 35th would end on day 735)
    assert model.max_cycles == 34
    # scans to the study end (day 1095) plus the window: ceil(1102 / 42) = 27, plus one
    assert model.max_scans == 28
    # 2 months = 60.875 days hold two cycles; a month shorter than a cycle still gives one
    assert TrialModel.from_scenario(scenario_with("schedule.max_treatment_months=2")).patients.max_cycles == 2
    assert TrialModel.from_scenario(scenario_with("schedule.max_treatment_months=0.5")).patients.max_cycles == 1


def test_scan_offsets_cover_the_whole_window_evenly(base) -> None:
    _, latent = _draw(base)
    offsets = latent.scan_offset_days[:, :4].ravel()  # four scans each: 240,000 offsets
    assert offsets.min() == -7 and offsets.max() == 7
    for day in range(-7, 8):
        assert _share_within_4_se(offsets == day, 1 / 15), day


def test_exit_times_are_exponential_at_the_monthly_rates(scenario_with) -> None:
    """Withdrawal 0.05 and loss 0.02 per month: exponential, means 20 and 50 months."""
    scenario = scenario_with("safety.withdrawal_per_month=0.05", "safety.loss_to_follow_up_per_month=0.02")
    _, latent = _draw(scenario)
    for days, mean_months in ((latent.withdrawal_day, 20.0), (latent.lost_to_follow_up_day, 50.0)):
        months = days / DAYS_PER_MONTH
        assert abs(months.mean() - mean_months) <= 4 * mean_months / math.sqrt(N)
        # P(T <= mean) = 1 - 1/e for an exponential
        assert _share_within_4_se(months <= mean_months, 1 - math.exp(-1.0))
    never = _draw(scenario_with("safety.withdrawal_per_month=0"))[1].withdrawal_day
    assert np.isinf(never).all()


def test_protocol_deviations_have_their_shares(scenario_with) -> None:
    scenario = scenario_with(
        "efficacy.unconfirmed_response_share=0.2",
        "schedule.missed_scan_probability=0.1",
        "safety.new_therapy_probability=0.4",
    )
    _, latent = _draw(scenario)
    # a transient response is for patients without a confirmed one
    assert not (latent.transient_response & latent.responder).any()
    assert _share_within_4_se(latent.transient_response[~latent.responder], 0.2)
    assert _share_within_4_se(latent.scan_missed[:, :4].ravel(), 0.1)
    starts = np.isfinite(latent.new_therapy_delay_days)
    assert _share_within_4_se(starts, 0.4)
    # new therapy 14 to 42 days after the stop, each day equally likely
    delays = latent.new_therapy_delay_days[starts]
    assert delays.min() == 14 and delays.max() == 42
    assert _share_within_4_se(delays <= 27, 14 / 29)


@pytest.mark.parametrize("kind", ["orr", "pfs", "link", "safety"])
def test_outcomes_under_many_models_are_each_blocks_own(scenario_with, kind: str) -> None:
    """outcomes_under turns each block exactly as its own model's outcomes would, whichever shortcut it takes."""
    from dataclasses import fields, replace

    from sim.model.patient_model import COURSE, LatentOutcomes, outcomes_under

    link = ("efficacy.pfs_orr_link={hazard_ratio = 0.8, reference_orr = 0.15}",) if kind == "link" else ()
    model = TrialModel.from_scenario(scenario_with(*link))
    orrs = (0.0, 0.12, 0.3, 0.05)
    models = [model.with_orr(o) for o in orrs]
    if kind == "pfs":
        models = [model.with_orr(o, h) for o, h in zip(orrs, (1.0, 1.3, 0.8, 1.0))]
    if kind == "safety":
        models[2] = replace(models[2], safety=replace(models[2].safety, withdrawal_per_month=0.2))
    sizes = [300, 0, 500, 200]
    draws = model.patients.random_numbers(np.random.default_rng(5), sum(sizes))
    ends = np.cumsum(sizes)
    own = LatentOutcomes.concatenate(
        [m.outcomes(draws.rows(int(e - k), int(e))) for m, e, k in zip(models, ends, sizes)]
    )
    found = outcomes_under(models, sizes, draws)
    assert set(model.patients.course(draws)) == set(COURSE)
    assert {f.name for f in fields(LatentOutcomes)} == set(COURSE) | set(model.patients.efficacy_outcomes(draws))
    for f in fields(LatentOutcomes):
        assert np.array_equal(getattr(found, f.name), getattr(own, f.name)), f.name
    assert found.responder[:300].sum() == 0 and found.responder[300:800].mean() > 0.2
