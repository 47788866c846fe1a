"""Enrolled patients' futures drawn from the patient model given what is known of them at the as-of date.

The forecast conditions each dosed patient on their *status* at the as-of date: the best scan
reading so far, whether a response is confirmed, whether progression and death have been
recorded, and whether and why treatment ended (:class:`~sim.model.trial_state.KnownOutcomes`). A
patient's draw is exact with respect to the model by rejection: candidates are drawn from the
unconditional model (:meth:`PatientModel.draw`, then :func:`~sim.model.journey.plan_journeys`), dosed
on the patient's own first-dose day, observed at the as-of date exactly as a data cutoff would be
(:func:`~sim.model.observe.observe`), and the first candidate whose status matches is kept. An accepted
candidate is a draw from the model's law given that status, so a confirmed responder stays one, a
patient progression-free so far gets a progression after the as-of date, and a patient with no
response yet responds later with exactly the model's conditional probability.

Recorded dates: the last scan and progression fall on scan days, and scan offsets are independent
uniforms a priori, so each candidate's offset of that scan is set to the recorded one
(:func:`force_scan_offsets`) and the match requires the recorded days: exact, at little cost. A
recorded death is moved onto its day after acceptance (:func:`with_recorded_deaths`): the patient
has no future, and only the analyses' OS and PFS times read it. See docs/forecast.md.
:func:`sim.model.status_likelihood.status_probabilities` estimates the same dated statuses'
probabilities: the ORR's likelihood.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import NDArray

from ..errors import TrialsimError
from ..scenario.model import Schedule
from .journey import END_REASONS, PatientJourneys, plan_journeys
from .observe import best_response, death_seen, known_status, visible
from .patient_model import LatentOutcomes, PatientModel
from .recist import Response
from .trial_state import KnownOutcomes

__all__ = [
    "ConditioningError",
    "MAX_CANDIDATES",
    "best_scan",
    "candidate_matches",
    "draw_given_status",
    "force_scan_offsets",
    "forced_offsets",
    "status_at",
    "status_journeys",
    "status_matches",
    "with_recorded_deaths",
]

MAX_CANDIDATES = 200_000
"""Candidates drawn for one patient (per ORR, in the likelihood) before the status is declared impossible."""

_ROUND = 64
"""Candidates per patient per round of rejection."""


class ConditioningError(ValueError, TrialsimError):
    """A patient's status is (nearly) impossible under the scenario's model; the message names the patient."""


def best_scan(status: NDArray[np.integer], known: NDArray[np.bool_]) -> NDArray[np.int8]:
    """The best reading among each row's known scans: CR, then PR, SD, PD, NE; NO_SCAN when none."""
    order = np.array([Response.CR, Response.PR, Response.SD, Response.PD, Response.NE], dtype=np.int8)
    out = np.full(status.shape[0], Response.NO_SCAN, dtype=np.int8)
    for code in order[::-1]:
        out[(known & (status == code)).any(axis=1)] = code
    return out


def status_at(
    journeys: PatientJourneys, first_dose_day: NDArray[np.float64], day: float, sd_min_days: float
) -> KnownOutcomes:
    """Each patient's status as the database holds it once everything dated before ``day`` is in.

    An event at time t is dated ``floor(t)``, so it is known at the end of the as-of date exactly
    when t < ``day`` (the as-of day's end); the cutoff is therefore the last float before ``day``.
    Every patient must be dosed before ``day``. The status carries the days (from study start) of
    the last scan, of progression and of death known then (NaN where none).
    """
    cut = float(np.nextafter(day, -np.inf))
    seen = visible(journeys, first_dose_day, cut)
    status = known_status(seen)
    best = best_response(seen, status, sd_min_days)
    dead = death_seen(seen)
    ended = first_dose_day + journeys.treatment_end_day <= cut
    progressed = first_dose_day + journeys.progression_day <= cut
    scans = np.where(seen.known, journeys.scan_day, -np.inf).max(axis=1, initial=-np.inf)
    return KnownOutcomes(
        best_scan=best_scan(status, seen.known),
        confirmed=(best == Response.CR) | (best == Response.PR),
        progressed=progressed,
        dead=dead,
        end_reason=np.where(ended, journeys.treatment_end_reason, -1).astype(np.int8),
        last_scan_day=np.where(np.isfinite(scans), np.floor(first_dose_day + scans), np.nan),
        progression_day=np.where(progressed, np.floor(first_dose_day + journeys.progression_day), np.nan),
        death_day=np.where(dead, np.floor(first_dose_day + journeys.death_day), np.nan),
    )


def status_matches(found: KnownOutcomes, wanted: KnownOutcomes, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Whether each candidate's status equals the status of the patient in ``rows`` it was drawn for.

    Where the patient's last scan or progression is dated, the candidate's must fall on that day;
    where their death is dated, the candidate's last scan and progression must not come after it.
    """
    same = (
        (found.best_scan == wanted.best_scan[rows])
        & (found.confirmed == wanted.confirmed[rows])
        & (found.progressed == wanted.progressed[rows])
        & (found.dead == wanted.dead[rows])
        & (found.end_reason == wanted.end_reason[rows])
    )
    for name in ("last_scan", "progression"):
        day = wanted.day(name)[rows]
        same &= np.isnan(day) | (found.day(name) == day)
    death = wanted.day("death")[rows]
    for name in ("last_scan", "progression"):
        same &= ~(found.day(name) > death)
    return np.asarray(same)


def force_scan_offsets(
    latent: LatentOutcomes, wanted: KnownOutcomes, rows: NDArray[np.intp], dose: NDArray[np.float64], schedule: Schedule
) -> LatentOutcomes:
    """``latent`` with the scan a patient's recorded last scan or progression fell on moved to that day.

    Scan offsets are independent uniforms a priori, so setting the offset of scan k to the one
    the record implies draws from the model given that offset; the match on the dates then
    conditions on the rest exactly. The scan's number is the nearest multiple of the interval
    (the offsets are less than half an interval: checked with the file). With
    ``schedule.unscheduled_progression_share`` > 0 a progression may be found off the schedule,
    so a patient with a recorded progression keeps the model's offsets: the match on the
    recorded day alone, by rejection, conditions on it exactly.
    """
    offsets = forced_offsets(latent.scan_offset_days, wanted, rows, dose, schedule)
    return latent if offsets is latent.scan_offset_days else dataclasses.replace(latent, scan_offset_days=offsets)


def forced_offsets(
    offsets: NDArray[np.int64],
    wanted: KnownOutcomes,
    rows: NDArray[np.intp],
    dose: NDArray[np.float64],
    schedule: Schedule,
) -> NDArray[np.int64]:
    """The scan offsets of :func:`force_scan_offsets`: ``offsets`` itself when no recorded day moves one."""
    original = offsets
    interval = schedule.scan_interval_days
    off_schedule = schedule.unscheduled_progression_share > 0
    progressed = np.isfinite(wanted.day("progression")[rows])
    for name in ("progression", "last_scan"):
        day = wanted.day(name)[rows] - dose
        known = np.isfinite(day) & ~(off_schedule & progressed)
        index = np.flatnonzero(known)
        if index.size == 0:
            continue
        scan = np.rint(day[index] / interval).astype(np.intp)
        usable = (scan >= 1) & (scan <= offsets.shape[1])
        index, scan = index[usable], scan[usable]
        if offsets is original:
            offsets = offsets.copy(order="F")
        offsets[index, scan - 1] = (day[index] - scan * interval).astype(offsets.dtype)
    return offsets


def with_recorded_deaths(
    journeys: PatientJourneys, wanted: KnownOutcomes, dose: NDArray[np.float64]
) -> PatientJourneys:
    """``journeys`` with each recorded death on its recorded day (noon), treatment ended by death with it.

    A dead patient has no future: the death day only dates the OS and PFS events the analyses
    read. The accepted draw already died before the as-of date, after its last scan and progression,
    and still shows its status with the death moved (:func:`candidate_matches`).
    """
    return _moved_deaths(journeys, wanted.day("death"), dose)


def _moved_deaths(
    journeys: PatientJourneys, recorded: NDArray[np.float64], dose: NDArray[np.float64]
) -> PatientJourneys:
    """:func:`with_recorded_deaths` with the recorded death days (from study start; NaN: none) row by row."""
    rows = np.flatnonzero(np.isfinite(recorded))
    if rows.size == 0:
        return journeys
    death = journeys.death_day.copy()
    death[rows] = recorded[rows] + 0.5 - dose[rows]
    by_death = journeys.treatment_end_reason == END_REASONS.index("death")
    end = np.where(by_death, np.minimum(death, journeys.treatment_end_day), journeys.treatment_end_day)
    return dataclasses.replace(
        journeys,
        death_day=death,
        treatment_end_day=end,
        response_closed_day=np.minimum(journeys.response_closed_day, death),
    )


def candidate_matches(
    candidates: PatientJourneys,
    wanted: KnownOutcomes,
    rows: NDArray[np.intp],
    dose: NDArray[np.float64],
    as_of_day: float,
    sd_min_days: float,
) -> NDArray[np.bool_]:
    """Whether each candidate, drawn for the patient in ``rows`` and dosed on ``dose``, shows that patient's status
    at the as-of date: as drawn, and again with a recorded death moved onto its day.

    Moving a death later can carry it past the candidate's loss to follow-up or the end of its
    survival follow-up, where no death is recorded: such a candidate cannot have the patient's
    recorded death, and is rejected (it once left a dead patient alive in one replicate in twenty).
    """
    ok = status_matches(status_at(candidates, dose, as_of_day, sd_min_days), wanted, rows)
    recorded = wanted.day("death")[rows]
    moved = np.flatnonzero(ok & np.isfinite(recorded))
    if moved.size:
        shifted = _moved_deaths(candidates.take(moved), recorded[moved], dose[moved])
        ok[moved] = status_matches(status_at(shifted, dose[moved], as_of_day, sd_min_days), wanted, rows[moved])
    return ok


def status_journeys(model: PatientModel, latent: LatentOutcomes, days: float) -> PatientJourneys:
    """The journeys of ``latent`` planned only as far as a status ``days`` after first dose needs.

    Every patient shows the status of the full plan up to ``days`` (:meth:`PatientModel.windowed`);
    rejection matches on these and plans in full only the candidates it keeps.
    """
    window = model.windowed(days)
    return plan_journeys(window, latent.first(window.max_cycles, window.max_scans))


def draw_given_status(
    model: PatientModel,
    wanted: KnownOutcomes,
    first_dose_day: NDArray[np.float64],
    as_of_day: float,
    rng: np.random.Generator,
    patient_id: tuple[str, ...] = (),
) -> PatientJourneys:
    """One journey per patient, drawn from the model given the patient's status at ``as_of_day``.

    Patients whose status is unknown (``wanted.conditioned`` false) take the first candidate
    drawn for them, an unconditional draw. Raises :class:`ConditioningError` naming the patient
    when no candidate matches in :data:`MAX_CANDIDATES` draws.
    """
    blocks: list[tuple[NDArray[np.intp], PatientJourneys]] = []
    # an unconditioned row's status is never compared; any day before the cutoff lets it see the row
    dose = np.where(wanted.conditioned, first_dose_day, as_of_day - 1.0)
    pending = np.arange(dose.shape[0])
    days = as_of_day - dose.min(initial=as_of_day)  # what the statuses need; the kept are planned in full
    drawn = 0
    while pending.size:
        rows = np.repeat(pending, np.where(wanted.conditioned[pending], _ROUND, 1))
        latent = force_scan_offsets(model.draw(rng, rows.size), wanted, rows, dose[rows], model.schedule)
        candidates = status_journeys(model, latent, days)
        matching = candidate_matches(candidates, wanted, rows, dose[rows], as_of_day, model.schedule.sd_min_days)
        ok = np.flatnonzero(matching | ~wanted.conditioned[rows])
        patients, first = np.unique(rows[ok], return_index=True)  # rows ascend: the earliest candidate wins
        blocks.append((patients, plan_journeys(model, latent.take(ok[first]))))
        pending = np.setdiff1d(pending, patients)
        drawn += _ROUND
        if pending.size and drawn >= MAX_CANDIDATES:
            who = patient_id[pending[0]] if patient_id else str(pending[0])
            raise ConditioningError(
                f"patient {who}: no draw of the scenario's patient model in {MAX_CANDIDATES:,} matches the status "
                "recorded at the as-of date; check the row, or the scenario's efficacy and safety assumptions"
            )
    if not blocks:
        return plan_journeys(model, model.draw(rng, 0))
    order = np.argsort(np.concatenate([patients for patients, _ in blocks]), kind="stable")
    journeys = PatientJourneys.concatenate([journeys for _, journeys in blocks]).take(order)
    return with_recorded_deaths(journeys, wanted, dose)
