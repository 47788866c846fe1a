"""Interim looks at the response rate in calendar time, whatever the design rule (:mod:`sim.scenario.rules`).

A look happens on the day the first ``n`` enrolled patients have all been *judged* for it; its
responders are the responses confirmed by that day. The rule then continues or stops the trial
for futility; the final decision at the primary analysis follows the same design.

When a patient is judged is the protocol's stage-1 trigger (``monitoring.look_trigger``,
:class:`LookTrigger`), in days from first dose:

* ``assessments`` (what protocols write): at the ``look_scans``-th post-baseline scan done, or
  when assessment stops first (progression, death, withdrawal, loss, end of follow-up). A CR/PR
  seen by then whose confirmation is still to come is a *pending response*: with
  ``await_confirmation`` the patient is judged at the confirmation scan, the first scan done at
  least ``confirmation_min_days`` after the first responding one (or when assessment stops
  first), whether it confirms or not; with ``non_responder`` nobody waits, and the response
  counts only if it is confirmed by the look's day.
* ``judgement_window``: at the first of a confirmed response, the end of assessment, or
  ``judgement_days`` after first dose (a response-evaluation window).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..arrays import or_inf
from ..scenario.model import Monitoring, Schedule
from ..scenario.rules import DesignRule
from .journey import PatientJourneys
from .recist import Response, responding_scan

__all__ = ["Look", "LookTrigger", "judged_days", "monitor_process"]


@dataclass(frozen=True)
class LookTrigger:
    """When a patient counts as judged for an interim look (module docstring), from the scenario."""

    kind: str
    scans: int
    await_confirmation: bool
    window_days: float
    confirmation_required: bool
    confirmation_min_days: float

    @classmethod
    def from_scenario(cls, monitoring: Monitoring, schedule: Schedule) -> LookTrigger:
        """The trigger of a scenario's ``monitoring`` table on its ``schedule``."""
        return cls(
            kind=monitoring.look_trigger,
            scans=monitoring.scans_per_look,
            await_confirmation=monitoring.awaits_confirmation,
            window_days=float(monitoring.window_days),
            confirmation_required=schedule.confirmation_required,
            confirmation_min_days=float(schedule.confirmation_min_days),
        )


def judged_days(journeys: PatientJourneys, trigger: LookTrigger) -> NDArray[np.float64]:
    """Days from first dose on which each patient is judged for an interim look (module docstring)."""
    stopped = journeys.response_closed_day
    if trigger.kind == "judgement_window":
        return np.minimum(np.minimum(journeys.confirmation_day, stopped), trigger.window_days)
    scan_day, status = journeys.scan_day, journeys.scan_status
    done = status != Response.NO_SCAN
    assessed = or_inf(scan_day, done & (np.cumsum(done, axis=1) == trigger.scans)).min(axis=1, initial=np.inf)
    judged = assessed
    if trigger.await_confirmation and trigger.confirmation_required:
        first = or_inf(scan_day, responding_scan(status)).min(axis=1, initial=np.inf)
        pending = (first <= assessed) & (journeys.confirmation_day > assessed)
        after = done & (scan_day > first[:, None]) & (scan_day - first[:, None] >= trigger.confirmation_min_days)
        confirming_scan = or_inf(scan_day, after).min(axis=1, initial=np.inf)
        judged = np.where(pending, np.maximum(assessed, confirming_scan), assessed)
    return np.minimum(judged, stopped)


@dataclass(frozen=True)
class Look:
    """One interim look: when, on how many judged patients, how many responders, and the verdict."""

    day: float
    patients: int
    responders: int
    stop: bool


def monitor_process(
    env: simpy.Environment,
    rule: DesignRule,
    pause: bool,
    enrolled: Callable[[int], simpy.Event | None],
    judged_and_confirmed: Callable[[int], tuple[NDArray[np.float64], NDArray[np.float64]]],
    hold: Callable[[bool], None],
    close: Callable[[], None],
    record: Callable[[Look], None],
) -> Generator[simpy.Event, Any, None]:
    """SimPy process running the scenario's looks in calendar time.

    ``enrolled(n)`` gives an event that fires when the n-th patient is enrolled (None if already);
    ``judged_and_confirmed(n)`` the judgement and confirmation days (from study start) of the first
    n patients; with ``pause``, ``hold(True/False)`` pauses enrollment while a look waits, then
    resumes it; ``close()`` stops recruitment.
    """
    for n in rule.look_sizes:
        wait = enrolled(n)
        if wait is not None:
            yield wait
        if pause:
            hold(True)
        judged, confirmed = judged_and_confirmed(n)
        day = float(judged.max())
        if day > env.now:
            yield env.timeout(day - env.now)
        responders = int(np.count_nonzero(confirmed <= day))
        stop = rule.stops(responders, n)
        record(Look(day=env.now, patients=n, responders=responders, stop=stop))
        if pause:
            hold(False)
        if stop:
            close()
            return
