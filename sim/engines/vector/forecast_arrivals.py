"""A forecast's screening arrivals for many replicates: from the as-of date on, with what is known of the sites.

The SimPy engine's rules for a running trial (:func:`sim.engines.des._arrivals` and its
``on_arrival``), for every replicate at once:

* each site's rate multiplier is drawn from its posterior (:class:`~sim.model.trial_state.RatePosterior`),
  and a site planned to open after the as-of date opens up to ``activation_delay_days`` late
  (whole days, uniform), its ramp from that day;
* arrivals start at ``resume_day``, or at the as-of date at a site whose patients in screening are
  counted; one before the as-of date counts only if it was still in screening then (not a screen
  failure, its screening ending on or after the as-of date): the rest are in the data already;
* a replicate's screen-failure probability is its draw from the forecast's Beta law, if given;
* the counted patients still in screening (``pending``) join as eligible arrivals whose consent
  and screening end are drawn given that screening had not ended by the as-of date
  (:func:`sim.model.recruitment.pending_screening_ends`): screened whatever enrollment is doing.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ...model.recruitment import SiteRates, pending_screening_ends, site_rates
from ...model.trial_model import TrialModel
from ...model.trial_state import TrialState
from .arrivals import Arrivals, screened_draws

__all__ = ["forecast_arrivals"]


def forecast_arrivals(
    model: TrialModel, state: TrialState, rng: np.random.Generator, replicates: int, failing: NDArray[np.float64]
) -> tuple[Arrivals, NDArray[np.bool_]]:
    """The arrivals of ``replicates`` replicates (numbered from 0), sorted by replicate then day, and which are
    patients known to be in screening at the as-of date. ``failing[r]`` is replicate r's screen-failure probability."""
    rec = model.scenario.recruitment
    days, owners, sites = [], [], []
    for index, site in enumerate(rec.sites):
        rates = site_rates(site, index, model.scenario.trial.study_start, model.open_day, 0.0, rng)  # no draw
        day, owner = _site_arrivals(model, state, rates, rng, replicates)
        days.append(day)
        owners.append(owner)
        sites.append(np.full(day.shape, index, dtype=np.int64))
    drawn = screened_draws(rng, model, np.concatenate(owners), np.concatenate(days), np.concatenate(sites), failing)
    known = (drawn.day >= state.as_of_day) | (~drawn.fails & (drawn.day + drawn.screening_days >= state.as_of_day))
    pending = _pending(model, state, rng, replicates)
    every = Arrivals.concatenate([drawn.take(np.flatnonzero(known)), pending])
    pinned = np.concatenate([np.zeros(int(known.sum()), dtype=bool), np.ones(pending.day.shape[0], dtype=bool)])
    order = np.lexsort((every.day, every.replicate))
    return every.take(order), pinned[order]


def _site_arrivals(
    model: TrialModel, state: TrialState, rates: SiteRates, rng: np.random.Generator, replicates: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """One site's arrivals in every replicate (unsorted) and their replicates, by thinning at the peak rate."""
    index = rates.index
    shape, rate = float(state.rates.shape[index]), float(state.rates.rate[index])
    multiplier = np.ones(replicates) if math.isinf(shape) else rng.gamma(shape, 1.0 / rate, replicates)
    activation = np.full(replicates, rates.activation_day)
    if state.activation_delay_days > 0 and rates.activation_day >= state.as_of_day:
        activation = activation + rng.integers(0, state.activation_delay_days + 1, replicates)
    counted = state.pending is not None and state.pending[index] >= 0  # its patients in screening: see _pending
    first = np.maximum(activation, state.as_of_day if counted else state.resume_day)
    span = model.close_day - first
    if rates.per_day <= 0 or not (span > 0).any():
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    calendar = model.calendar
    count = rng.poisson(rates.per_day * multiplier * calendar.peak * np.maximum(span, 0.0))
    owner = np.repeat(np.arange(replicates, dtype=np.int64), count)
    candidates = first[owner] + span[owner] * rng.random(owner.shape[0])
    ramp = np.ones(owner.shape[0])
    if rates.ramp_days > 0:
        start = activation[owner] if rates.ramp_start_day is None else rates.ramp_start_day
        ramp = np.clip((candidates - start) / rates.ramp_days, 0.0, 1.0)
    keep = rng.random(owner.shape[0]) * calendar.peak < calendar.factors_at(candidates) * ramp
    return candidates[keep], owner[keep]


def _pending(model: TrialModel, state: TrialState, rng: np.random.Generator, replicates: int) -> Arrivals:
    """The counted patients in screening at the as-of date, in every replicate, as eligible arrivals.

    A site's ``count`` patients per replicate are ``count * replicates`` i.i.d. draws shared out in turn.
    """
    rec = model.scenario.recruitment
    low, high = rec.enrollment_to_first_dose_days
    parts = []
    for index, site in enumerate(rec.sites):
        count = 0 if state.pending is None else int(state.pending[index])
        if count <= 0:
            continue
        rates = site_rates(site, index, model.scenario.trial.study_start, model.open_day, 0.0, rng)
        consent, ends = pending_screening_ends(
            rates, model.calendar, state.as_of_day, rec.screening_days, count * replicates, rng
        )
        delays = rng.integers(low, high + 1, count * replicates)
        parts.append(
            Arrivals(
                replicate=np.repeat(np.arange(replicates, dtype=np.int64), count),
                day=consent,
                site=np.full(consent.shape, index, dtype=np.int64),
                fails=np.zeros(consent.shape, dtype=bool),
                screening_days=np.rint(ends - consent).astype(np.int64),  # consent + days is ``ends`` again, exactly
                dose_days=np.asarray(delays, dtype=np.int64),
            )
        )
    if not parts:
        empty = np.zeros(0)
        none = np.zeros(0, dtype=np.int64)
        return Arrivals(none, empty, none, np.zeros(0, dtype=bool), none, none)
    return Arrivals.concatenate(parts)
