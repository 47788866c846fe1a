"""Interim looks at the response rate in calendar time, whatever the design rule (:mod:`sim.scenario.rules`).

A look happens on the day the first ``n`` enrolled patients have all had their response judged
(confirmed, ruled out by progression, death or exit, or past the judgement horizon). Responders
are the responses confirmed by that day. The rule then continues or stops the trial for futility;
the final decision at the primary analysis follows the same design.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from numpy.typing import NDArray

from ..scenario.rules import DesignRule

__all__ = ["Look", "monitor_process"]


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
