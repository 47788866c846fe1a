"""Interim looks inside the replacement lockstep: each look is settled on the enrollment that completes it.

When non-evaluable patients are replaced (:mod:`.replacement`) all replicates take their k-th
enrollment together. A look of ``n`` patients depends only on the first ``n`` enrolled: their
first doses and the days they are judged (:func:`sim.model.monitoring.judged_days`), so it is
settled, day and verdict, on the step that enrolls its n-th patient, before the next enrollment is
chosen. The SimPy engine's monitor (:func:`sim.model.monitoring.monitor_process`) sets the rules:

* the looks come in order: look ``i`` waits for look ``i - 1`` (its day is at least that one's),
  and none comes after a futility stop or after a look that never happens;
* the look's day is the last of its patients' judgement days, at least its n-th enrollment; its
  responders are the responses confirmed by then; a look due on or after the study end never
  happens (with a pause, enrollment then stays paused);
* with ``pause_enrollment``, from the n-th enrollment to the look no arrival is screened and no
  decision enrolls;
* a futility stop closes recruitment on the look's day: no later arrival is screened, no later
  decision enrolls, and a loss that becomes known after it is replaced by nobody. A loss among the
  look's own patients known on the look's day itself still raises the target, since the SimPy
  engine scheduled it before the look.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .enrollment import LookRecord

__all__ = ["LockstepLooks", "Pause"]

Pause = tuple[NDArray[np.float64], NDArray[np.float64]]
"""Per replicate, the open interval (start, end) in which arrivals are not screened (inf, -inf: none)."""


@dataclass
class LockstepLooks:
    """The looks' state of every replicate while the lockstep runs, and what it found.

    ``judged[r, k]`` and ``confirmed[r, k]`` are days from first dose of patient k of replicate r;
    ``stops(responders, n)`` is the design's verdict for each replicate's count.
    """

    sizes: tuple[int, ...]
    pause: bool
    horizon_day: float
    judged: NDArray[np.float64]
    confirmed: NDArray[np.float64]
    stops: Callable[[NDArray[np.int64], int], NDArray[np.bool_]]

    def __post_init__(self) -> None:
        replicates = self.judged.shape[0]
        self.next_look = np.zeros(replicates, dtype=np.int64)  # index into sizes; len(sizes): no more looks
        self.previous = np.full(replicates, -np.inf)
        self.not_before = np.full(replicates, -np.inf)  # no decision enrolls before this day (a paused look)
        self.closes = np.full(replicates, np.inf)  # no decision enrolls from this day (a futility stop)
        self.records: list[list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]]]
        self.records = [[] for _ in self.sizes]

    def after_enrollment(
        self, chosen: NDArray[np.intp], count: NDArray[np.int64], dose: NDArray[np.float64], day: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], list[Pause]]:
        """Settle the looks that the enrollments of ``chosen`` (now ``count`` patients, on ``day``) complete.

        ``dose[r, k]`` is the first-dose day of patient k of replicate r. Returns the replicates a
        futility stop closed and the new spans in which arrivals are not screened.
        """
        if not self.sizes:
            return np.zeros(0, np.intp), []
        pending = self.next_look[chosen] < len(self.sizes)
        size = np.asarray(self.sizes)[np.minimum(self.next_look[chosen], len(self.sizes) - 1)]
        due = chosen[pending & (count[chosen] == size)]
        if due.size == 0:
            return np.zeros(0, np.intp), []
        n = self.sizes[int(self.next_look[due[0]])]  # sizes increase, so every due replicate is at the same look
        judged_day = (dose[due, :n] + self.judged[due, :n]).max(axis=1)
        look_day = np.maximum(np.maximum(judged_day, day[due]), self.previous[due])
        responders = np.count_nonzero(dose[due, :n] + self.confirmed[due, :n] <= judged_day[:, None], axis=1)
        happens = look_day < self.horizon_day
        looked = due[happens]
        stop = self.stops(responders[happens].astype(np.int64), n)
        self.records[int(self.next_look[due[0]])].append(
            (looked.astype(np.int64), look_day[happens], responders[happens].astype(np.int64), stop)
        )
        self.previous[looked] = look_day[happens]
        self.next_look[due] += 1
        self.next_look[due[~happens]] = len(self.sizes)  # the monitor waits for it forever
        self.next_look[looked[stop]] = len(self.sizes)
        self.closes[looked[stop]] = look_day[happens][stop]
        pauses: list[Pause] = []
        if self.pause:
            end = np.where(happens, look_day, np.inf)
            self.not_before[due] = end
            pauses.append(self._span(due, day[due], end))
        stopped = looked[stop]
        pauses.append(self._span(stopped, self.closes[stopped], np.full(stopped.shape, np.inf)))
        return stopped, pauses

    def _span(self, rows: NDArray[np.intp], start: NDArray[np.float64], end: NDArray[np.float64]) -> Pause:
        """A pause of ``rows`` from ``start`` to ``end``, none for the other replicates."""
        begin, finish = np.full(self.judged.shape[0], np.inf), np.full(self.judged.shape[0], -np.inf)
        begin[rows], finish[rows] = start, end
        return begin, finish

    def look_records(self) -> list[LookRecord]:
        """One :class:`LookRecord` per look size, over the replicates that had it."""
        out = []
        for n, parts in zip(self.sizes, self.records):
            if not parts:
                continue
            replicate, day, responders, stop = (np.concatenate(column) for column in zip(*parts))
            out.append(LookRecord(replicate, day, n, responders, stop))
        return out
