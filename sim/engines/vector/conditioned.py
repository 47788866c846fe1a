"""A forecast's enrolled patients for many replicates at once, each drawn given the patient's status at the as-of date.

The SimPy engine draws each replicate's patients by rejection, one replicate at a time
(:func:`sim.model.conditioning.draw_given_status`): candidates from the patient model, the first
whose status at the as-of date matches is kept. Here the rejection is shared. Replicates with the
same patient model (the conditional run: one model for all) draw one stream of candidates per
patient and share out its matches, the k-th match to the k-th replicate: the matches of i.i.d.
candidates are i.i.d. draws from the law given the status, so each replicate's patient has the
SimPy engine's law exactly, and about ``1 / P(status)`` candidates are drawn per replicate instead
of rounds of 64. Replicates with a model of their own (an ORR drawn from the posterior, learned
hazards) draw their own candidates, but each round is planned and matched for all of them in one
call. Round sizes follow the match rates seen so far: they decide how many candidates are drawn,
never which match is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...model.conditioning import (
    MAX_CANDIDATES,
    ConditioningError,
    candidate_matches,
    force_scan_offsets,
    status_journeys,
    with_recorded_deaths,
)
from ...model.journey import PatientJourneys, plan_journeys
from ...model.patient_model import LatentOutcomes, PatientModel, outcomes_under
from ...model.trial_state import KnownOutcomes

__all__ = ["ROUND_ROWS", "conditioned_journeys", "model_groups"]

ROUND_ROWS = 40_000
"""Most candidates planned in one call (memory); a round's groups are split into calls of about this many."""

PILOT = 1024
"""Candidates per conditioned patient in the first round, which measures the match rates (from the first group)."""


def model_groups(models: Sequence[PatientModel]) -> list[NDArray[np.intp]]:
    """The replicates sharing each patient model (the same object), in order of first appearance."""
    first: dict[int, list[int]] = {}
    for r, m in enumerate(models):
        first.setdefault(id(m), []).append(r)
    return [np.asarray(members, dtype=np.intp) for members in first.values()]


@dataclass
class _Rejection:
    """The shared rejection's state: per group and patient, the matches still wanted and kept, and the draws.

    ``rows[r, i]`` is the stored candidate kept as patient i of replicate r (-1 until one is).
    """

    wanted: KnownOutcomes
    dose: NDArray[np.float64]
    as_of_day: float
    sd_min_days: float
    members: list[NDArray[np.intp]]
    patient_id: tuple[str, ...]

    def __post_init__(self) -> None:
        n = self.dose.shape[0]
        self.sizes = np.repeat(np.array([m.shape[0] for m in self.members])[:, None], n, axis=1)
        self.taken = np.zeros_like(self.sizes)
        self.drawn = np.zeros(self.sizes.shape)
        self.matched = np.zeros(self.sizes.shape)
        self.replicate_of = np.concatenate(self.members)  # group g's j-th replicate is at offsets[g] + j
        self.offsets = np.concatenate(([0], np.cumsum(self.sizes[:, 0])))[:-1] if n else np.zeros(0, np.intp)
        self.rows = np.full((self.replicate_of.shape[0], n), -1, dtype=np.intp)
        self.parts: list[PatientJourneys] = []
        self.stored = 0

    @property
    def remaining(self) -> NDArray[np.int64]:
        """Matches still wanted per group and patient."""
        return np.asarray(self.sizes - self.taken)

    def round_sizes(self, first: bool) -> NDArray[np.int64]:
        """Candidates to draw per group and patient this round: enough for the matches wanted, at the rates seen.

        The first round measures the rates: :data:`PILOT` candidates per conditioned patient, from the first
        group alone (one draw, however many groups). Then about ``(k + sqrt(k) / 2) / p`` for ``k`` matches still
        wanted at match rate ``p`` (pooled over the groups): a replicate of its own draws 1.5 / p and so needs a
        second round for about a fifth of its patients, a large group meets most needs at once. A patient whose
        status is not known takes one draw per replicate.
        """
        conditioned = self.wanted.conditioned[None, :]
        k = self.remaining.astype(float)
        if first:
            size = np.zeros(k.shape)
            size[0] = np.where(conditioned[0], np.maximum(PILOT, k[0]), k[0])
        else:
            rate = (self.matched.sum(axis=0) + 0.5) / (self.drawn.sum(axis=0) + 1.0)
            size = np.where(conditioned, np.ceil((k + 0.5 * np.sqrt(k)) / rate[None, :]), k)
        return np.asarray(np.where(k > 0, np.minimum(size, ROUND_ROWS), 0), dtype=np.int64)

    def accept(
        self, group: NDArray[np.intp], patient: NDArray[np.intp], latent: LatentOutcomes, model: PatientModel
    ) -> None:
        """Keep, per group and patient, the first matches still wanted among the candidates ``latent`` (in draw order).

        They are matched on journeys planned only as far as their statuses need
        (:func:`~sim.model.conditioning.status_journeys`); the kept are planned in full (``model``: the
        schedule's) and stored in ``parts``.
        """
        n = self.dose.shape[0]
        candidates = status_journeys(model, latent, self.as_of_day - self.dose.min(initial=self.as_of_day))
        dose = self.dose[patient]
        matching = candidate_matches(candidates, self.wanted, patient, dose, self.as_of_day, self.sd_min_days)
        ok = matching | ~self.wanted.conditioned[patient]
        key = group * n + patient  # ascending: candidates come group by group, patient by patient
        self.drawn += np.bincount(key, minlength=self.sizes.size).reshape(self.sizes.shape)
        self.matched += np.bincount(key, weights=ok, minlength=self.sizes.size).reshape(self.sizes.shape)
        hits = np.flatnonzero(ok)
        rank = np.arange(hits.shape[0]) - np.searchsorted(key[hits], key[hits], side="left")
        g, i = group[hits], patient[hits]
        keep = rank < self.remaining[g, i]
        g, i, slot = g[keep], i[keep], self.taken[g[keep], i[keep]] + rank[keep]
        self.rows[self.replicate_of[self.offsets[g] + slot], i] = self.stored + np.arange(g.shape[0])
        self.parts.append(plan_journeys(model, latent.take(hits[keep])))
        self.stored += int(g.shape[0])
        self.taken += np.bincount(g * n + i, minlength=self.sizes.size).reshape(self.sizes.shape)

    def check(self) -> None:
        """Refuse a status the model (nearly) never gives, naming the patient, as the SimPy engine does."""
        hopeless = (self.remaining > 0) & (
            ((self.drawn >= MAX_CANDIDATES) & (self.matched == 0)) | (self.drawn >= MAX_CANDIDATES * self.sizes)
        )
        if hopeless.any():
            row = int(np.flatnonzero(hopeless.any(axis=0))[0])
            who = self.patient_id[row] if self.patient_id else str(row)
            raise ConditioningError(
                f"patient {who}: no draw of the scenario's patient model in {MAX_CANDIDATES:,} matches the status "
                "recorded at the as-of date; check the row, or the scenario's efficacy and safety assumptions"
            )


def conditioned_journeys(
    models: Sequence[PatientModel],
    wanted: KnownOutcomes,
    first_dose_day: NDArray[np.float64],
    as_of_day: float,
    rng: np.random.Generator,
    patient_id: tuple[str, ...] = (),
) -> PatientJourneys:
    """Each replicate's enrolled patients, replicate after replicate, drawn from its model given their status.

    ``models[r]`` is replicate r's patient model; ``first_dose_day[r, i]`` patient i's first dose in
    replicate r (the same in every replicate for a patient whose status is known); ``models`` is not
    empty. Patients whose status is unknown take an unconditional draw. Raises :class:`ConditioningError`
    naming the patient when a status is (nearly) impossible.
    """
    replicates, n = first_dose_day.shape
    dose = np.where(wanted.conditioned, first_dose_day[0], as_of_day - 1.0)
    schedule = models[0].schedule  # every replicate's model shares the scenario's schedule
    groups = model_groups(models)
    group_models = [models[int(members[0])] for members in groups]
    state = _Rejection(wanted, dose, as_of_day, schedule.sd_min_days, groups, patient_id)
    first = True
    while n and (state.remaining > 0).any():
        sizes = state.round_sizes(first)
        first = False
        for part in _batches(sizes):
            latent, group, patient = _candidates(group_models, part, rng)
            latent = force_scan_offsets(latent, wanted, patient, dose[patient], schedule)
            state.accept(group, patient, latent, models[0])
        state.check()
    if not n:
        return plan_journeys(models[0], models[0].draw(rng, 0))
    journeys = PatientJourneys.concatenate(state.parts).take(state.rows.reshape(-1))
    every = np.tile(np.arange(n), replicates)
    return with_recorded_deaths(journeys, _rows_of(wanted, every), first_dose_day.reshape(-1))


def _batches(sizes: NDArray[np.int64]) -> list[NDArray[np.int64]]:
    """``sizes`` split into consecutive parts (in group then patient order) of at most about twice
    :data:`ROUND_ROWS` candidates each (a part starts while fewer than that many come before it), which bounds
    the memory of a call however many patients or replicates there are."""
    flat = sizes.reshape(-1)
    before = np.cumsum(flat) - flat
    part = before // ROUND_ROWS
    out = []
    for k in np.unique(part[flat > 0]).tolist():
        mine = np.where((part == k) & (flat > 0), flat, 0)
        out.append(mine.reshape(sizes.shape))
    return out


def _candidates(
    models: Sequence[PatientModel], sizes: NDArray[np.int64], rng: np.random.Generator
) -> tuple[LatentOutcomes, NDArray[np.intp], NDArray[np.intp]]:
    """``sizes[g, i]`` candidates of patient i from group g's model ``models[g]``: group by group, patient by patient,
    from one draw of random numbers (the models share their schedule), each group's turned under its model."""
    active = np.flatnonzero(sizes.sum(axis=1) > 0)
    each = sizes[active].sum(axis=1)
    n = sizes.shape[1]
    patients = np.concatenate([np.repeat(np.arange(n), sizes[g]) for g in active.tolist()])
    drawing = [models[g] for g in active.tolist()]
    latent = outcomes_under(drawing, each.tolist(), drawing[0].random_numbers(rng, int(each.sum())))
    return latent, np.repeat(active, each), patients


def _rows_of(wanted: KnownOutcomes, rows: NDArray[np.intp]) -> KnownOutcomes:
    """The statuses of the patients at ``rows``, in that order."""
    return KnownOutcomes(**{f.name: _take(getattr(wanted, f.name), rows) for f in fields(KnownOutcomes)})


def _take(values: Any, rows: NDArray[np.intp]) -> Any:
    """``values[rows]``, or None for a column the file does not give."""
    return None if values is None else values[rows]
