"""A windowed patient model (PatientModel.windowed) shows every candidate's status exactly as the full model does.

The forecast's likelihood and its rejection plan only the cycles and scans that can fall before
the as-of date; these tests hold that shortcut to the full plan, candidate by candidate, on
scenarios where every rule that reaches the status acts inside the window: AE stops and
interruptions, stops for maximum duration, withdrawal and loss, missed scans, unscheduled
assessments, transient responses and recorded deaths.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from sim.model.conditioning import candidate_matches, force_scan_offsets, status_at
from sim.model.journey import plan_journeys
from sim.model.status_likelihood import _match_counts
from sim.model.trial_model import TrialModel
from sim.model.trial_state import KnownOutcomes
from sim.scenario import load_scenario

VARIANTS = {
    "base": (),
    "deviations": (
        "schedule.missed_scan_probability=0.15",
        "schedule.unscheduled_progression_share=0.4",
        "efficacy.unconfirmed_response_share=0.1",
        "safety.new_therapy_probability=0.5",
    ),
    "stops": (
        "schedule.max_treatment_months=4",
        "safety.ae_probability_by_cycle=[0.5, 0.3]",
        "safety.ae_discontinuation_share=0.3",
        "safety.withdrawal_per_month=0.05",
        "safety.loss_to_follow_up_per_month=0.05",
    ),
}
WINDOWS = (1.0, 38.5, 90.0, 125.0, 300.7, 800.0)


def _same(one: KnownOutcomes, other: KnownOutcomes) -> bool:
    """Every field equal, NaN equal to NaN."""
    return all(
        np.array_equal(getattr(one, f.name), getattr(other, f.name), equal_nan=True) for f in fields(KnownOutcomes)
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_windowed_plan_shows_every_status_as_the_full_plan(variant: str) -> None:
    model = TrialModel.from_scenario(load_scenario("base", VARIANTS[variant])).patients
    rng = np.random.default_rng(17)
    size = 20_000
    latent = model.draw(rng, size)
    full = plan_journeys(model, latent)
    dose = np.zeros(size)
    sd_days = model.schedule.sd_min_days
    for window in WINDOWS:
        cut = model.windowed(window)
        assert cut.max_scans < model.max_scans and cut.max_cycles <= model.max_cycles
        shown = plan_journeys(cut, latent.first(cut.max_cycles, cut.max_scans))
        wanted = status_at(full, dose, window, sd_days)
        assert _same(status_at(shown, dose, window, sd_days), wanted), window
        # each candidate's own status, recorded deaths moved onto their days (a few then fail), and
        # the statuses of other candidates (a few match)
        for rows in (np.arange(size), np.roll(np.arange(size), 1)):
            found = candidate_matches(shown, wanted, rows, dose, window, sd_days)
            assert np.array_equal(found, candidate_matches(full, wanted, rows, dose, window, sd_days)), window
            assert found.any() and (window == WINDOWS[0] or not found.all())


def test_the_window_covers_the_scans_and_cycles_that_can_start_within_it() -> None:
    model = TrialModel.from_scenario(load_scenario("base")).patients
    cut = model.windowed(84.0)  # scans 1 and 2 can fall on day 84 or before (42 +/- 7, 84 - 7); one more
    assert (cut.max_scans, cut.max_cycles) == (3, 5)  # cycles start on days 0, 21, ..., 84
    assert model.windowed(1e6) is model  # nothing cut: the same model, which draws
    with pytest.raises(ValueError, match="windowed"):
        cut.random_numbers(np.random.default_rng(1), 3)


def _counts_in_full(models, wanted, row: int, dose: float, as_of_day: float, seed: int, size: int) -> list[int]:
    """The likelihood's matches as first written: each model drawing its own candidates and planning them in full."""
    each, days = np.full(size, row), np.full(size, dose)
    out = []
    for model in models:
        latent = force_scan_offsets(model.draw(np.random.default_rng(seed), size), wanted, each, days, model.schedule)
        found = candidate_matches(
            plan_journeys(model, latent), wanted, each, days, as_of_day, model.schedule.sd_min_days
        )
        out.append(int(np.count_nonzero(found)))
    return out


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_likelihoods_matches_are_those_of_full_plans_drawn_model_by_model(variant: str) -> None:
    """Shared draws, the course turned once and the windowed plan change no match: recorded days (forced scan
    offsets), fractional first doses and recorded deaths included."""
    trial = TrialModel.from_scenario(load_scenario("base", VARIANTS[variant]))
    models = [trial.with_orr(p) for p in (0.0, 0.1, 0.25)]
    dose = np.array([3.4, 40.7, 95.2, 150.9, 210.5, 260.1, 300.3, 333.8, 12.5, 70.2, 180.6, 240.4])
    as_of_day = 380.0
    patients = plan_journeys(models[1], models[1].draw(np.random.default_rng(4), dose.shape[0]))
    wanted = status_at(patients, dose, as_of_day, models[1].schedule.sd_min_days)
    recorded = [np.isfinite(wanted.day(name)).sum() for name in ("last_scan", "progression", "death")]
    assert recorded[0] >= 9 and recorded[1] >= 2 and recorded[2] >= 2
    for row in range(dose.shape[0]):
        seed = int(np.random.default_rng(row).integers(2**63))
        shared = _match_counts(models, wanted, row, float(dose[row]), as_of_day, np.random.default_rng(row), 1500)
        full = _counts_in_full(models, wanted, row, float(dose[row]), as_of_day, seed, 1500)
        assert shared.tolist() == full, row
