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

from sim.model.conditioning import candidate_matches, status_at
from sim.model.journey import plan_journeys
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
