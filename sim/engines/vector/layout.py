"""The vector engine's seed layout, and the SimPy engine's, feeding the same enrollment code.

**Vector layout.** Replicates are grouped in fixed blocks of :data:`SEED_BLOCK` (block ``b`` holds
replicates ``b*SEED_BLOCK`` to ``(b+1)*SEED_BLOCK - 1``). Block ``b`` draws everything from
``SeedSequence(seed, spawn_key=(VECTOR_STREAM, b))``, in a fixed order: site multipliers, each
site's counts, positions and acceptance draws, the screening draws of every arrival, then the
patients: after the first enrollment pass, the patients each replicate enrolls, replicate after
replicate (interim looks only take candidates away, so no replicate enrolls more). When losses are
replaced, ``2 * sample_size`` per replicate are drawn up front instead, and a replicate that needs
still more draws ``sample_size`` at a time from its own stream,
``SeedSequence(seed, spawn_key=(OVERFLOW_STREAM, i))``. A chunk simulates the blocks it touches
whole and keeps its own replicates, so results do not depend on the chunk size, the jobs or the
backend (chunk sizes that are multiples of the block waste nothing).

**SimPy layout** (:func:`des_seeded_histories`). Replicate ``i`` draws from child ``i`` of
``SeedSequence(seed)`` exactly as :func:`sim.engines.des.simulate_trial` does; slow, one generator per
replicate, and the test that the two engines' recruitment rules are the same.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from numpy.typing import NDArray

from ...model.history import HistoryBatch
from ...model.patient_model import LatentOutcomes
from ...model.recruitment import arrival_days, site_rates
from ...model.trial_model import TrialModel
from ..contract import replicate_seeds
from .arrivals import Arrivals, block_arrivals, screened_draws
from .enrollment import PatientsFor, simulate_fixed_target
from .refusals import refuse
from .replacement import MorePatients, simulate_replacing

__all__ = ["SEED_BLOCK", "VECTOR_STREAM", "des_seeded_histories", "simulate_histories"]


SEED_BLOCK = 250
"""Replicates that share one random stream; chunk sizes that are multiples of it waste no draws."""


VECTOR_STREAM = 0x76656374
"""First spawn key of the vector engine's block streams ("vect"), apart from the replicate seeds."""

OVERFLOW_STREAM = VECTOR_STREAM + 1
"""First spawn key of a replicate's own stream of patients beyond those drawn in its block."""


def _block_streams(
    model: TrialModel, seed: int, first_block: int, last_block: int
) -> tuple[Arrivals, list[np.random.Generator]]:
    """The arrivals of blocks ``first_block..last_block`` (replicates numbered from the first block's first),
    and each block's stream, positioned for its patients."""
    arrivals, streams = [], []
    for block in range(first_block, last_block + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(VECTOR_STREAM, block)))
        arrivals.append(block_arrivals(model, rng, (block - first_block) * SEED_BLOCK, SEED_BLOCK))
        streams.append(rng)
    return Arrivals.concatenate(arrivals), streams


def _patients_of_blocks(model: TrialModel, streams: list[np.random.Generator]) -> PatientsFor:
    """Each block draws the patients its replicates can enroll, all at once, replicate after replicate."""

    def patients_for(count: NDArray[np.int64]) -> LatentOutcomes:
        per_block = count.reshape(len(streams), SEED_BLOCK).sum(axis=1)
        return LatentOutcomes.concatenate([model.patients.draw(rng, int(n)) for rng, n in zip(streams, per_block)])

    return patients_for


def _overflow(model: TrialModel, seed: int, start: int) -> MorePatients:
    """Patients for replicate ``start + r`` beyond those drawn up front: its own stream, ``sample_size`` at a time."""
    streams: dict[int, np.random.Generator] = {}

    def more(r: int) -> LatentOutcomes:
        if r not in streams:
            key = np.random.SeedSequence(seed, spawn_key=(OVERFLOW_STREAM, start + r))
            streams[r] = np.random.default_rng(key)
        return model.patients.draw(streams[r], model.scenario.trial.sample_size)

    return more


def simulate_histories(model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
    """The histories of replicates ``start..stop-1`` (the blocks they touch are simulated whole)."""
    refuse(model)
    first_block, last_block = start // SEED_BLOCK, (stop - 1) // SEED_BLOCK
    arrivals, streams = _block_streams(model, seed, first_block, last_block)
    base = first_block * SEED_BLOCK
    replicates = (last_block - first_block + 1) * SEED_BLOCK
    if model.scenario.trial.replace_non_evaluable:
        per_replicate = 2 * model.scenario.trial.sample_size
        latent = LatentOutcomes.concatenate([model.patients.draw(rng, SEED_BLOCK * per_replicate) for rng in streams])
        every = simulate_replacing(model, arrivals, latent, replicates, _overflow(model, seed, base))
    else:
        every = simulate_fixed_target(model, arrivals, _patients_of_blocks(model, streams), replicates)
    return every.span(start - base, stop - base)


def des_seeded_histories(model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
    """Replicates ``start..stop-1`` drawn from the SimPy engine's own streams, enrolled by this engine.

    Replicate ``i`` draws from child ``i`` of ``SeedSequence(seed)`` exactly as
    :func:`sim.engines.des.simulate_trial` does (sites, then screening, then patients in blocks of
    ``sample_size``), one generator per replicate, so it is slow. Without paused looks the SimPy
    engine hands out screening draws in arrival order, as here, and the histories are equal
    replicate by replicate: the test of this engine's recruitment and look logic. (A paused look
    skips arrivals, which shifts the SimPy engine's later screening draws.)
    """
    refuse(model)
    rec, trial = model.scenario.recruitment, model.scenario.trial
    arrivals, latent, streams = [], [], []
    for r, replicate_seed in enumerate(replicate_seeds(seed, start, stop)):
        site_seed, screening_seed, patient_seed = replicate_seed.spawn(3)
        days, where = [], []
        for index, (site, rng) in enumerate(
            zip(rec.sites, map(np.random.default_rng, site_seed.spawn(len(rec.sites))))
        ):
            rates = site_rates(site, index, trial.study_start, model.open_day, rec.rate_cv, rng)
            days.append(arrival_days(rates, model.calendar, model.close_day, rng))
            where.append(np.full(days[-1].shape, index, dtype=np.int64))
        day, site_of = np.concatenate(days), np.concatenate(where)
        order = np.argsort(day, kind="stable")
        replicate = np.full(day.shape, r, dtype=np.int64)
        arrivals.append(
            screened_draws(np.random.default_rng(screening_seed), model, replicate, day[order], site_of[order])
        )
        streams.append(np.random.default_rng(patient_seed))
        latent.append(model.patients.draw(streams[-1], trial.sample_size))
    every = Arrivals.concatenate(arrivals)
    if trial.replace_non_evaluable:

        def more(r: int) -> LatentOutcomes:
            return model.patients.draw(streams[r], trial.sample_size)

        return simulate_replacing(model, every, LatentOutcomes.concatenate(latent), stop - start, more)
    drawn = LatentOutcomes.concatenate(latent)

    def first_patients(count: NDArray[np.int64]) -> LatentOutcomes:
        owner = np.repeat(np.arange(count.shape[0]), count)
        rows = owner * trial.sample_size + np.arange(owner.shape[0]) - (np.cumsum(count) - count)[owner]
        return LatentOutcomes(**{f.name: getattr(drawn, f.name)[rows] for f in fields(LatentOutcomes)})

    return simulate_fixed_target(model, every, first_patients, stop - start)
