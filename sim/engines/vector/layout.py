"""The vector engine's seed layout, and the SimPy engine's, feeding the same enrollment code.

**Vector layout.** Replicates are grouped in fixed blocks of :data:`SEED_BLOCK` (block ``b`` holds
replicates ``b*SEED_BLOCK`` to ``(b+1)*SEED_BLOCK - 1``). Block ``b`` draws everything from
``SeedSequence(seed, spawn_key=(VECTOR_STREAM, b))``, in a fixed order: with an ORR prior, its
replicates' true ORRs (nothing without one); site multipliers, each site's counts, positions and
acceptance draws, the screening draws of every arrival, then the patients: after the first
enrollment pass, the patients each replicate enrolls, replicate after replicate, each at its own
true ORR (interim looks only take candidates away, so no replicate enrolls more). When losses are
replaced, ``2 * sample_size`` per replicate are drawn up front instead, and a replicate that needs
still more draws ``sample_size`` at a time from its own stream,
``SeedSequence(seed, spawn_key=(OVERFLOW_STREAM, i))``. A chunk simulates the blocks it touches
whole and keeps its own replicates, so results do not depend on the chunk size, the jobs or the
backend (chunk sizes that are multiples of the block waste nothing).

**Forecast layout** (a model with a start state). The same blocks, block ``b`` drawing from
``SeedSequence(seed, spawn_key=(FORECAST_STREAM, b))`` in the order of :mod:`.forecast_start`; a
replicate needing more new patients than were drawn up front draws them from
``SeedSequence(seed, spawn_key=(FORECAST_OVERFLOW_STREAM, i))``.

**SimPy layout** (:func:`des_seeded_histories`). Replicate ``i`` draws from child ``i`` of
``SeedSequence(seed)`` exactly as :func:`sim.engines.des.simulate_trial` does; slow, one generator per
replicate, and the test that the two engines' recruitment rules are the same.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields

import numpy as np
from numpy.typing import NDArray

from ...model.history import HistoryBatch
from ...model.patient_model import LatentOutcomes, PatientDraws, outcomes_under
from ...model.recruitment import arrival_days, site_rates
from ...model.trial_model import TrialModel
from ..contract import EngineError, replicate_seeds
from .arrivals import Arrivals, block_arrivals, screened_draws
from .enrollment import PatientsFor, simulate_fixed_target
from .forecast import simulate_forecast
from .refusals import refuse
from .replacement import MorePatients, simulate_replacing

__all__ = ["SEED_BLOCK", "VECTOR_STREAM", "des_seeded_histories", "simulate_histories"]


SEED_BLOCK = 250
"""Replicates that share one random stream; chunk sizes that are multiples of it waste no draws."""


VECTOR_STREAM = 0x76656374
"""First spawn key of the vector engine's block streams ("vect"), apart from the replicate seeds."""

OVERFLOW_STREAM = VECTOR_STREAM + 1
"""First spawn key of a replicate's own stream of patients beyond those drawn in its block."""

FORECAST_STREAM = VECTOR_STREAM + 2
"""First spawn key of a forecast's block streams: a forecast draws apart from a run from the study start."""

FORECAST_OVERFLOW_STREAM = VECTOR_STREAM + 3
"""First spawn key of a forecast replicate's own stream of new patients beyond those drawn in its block."""


@dataclasses.dataclass(frozen=True)
class _ReplicateModels:
    """Each replicate's patient model: the scenario's, or one at the true ORR its block drew from the prior."""

    model: TrialModel
    true_orr: NDArray[np.float64] | None

    def draw(self, rng: np.random.Generator, counts: NDArray[np.int64], first: int) -> LatentOutcomes:
        """``counts[i]`` patients for replicate ``first + i``, replicate after replicate from ``rng``."""
        if self.true_orr is None:
            return self.model.patients.draw(rng, int(counts.sum()))
        models = [self.model.with_orr(float(o)) for o in self.true_orr[first : first + counts.shape[0]]]
        draws = [m.random_numbers(rng, int(k)) for m, k in zip(models, counts)]
        return outcomes_under(models, counts.tolist(), PatientDraws.concatenate(draws))


def _true_orrs(model: TrialModel, rng: np.random.Generator) -> NDArray[np.float64] | None:
    """A block's true ORRs from the scenario's prior, the first draws of its stream; None without a prior."""
    if model.orr_prior is None:
        return None
    return np.asarray(model.orr_prior.draw(rng.random(SEED_BLOCK), model.orr_ceiling), dtype=float)


def _block_streams(
    model: TrialModel, seed: int, first_block: int, last_block: int
) -> tuple[Arrivals, list[np.random.Generator], _ReplicateModels]:
    """The arrivals of blocks ``first_block..last_block`` (replicates numbered from the first block's first),
    each block's stream, positioned for its patients, and the replicates' patient models."""
    arrivals, streams, true_orr = [], [], []
    for block in range(first_block, last_block + 1):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(VECTOR_STREAM, block)))
        true_orr.append(_true_orrs(model, rng))
        arrivals.append(block_arrivals(model, rng, (block - first_block) * SEED_BLOCK, SEED_BLOCK))
        streams.append(rng)
    drawn = None if model.orr_prior is None else np.concatenate([t for t in true_orr if t is not None])
    return Arrivals.concatenate(arrivals), streams, _ReplicateModels(model, drawn)


def _patients_of_blocks(models: _ReplicateModels, streams: list[np.random.Generator]) -> PatientsFor:
    """Each block draws the patients its replicates can enroll, all at once, replicate after replicate."""

    def patients_for(count: NDArray[np.int64]) -> LatentOutcomes:
        per_block = count.reshape(len(streams), SEED_BLOCK)
        return LatentOutcomes.concatenate(
            [models.draw(rng, per_block[b], b * SEED_BLOCK) for b, rng in enumerate(streams)]
        )

    return patients_for


def _overflow(models: _ReplicateModels, seed: int, start: int) -> MorePatients:
    """Patients for replicate ``start + r`` beyond those drawn up front: its own stream, ``sample_size`` at a time."""
    streams: dict[int, np.random.Generator] = {}
    size = models.model.scenario.trial.sample_size

    def more(r: int) -> LatentOutcomes:
        if r not in streams:
            key = np.random.SeedSequence(seed, spawn_key=(OVERFLOW_STREAM, start + r))
            streams[r] = np.random.default_rng(key)
        return models.draw(streams[r], np.array([size]), r)

    return more


def simulate_histories(model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
    """The histories of replicates ``start..stop-1`` (the blocks they touch are simulated whole)."""
    refuse(model)
    first_block, last_block = start // SEED_BLOCK, (stop - 1) // SEED_BLOCK
    base = first_block * SEED_BLOCK
    replicates = (last_block - first_block + 1) * SEED_BLOCK
    if model.start is not None:
        return _forecast(model, seed, first_block, last_block).span(start - base, stop - base)
    arrivals, streams, models = _block_streams(model, seed, first_block, last_block)
    if model.scenario.trial.replace_non_evaluable:
        each = np.full(SEED_BLOCK, 2 * model.scenario.trial.sample_size)
        latent = LatentOutcomes.concatenate([models.draw(rng, each, b * SEED_BLOCK) for b, rng in enumerate(streams)])
        every = simulate_replacing(model, arrivals, latent, replicates, _overflow(models, seed, base))
    else:
        every = simulate_fixed_target(model, arrivals, _patients_of_blocks(models, streams), replicates)
    if models.true_orr is not None:
        every = dataclasses.replace(every, true_orr=models.true_orr)
    return every.span(start - base, stop - base)


def _forecast(model: TrialModel, seed: int, first_block: int, last_block: int) -> HistoryBatch:
    """The forecast replicates of blocks ``first_block..last_block``, each block from its stream."""
    blocks = range(first_block, last_block + 1)
    streams = [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(FORECAST_STREAM, b))) for b in blocks]
    replicates = range(first_block * SEED_BLOCK, (last_block + 1) * SEED_BLOCK)
    overflow = [np.random.SeedSequence(seed, spawn_key=(FORECAST_OVERFLOW_STREAM, r)) for r in replicates]
    return simulate_forecast(model, streams, overflow)


def des_seeded_histories(model: TrialModel, seed: int, start: int, stop: int) -> HistoryBatch:
    """Replicates ``start..stop-1`` drawn from the SimPy engine's own streams, enrolled by this engine.

    Replicate ``i`` draws from child ``i`` of ``SeedSequence(seed)`` exactly as
    :func:`sim.engines.des.simulate_trial` does (sites, then screening, then patients in blocks of
    ``sample_size``), one generator per replicate, so it is slow. Without paused looks the SimPy
    engine hands out screening draws in arrival order, as here, and the histories are equal
    replicate by replicate: the test of this engine's recruitment and look logic. (A paused look
    skips arrivals, which shifts the SimPy engine's later screening draws.) Runs from the study start only.
    """
    refuse(model)
    if model.start is not None:
        raise EngineError("des_seeded_histories simulates from the study start; a forecast has its own layout")
    rec, trial = model.scenario.recruitment, model.scenario.trial
    arrivals, latent, streams = [], [], []
    true_orr = []
    for r, replicate_seed in enumerate(replicate_seeds(seed, start, stop)):
        site_seed, screening_seed, patient_seed, start_seed = replicate_seed.spawn(4)
        if model.orr_prior is not None:  # the SimPy engine's start stream draws the true ORR first
            u = np.random.default_rng(start_seed).random()
            true_orr.append(float(model.orr_prior.draw(u, model.orr_ceiling)))
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
    models = _ReplicateModels(model, np.array(true_orr) if true_orr else None)
    size = np.array([trial.sample_size])
    latent = [models.draw(rng, size, r) for r, rng in enumerate(streams)]
    every = Arrivals.concatenate(arrivals)
    if trial.replace_non_evaluable:

        def more(r: int) -> LatentOutcomes:
            return models.draw(streams[r], size, r)

        batch = simulate_replacing(model, every, LatentOutcomes.concatenate(latent), stop - start, more)
        return batch if models.true_orr is None else dataclasses.replace(batch, true_orr=models.true_orr)
    drawn = LatentOutcomes.concatenate(latent)

    def first_patients(count: NDArray[np.int64]) -> LatentOutcomes:
        owner = np.repeat(np.arange(count.shape[0]), count)
        rows = owner * trial.sample_size + np.arange(owner.shape[0]) - (np.cumsum(count) - count)[owner]
        return LatentOutcomes(**{f.name: getattr(drawn, f.name)[rows] for f in fields(LatentOutcomes)})

    batch = simulate_fixed_target(model, every, first_patients, stop - start)
    return batch if models.true_orr is None else dataclasses.replace(batch, true_orr=models.true_orr)
