"""Interim looks already held when a forecast starts: their outcomes are given, the rest of the design is forecast.

A look at ``n`` patients happens on the day the first ``n`` enrolled patients have all had their
response judged (:mod:`sim.model.monitoring`). At the as-of date each look is one of three kinds:

* **held**: its outcome is given (``trialsim forecast --look RESPONDERS``, once per look in order).
  Its patients must all be judged by the as-of date, and the outcome one that lets the trial go
  on. The engine skips it; the final rule is the design's own, so a Simon design still needs more
  than ``r`` responders in all.
* **due but not given**: its patients were all judged by the as-of date, so it has happened in
  the trial. Refused: the forecast cannot invent its outcome.
* **still to come**: some of its patients are not yet judged (or not yet enrolled). The engine
  runs it after the as-of date from the conditioned patients, exactly as in a run.

A patient is judged by the as-of date as the look's trigger says (``monitoring.look_trigger``,
docs/model.md). The file shows a progression, a death or an exit (withdrawal or loss to
follow-up): judged under either trigger. Otherwise, under ``assessments`` when the last scan is
the ``look_scans``-th of the schedule or later and no CR/PR awaits its confirmation (a scan missed
before it cannot be told from the file, so a patient may count as judged one scan early), and
under ``judgement_window`` when the response is confirmed or ``judgement_days`` have passed since
the first dose. A CR/PR counts as confirmed when the file says so, or always when
``schedule.confirmation_required`` is false (:func:`counts_as_confirmed`, the conditioning's rule).
Scans are counted by their position in the schedule: a missed scan cannot be seen in the file.
Under ``assessments`` with ``await_confirmation``, an unconfirmed CR/PR cannot be judged from the
file: the engine judges it at its confirmation scan, confirmed or not, and the file does not say
whether that scan came. Such a patient does not make a look due, and does not stop a look given
with ``--look`` (:func:`_undecided`): a look held with one must be given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import TrialsimError
from ..model.trial_model import TrialModel
from ..scenario.model import Scenario
from ..scenario.rules import DesignRule, Exact
from .observed import ObservedPatient, ObservedTrial

__all__ = ["LookError", "RemainingLooks", "check_looks", "counts_as_confirmed", "judged_by"]

_EXITS = ("withdrawal", "lost_to_follow_up")
_RESPONSES = ("CR", "PR")


class LookError(ValueError, TrialsimError):
    """The interim looks given do not fit the design or the observed patients; the message names the look."""


@dataclass(frozen=True)
class RemainingLooks:
    """The design rule with its first ``held`` looks already held: the engine runs the others; decisions unchanged."""

    rule: DesignRule
    held: int

    @property
    def name(self) -> str:
        """The design's ``monitoring.rule``."""
        return self.rule.name

    @property
    def look_sizes(self) -> tuple[int, ...]:
        """The looks still to come."""
        return self.rule.look_sizes[self.held :]

    @property
    def fixed_threshold(self) -> bool:
        """As the design."""
        return self.rule.fixed_threshold

    def stops(self, responders: int, judged: int) -> bool:
        """As the design."""
        return self.rule.stops(responders, judged)

    def succeeds(self, responders: int, analysed: int, test_rejects: bool) -> bool:
        """The design's final rule."""
        return self.rule.succeeds(responders, analysed, test_rejects)

    def threshold(self, analysed: int) -> int:
        """As the design."""
        return self.rule.threshold(analysed)

    def exact(self, orr: float) -> Exact | None:
        """None: the design's closed forms are before any look, not given one."""
        return None

    def words(self) -> str:
        """As the design."""
        return self.rule.words()


def counts_as_confirmed(patient: ObservedPatient, scenario: Scenario) -> bool:
    """Whether the patient's CR/PR counts as confirmed: so recorded, or any CR/PR without required confirmation.

    The one rule the conditioning (:mod:`.state`), the held looks' responders and the judgement
    window read, as the engine does (``schedule.confirmation_required = false`` confirms at the first CR/PR).
    """
    if patient.best_response not in _RESPONSES:
        return False
    return patient.confirmed or not scenario.schedule.confirmation_required


def judged_by(patient: ObservedPatient, as_of: dt.date, scenario: Scenario) -> bool:
    """Whether the patient was judged for a look by the as-of date, under the scenario's trigger (module docstring)."""
    if patient.first_dose_date is None:
        return False
    if patient.progression_date is not None or patient.death_date is not None or patient.treatment_end_reason in _EXITS:
        return True
    m, schedule = scenario.monitoring, scenario.schedule
    if m.look_trigger == "judgement_window":
        confirmed = counts_as_confirmed(patient, scenario)
        return confirmed or (as_of - patient.first_dose_date).days + 1 >= m.window_days
    if patient.last_scan_date is None:
        return False
    scans = round((patient.last_scan_date - patient.first_dose_date).days / schedule.scan_interval_days)
    pending = patient.best_response in _RESPONSES and not counts_as_confirmed(patient, scenario)
    return scans >= m.scans_per_look and not (pending and m.awaits_confirmation)


def _undecided(patient: ObservedPatient, scenario: Scenario) -> bool:
    """An assessed patient whose unconfirmed CR/PR makes the look await its confirmation scan: the file cannot tell."""
    if patient.first_dose_date is None or patient.last_scan_date is None:
        return False
    m, schedule = scenario.monitoring, scenario.schedule
    if m.look_trigger != "assessments" or not m.awaits_confirmation:
        return False
    scans = round((patient.last_scan_date - patient.first_dose_date).days / schedule.scan_interval_days)
    unconfirmed = patient.best_response in _RESPONSES and not counts_as_confirmed(patient, scenario)
    return scans >= m.scans_per_look and unconfirmed


def check_looks(model: TrialModel, observed: ObservedTrial, as_of: dt.date, held: Sequence[int]) -> None:
    """Refuse looks that do not fit: too many, a stop, more responders than confirmed, or a due look not given."""
    sizes = model.rule.look_sizes
    if len(held) > len(sizes):
        raise LookError(f"--look: {len(held)} looks given, but the design has {len(sizes)} interim look(s) {sizes}")
    patients = observed.patients
    for index, responders in enumerate(held):
        n = sizes[index]
        where = f"--look {responders} (look {index + 1}, at {n} patients)"
        if n > len(patients):
            raise LookError(f"{where}: only {len(patients)} patients are enrolled, so it cannot have been held")
        waiting = [
            p for p in patients[:n] if not (judged_by(p, as_of, model.scenario) or _undecided(p, model.scenario))
        ]
        if waiting:
            raise LookError(
                f"{where}: patient {waiting[0].patient_id} was not judged by the as-of date under "
                f"monitoring.look_trigger {model.scenario.monitoring.look_trigger!r} (docs/model.md), and a look "
                "waits for all its patients; leave the look out to have the forecast hold it"
            )
        confirmed = sum(counts_as_confirmed(p, model.scenario) for p in patients[:n])
        if not 0 <= responders <= confirmed:
            raise LookError(
                f"{where}: the first {n} patients in the file have {confirmed} confirmed responses; a look counts "
                "the responses confirmed by its day, so at most that many"
            )
        if model.rule.stops(responders, n):
            raise LookError(
                f"{where}: that many responders stop the trial for futility under monitoring.rule "
                f"{model.rule.name!r}; a stopped trial has nothing left to forecast"
            )
    if len(held) < len(sizes):
        n = sizes[len(held)]
        first = patients[:n]
        if len(first) == n and all(judged_by(p, as_of, model.scenario) for p in first):
            raise LookError(
                f"monitoring: the interim look {len(held) + 1} at {n} patients is due (all {n} were judged by the "
                "as-of date); give its outcome, the responders it counted, with --look"
            )
