"""Screening arrivals of many replicates, by thinning, with each arrival's screening draws.

Each site's arrivals come from the SimPy engine's own rate pieces (:func:`sim.model.recruitment.site_rates`
with ``rate_cv = 0`` for the fixed parts, :class:`~sim.model.recruitment.CalendarRates` and the ramp) for
every replicate at once: a Poisson count per replicate and site at the peak rate, uniform
positions, and the calendar factor times the ramp as the acceptance probability, exactly the rule
of :func:`sim.model.recruitment.arrival_days`. The Poisson-gamma multiplier is drawn per replicate and site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from ...model.recruitment import site_rates
from ...model.trial_model import TrialModel

__all__ = ["Arrivals", "block_arrivals", "screened_draws"]


@dataclass(frozen=True)
class Arrivals:
    """Every screening arrival of many replicates, sorted by replicate then day, with its screening draws."""

    replicate: NDArray[np.int64]
    day: NDArray[np.float64]
    site: NDArray[np.int64]
    fails: NDArray[np.bool_]
    screening_days: NDArray[np.int64]
    dose_days: NDArray[np.int64]

    def take(self, rows: NDArray[np.intp] | slice) -> Arrivals:
        """The arrivals at ``rows``."""
        return Arrivals(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @staticmethod
    def concatenate(parts: Sequence[Arrivals]) -> Arrivals:
        """Blocks of arrivals one after another (replicate numbers already global)."""
        return Arrivals(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Arrivals)})


def block_arrivals(model: TrialModel, rng: np.random.Generator, first: int, replicates: int) -> Arrivals:
    """The screening arrivals of replicates ``first..first+replicates-1``, from the block's stream."""
    rec, trial = model.scenario.recruitment, model.scenario.trial
    sites = rec.sites
    if rec.rate_cv > 0:
        shape = 1.0 / rec.rate_cv**2
        multiplier = rng.gamma(shape, 1.0 / shape, (replicates, len(sites)))
    else:
        multiplier = np.ones((replicates, len(sites)))
    days, owners, where = [], [], []
    calendar = model.calendar
    for index, site in enumerate(sites):
        rates = site_rates(site, index, trial.study_start, model.open_day, 0.0, rng)  # rate_cv 0: no draw
        span = model.close_day - rates.activation_day
        per_day = rates.per_day * multiplier[:, index]
        if rates.per_day <= 0 or span <= 0:
            continue
        count = rng.poisson(per_day * calendar.peak * span)
        candidates = rates.activation_day + span * rng.random(int(count.sum()))
        accept = calendar.factors_at(candidates) * rates.ramps(candidates)
        keep = rng.random(candidates.shape[0]) * calendar.peak < accept
        days.append(candidates[keep])
        owners.append(np.repeat(np.arange(first, first + replicates), count)[keep])
        where.append(np.full(int(keep.sum()), index))
    day = np.concatenate(days) if days else np.zeros(0)
    owner = np.concatenate(owners).astype(np.int64) if owners else np.zeros(0, np.int64)
    site_of = np.concatenate(where).astype(np.int64) if where else np.zeros(0, np.int64)
    order = np.lexsort((day, owner))
    return screened_draws(rng, model, owner[order], day[order], site_of[order])


def screened_draws(
    rng: np.random.Generator,
    model: TrialModel,
    replicate: NDArray[np.int64],
    day: NDArray[np.float64],
    site: NDArray[np.int64],
    failing: NDArray[np.float64] | None = None,
) -> Arrivals:
    """Arrivals in order with their screening draws as the SimPy engine makes them (failure, screening, dose delay).

    ``failing`` gives each replicate its own screen-failure probability (a forecast's posterior draw);
    without it every arrival fails with the scenario's.
    """
    rec = model.scenario.recruitment
    n = day.shape[0]
    low, high = rec.screening_days
    dose_low, dose_high = rec.enrollment_to_first_dose_days
    probability = rec.screen_failure_probability if failing is None else failing[replicate]
    fails = np.asarray(rng.random(n) < probability, dtype=bool)
    screening = np.asarray(rng.integers(low, high + 1, n), dtype=np.int64)
    dose = np.asarray(rng.integers(dose_low, dose_high + 1, n), dtype=np.int64)
    return Arrivals(replicate, day, site, fails, screening, dose)
