"""The likelihood of the enrolled patients' statuses: P(status at the as-of date | patient model), by simulation.

For each patient with a known status, candidates are drawn from each model (an ORR, or an ORR and
a PFS hazard ratio, per model) and counted when they show that status at the as-of date, exactly
as :func:`~sim.model.conditioning.draw_given_status` accepts them. The models share their random
numbers, so the estimates vary smoothly from one model to the next, and each patient's two
halves are independent, so the estimate's own Monte Carlo error can be measured.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .conditioning import MAX_CANDIDATES, ConditioningError, candidate_matches, forced_offsets
from .journey import plan_journeys
from .patient_model import LatentOutcomes, PatientModel
from .trial_state import KnownOutcomes

__all__ = ["LIKELIHOOD_MATCHES", "NEGLIGIBLE", "Spread", "StatusLikelihood", "serially", "status_probabilities"]

Spread = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]
"""Runs ``function(*arguments)`` for each tuple of arguments and returns the results in order: :func:`serially`,
or on a run's workers (:meth:`sim.runs.dispatch.Dispatch.map`)."""


def serially(function: Callable[..., Any], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Each call in turn, in this process (:data:`Spread`)."""
    return [function(*a) for a in arguments]


LIKELIHOOD_MATCHES = 400
"""Matches the likelihood draws for at each ORR (relative SE about 5%), within :data:`MAX_CANDIDATES`."""

NEGLIGIBLE = 0.1
"""A patient's likelihood below this share of its peak does not need the likelihood's target of matches."""


@dataclass(frozen=True)
class StatusLikelihood:
    """Matching draws per patient and model, from two independent halves of each patient's draws.

    ``matches`` has shape (2, patients, models) and ``draws`` (2, patients); a patient whose
    status is not known has one match in one draw (probability 1). The halves let the caller
    measure the estimate's own Monte Carlo error.
    """

    matches: NDArray[np.float64]
    draws: NDArray[np.float64]

    def estimate(self, half: int | None = None) -> NDArray[np.float64]:
        """P(status | model) per patient and model: both halves pooled, or one half."""
        if half is None:
            return np.asarray(self.matches.sum(axis=0) / self.draws.sum(axis=0)[:, None])
        return np.asarray(self.matches[half] / self.draws[half][:, None])


def _match_counts(
    models: Sequence[PatientModel],
    wanted: KnownOutcomes,
    row: int,
    dose: float,
    as_of_day: float,
    rng: np.random.Generator,
    size: int,
) -> NDArray[np.float64]:
    """Candidates among ``size`` whose status matches patient ``row``'s, per model, on common random numbers.

    The models share their safety and schedule, so one set of draws serves all: its course of
    treatment (AEs, exits, scan offsets) is turned once, and only what depends on the efficacy is
    turned per model; and only the cycles and scans before the as-of date are planned
    (:meth:`PatientModel.windowed`), which leaves every candidate's status as it is.
    """
    base = models[0]
    if any(
        (m.safety, m.schedule, m.max_cycles, m.max_scans)
        != (base.safety, base.schedule, base.max_cycles, base.max_scans)
        for m in models
    ):
        raise ValueError("the models of one likelihood must share their safety, schedule and horizon")
    seed = int(rng.integers(2**63))
    each = np.full(size, row)
    days = np.full(size, dose)
    window = base.windowed(as_of_day - dose)
    draws = base.random_numbers(np.random.default_rng(seed), size).first(window.max_cycles, window.max_scans)
    course = window.course(draws)
    course["scan_offset_days"] = forced_offsets(draws.offsets, wanted, each, days, base.schedule)
    out = np.zeros(len(models))
    for column, model in enumerate(models):  # planning reads only the schedule and widths, which they share
        journeys = plan_journeys(window, LatentOutcomes(**model.efficacy_outcomes(draws), **course))
        matching = candidate_matches(journeys, wanted, each, days, as_of_day, model.schedule.sd_min_days)
        out[column] = np.count_nonzero(matching)
    return out


def _short(matches: NDArray[np.float64], target: float) -> float:
    """The fewest matches over the models that need ``target``: 0 while a row of models has a hole to fill
    (:func:`_holes`), else the fewest among those with at least :data:`NEGLIGIBLE` of the most.

    ``matches`` has one row per row of models (one row, or one per PFS hazard ratio). Where a
    patient's likelihood is below :data:`NEGLIGIBLE` of its peak, that patient alone has already
    cut the posterior tenfold; those models keep the draws the others needed, rather than up to
    the cap.
    """
    if not (matches > 0).any():
        return 0.0
    if any(_holes(row, matches.max()).size for row in matches):
        return 0.0
    return float(matches[matches >= NEGLIGIBLE * matches.max()].min())


def _holes(row: NDArray[np.float64], most: float) -> NDArray[np.intp]:
    """Models of ``row`` without a match between its first and last with at least :data:`NEGLIGIBLE` of ``most``
    matches (the grid's most), or with any match when ``most`` is under 1 / NEGLIGIBLE.

    Zeros outside that span are the model's own limits (a confirmed responder at ORR 0) or its
    thin tails (an ORR near its ceiling, a PFS hazard ratio at which the status is rare), where
    the patient alone cuts the posterior tenfold: interpolating through a zero there changes
    little, and drawing on to fill it could take every candidate up to the cap. A row without
    such a span (the whole row thin) has none.
    """
    hit = np.flatnonzero(row >= max(NEGLIGIBLE * most, 1.0))
    if hit.size == 0:
        return hit
    return hit[0] + np.flatnonzero(row[hit[0] : hit[-1] + 1] == 0)


def status_probabilities(
    models: Sequence[PatientModel],
    wanted: KnownOutcomes,
    first_dose_day: NDArray[np.float64],
    as_of_day: float,
    seed: int,
    target: int = LIKELIHOOD_MATCHES,
    cap: int = MAX_CANDIDATES,
    batch: int = 2_000,
    patient_id: tuple[str, ...] = (),
    rows: int = 1,
    spread: Spread = serially,
) -> StatusLikelihood:
    """P(each patient's status at ``as_of_day`` | model), one column per model: the likelihood of the statuses.

    Each patient gets their own streams, two independent halves spawned from ``seed``, so their
    estimates' errors are independent; within a patient the models share their random numbers,
    so the estimates vary smoothly from one model to the next. Each half draws until no row of
    models has a hole (:func:`_holes`) and every model with at least :data:`NEGLIGIBLE` of the
    patient's peak has ``target / 2`` (relative SE about ``1 / sqrt(target)`` pooled), or ``cap / 2``
    candidates: the cap of :func:`draw_given_status`. ``models`` may be a grid of ``rows`` rows
    laid out row after row (ORRs along a row, a PFS hazard ratio per row). ``spread`` runs the
    patients' halves (:data:`Spread`); having their own streams, they give the same estimates
    wherever they run. Raises :class:`ConditioningError` naming the patient when no model
    matches, or when a hole is left (one the interpolation would fill with zero).
    """
    k, n = len(models), first_dose_day.shape[0]
    matches, draws = np.ones((2, n, k)), np.ones((2, n))
    streams = np.random.SeedSequence(seed).spawn(n)
    conditioned = np.flatnonzero(wanted.conditioned).tolist()
    halves = [(row, half) for row in conditioned for half in (0, 1)]
    children = {row: streams[row].spawn(2) for row in conditioned}
    stop = _Stop(target, cap, batch, rows)
    calls = [
        (models, wanted, row, float(first_dose_day[row]), as_of_day, children[row][half], stop) for row, half in halves
    ]
    found = spread(_half_counts, calls)
    for (row, half), (counts, drawn) in zip(halves, found):
        matches[half, row], draws[half, row] = counts, drawn
    for row in conditioned:
        who = patient_id[row] if patient_id else str(row)
        _check_support(matches[:, row].sum(axis=0).reshape(rows, -1), who, models, cap)
    return StatusLikelihood(matches, draws)


@dataclass(frozen=True)
class _Stop:
    """When a half stops drawing: ``target`` matches (both halves), ``cap`` draws (both), in batches of ``batch``
    at least, over a grid of ``rows`` rows of models."""

    target: int
    cap: int
    batch: int
    rows: int


def _half_counts(
    models: Sequence[PatientModel],
    wanted: KnownOutcomes,
    row: int,
    dose: float,
    as_of_day: float,
    stream: np.random.SeedSequence,
    stop: _Stop,
) -> tuple[NDArray[np.float64], int]:
    """One half of patient ``row``'s draws (:func:`status_probabilities`): matches per model, and the draws."""
    rng = np.random.default_rng(stream)
    found, drawn, size = np.zeros(len(models)), 0, min(stop.batch, stop.cap // 2)
    while size > 0:
        found += _match_counts(models, wanted, row, dose, as_of_day, rng, size)
        drawn += size
        fewest = _short(found.reshape(stop.rows, -1), stop.target)
        if fewest >= stop.target / 2:
            break
        wanted_more = drawn * (stop.target / 2 / max(fewest, 1.0) - 1.0)
        size = int(min(stop.cap // 2 - drawn, max(stop.batch, math.ceil(wanted_more))))
    return found, drawn


def _check_support(found: NDArray[np.float64], who: str, models: Sequence[PatientModel], cap: int) -> None:
    """Refuse a status no model matches, or with a hole in a row of models (:func:`_holes`)."""
    if not (found > 0).any():
        raise ConditioningError(
            f"patient {who}: no draw of the scenario's patient model in {cap:,} matches the status "
            "recorded at the as-of date at any ORR; check the row, or the scenario's efficacy and safety assumptions"
        )
    for r, row in enumerate(found):
        holes = _holes(row, found.max())
        if holes.size:
            orr = models[r * found.shape[1] + int(holes[0])].efficacy.orr
            raise ConditioningError(
                f"patient {who}: no draw of the scenario's patient model in {cap:,} matches the status "
                f"recorded at the as-of date at an ORR of {orr:.3f}, though some do at lower and higher ORRs; "
                "check the row, or the scenario's efficacy and safety assumptions"
            )
