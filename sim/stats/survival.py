"""Kaplan-Meier estimation with the conventions of R's survival package, for PFS, OS and DoR.

The product-limit curve comes from ``scipy.stats.ecdf`` on ``scipy.stats.CensoredData``; tied
censorings are at risk at their own time. The variance is Greenwood's. Pointwise 100*conf_level %
bands, as ``survfit(conf.type=...)`` builds them (se = sqrt of the Greenwood sum, the standard error
of -log S):

* ``"log-log"`` (R's default is "log"; ours is "log-log", the oncology convention):
  ``S ** exp(±z se / log S)``, from scipy's ``confidence_interval(method="log-log")``; undefined
  (NaN) where S = 0.
* ``"log"``: ``exp(log S ± z se)``, upper bound capped at 1; NaN where S = 0.
* ``"plain"``: ``S ± z S se`` clipped to [0, 1], scipy's ``method="linear"``; NaN where S = 0.

Quantiles, the median and their confidence limits follow R's ``print.survfit`` (``survmean``): the
q-quantile is the first event time at which the curve is <= 1 - q, read with R's absolute tolerance
``sqrt(machine eps)``; if the curve there equals 1 - q within that tolerance, the quantile is the
midpoint between that time and the next time the curve drops (the curve is flat at 1 - q in
between), and stays that time if the curve never drops again. Unreached gives NaN (R's NA). The
Brookmeyer-Crowley style limits apply the same rule to the bands: the lower limit is where the
*lower* band first reaches 1 - q (it crosses first), the upper limit where the *upper* band does.
R's ``quantile.survfit`` agrees except when the curve ends exactly at 1 - q: there it returns the
midpoint with the last follow-up time, ``print.survfit`` (and this module) the time it got there.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import scipy
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CONF_TYPES",
    "KaplanMeier",
    "SurvivalEstimate",
    "kaplan_meier",
    "km_median",
    "median_follow_up",
]

CONF_TYPES: tuple[str, ...] = ("log-log", "log", "plain")
"""Pointwise band transformations accepted by :func:`kaplan_meier` (R's ``conf.type``)."""

R_TOLERANCE: float = math.sqrt(np.finfo(float).eps)
"""R's tolerance for reading a quantile off a flat stretch (``sqrt(.Machine$double.eps)``)."""

_SCIPY_CI = {"log-log": "log-log", "plain": "linear"}


class SurvivalEstimate(NamedTuple):
    """S(t) at one time with its pointwise confidence limits; unpacks as (estimate, low, high)."""

    estimate: float
    ci_low: float
    ci_high: float


def _as_survival_data(time: ArrayLike, event: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Validate follow-up times (finite, >= 0) and 0/1 event flags of equal length."""
    t = np.asarray(time, dtype=float).reshape(-1)
    e_raw = np.asarray(event).reshape(-1)
    if t.shape != e_raw.shape:
        raise ValueError(f"time and event must have the same length, got {t.size} and {e_raw.size}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("time must be finite and >= 0")
    if e_raw.dtype != np.bool_ and not np.all((e_raw == 0) | (e_raw == 1)):
        raise ValueError("event must be boolean or 0/1 (1 = event, 0 = censored)")
    return t, e_raw.astype(bool)


def _crossing_time(times: NDArray[np.float64], curve: NDArray[np.float64], level: float) -> float:
    """First time ``curve`` is <= level (R tolerance), midpoint rule on a flat stretch at ``level``.

    ``curve`` holds the values at the event ``times``; NaN values are skipped as R skips NA.
    """
    below = np.flatnonzero(curve < level + R_TOLERANCE)  # NaN compares False
    if below.size == 0:
        return math.nan
    first = int(below[0])
    value = curve[first]
    if abs(value - level) < R_TOLERANCE:
        drops = np.flatnonzero(curve[first + 1 :] < value)
        if drops.size:
            return float((times[first] + times[first + 1 + int(drops[0])]) / 2.0)
    return float(times[first])


def _check_q(q: float) -> float:
    """A quantile probability strictly between 0 and 1."""
    q = float(q)
    if not 0.0 < q < 1.0:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    return q


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """A fitted Kaplan-Meier curve, one entry per distinct event time.

    Attributes
    ----------
    time, n_risk, n_event, n_censor
        Distinct event times; patients at risk just before; events there; patients censored since
        the previous event time (up to and including this one), as R's ``summary.survfit``.
    survival, std_err
        S(t) and its Greenwood standard error on the survival scale (``summary.survfit``'s
        ``std.err``; R's ``survfit$std.err`` is ``std_err / survival``).
    ci_low, ci_high
        Pointwise band of type ``conf_type`` at ``conf_level``.
    n, last_time
        Patients in the fit and the largest follow-up time (NaN when n = 0).
    """

    time: NDArray[np.float64]
    n_risk: NDArray[np.int64]
    n_event: NDArray[np.int64]
    n_censor: NDArray[np.int64]
    survival: NDArray[np.float64]
    std_err: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    conf_type: str
    conf_level: float
    n: int
    last_time: float

    @cached_property
    def table(self) -> pd.DataFrame:
        """The survival table: time, n_risk, n_event, n_censor, survival, std_err, ci_low, ci_high."""
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )

    def quantile(self, q: float) -> float:
        """Time by which a share ``q`` has had the event: first time S(t) <= 1 - q (module rule)."""
        return _crossing_time(self.time, self.survival, 1.0 - _check_q(q))

    def quantile_ci(self, q: float) -> tuple[float, float]:
        """Confidence limits of :meth:`quantile`: where the lower, then the upper band reach 1 - q."""
        level = 1.0 - _check_q(q)
        return _crossing_time(self.time, self.ci_low, level), _crossing_time(self.time, self.ci_high, level)

    @cached_property
    def median(self) -> float:
        """Median time to event; NaN when the curve stays above 0.5."""
        return self.quantile(0.5)

    @cached_property
    def median_ci(self) -> tuple[float, float]:
        """(low, high) confidence limits of the median; either may be NaN (unreached)."""
        return self.quantile_ci(0.5)

    def survival_at(self, t: float) -> SurvivalEstimate:
        """S(t) with its band, as ``summary(fit, times=t)``: 1 (band 1, 1) before the first event.

        Beyond the last follow-up time the curve is unknown (NaN) unless it has reached 0.
        """
        t = float(t)
        if self.n == 0 or math.isnan(t):
            return SurvivalEstimate(math.nan, math.nan, math.nan)
        index = int(np.searchsorted(self.time, t, side="right")) - 1
        if index < 0:
            return SurvivalEstimate(1.0, 1.0, 1.0)
        if t > self.last_time and self.survival[index] > 0.0:
            return SurvivalEstimate(math.nan, math.nan, math.nan)
        return SurvivalEstimate(float(self.survival[index]), float(self.ci_low[index]), float(self.ci_high[index]))


def _empty_fit(conf_type: str, conf_level: float) -> KaplanMeier:
    """The fit of no patients: empty table, NaN everywhere."""
    empty = np.empty(0, dtype=float)
    none = np.empty(0, dtype=np.int64)
    return KaplanMeier(empty, none, none, none, empty, empty, empty, empty, conf_type, conf_level, 0, math.nan)


def _risk_sets(
    t: NDArray[np.float64], e: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct event times; patients at risk there, events, and censorings since the previous one."""
    event_times, n_event = np.unique(t[e], return_counts=True)
    n_risk = t.size - np.searchsorted(np.sort(t), event_times, side="left")
    censored_by = np.searchsorted(np.sort(t[~e]), event_times, side="right")
    n_censor = np.diff(censored_by, prepend=0)
    return event_times, n_risk.astype(np.int64), n_event.astype(np.int64), n_censor.astype(np.int64)


def _greenwood_sum(n_risk: NDArray[np.int64], n_event: NDArray[np.int64]) -> NDArray[np.float64]:
    """Cumulative sum of d / (n (n - d)): the variance of -log S; +inf once everybody at risk died."""
    with np.errstate(divide="ignore"):
        return np.cumsum(n_event / (n_risk * (n_risk - n_event).astype(float)))


def _log_band(
    survival: NDArray[np.float64], greenwood: NDArray[np.float64], z: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """R's conf.type="log": exp(log S ± z se), upper capped at 1, NaN where S = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.where(survival > 0.0, np.log(survival), np.nan)
        half = z * np.sqrt(greenwood)
        return np.exp(log_s - half), np.minimum(np.exp(log_s + half), 1.0)


def _scipy_band(curve: Any, conf_type: str, conf_level: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """scipy's pointwise band; its NaNs (S = 1 before any event, S = 0) are intended, so unwarned."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The confidence interval is undefined", category=RuntimeWarning)
        band = curve.confidence_interval(conf_level, method=_SCIPY_CI[conf_type])
    return band.low.probabilities, band.high.probabilities


def kaplan_meier(
    time: ArrayLike, event: ArrayLike, conf_type: str = "log-log", conf_level: float = 0.95
) -> KaplanMeier:
    """Kaplan-Meier fit with Greenwood errors and a pointwise band (see the module docstring).

    Parameters
    ----------
    time
        Follow-up times (>= 0), e.g. months from treatment start.
    event
        1/True for an event, 0/False for censored.
    conf_type
        One of :data:`CONF_TYPES`.
    conf_level
        Two-sided level of the pointwise band and of the quantile limits.

    Returns
    -------
    KaplanMeier; n = 0 or all-censored input gives NaN medians, not an error.
    """
    if conf_type not in CONF_TYPES:
        raise ValueError(f"conf_type must be one of {', '.join(CONF_TYPES)}; got {conf_type!r}")
    conf_level = float(conf_level)
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    t, e = _as_survival_data(time, event)
    if t.size == 0:
        return _empty_fit(conf_type, conf_level)

    curve = scipy.stats.ecdf(scipy.stats.CensoredData(uncensored=t[e], right=t[~e])).sf
    event_times, n_risk, n_event, n_censor = _risk_sets(t, e)
    rows = np.searchsorted(curve.quantiles, event_times)  # exact matches: same data
    survival = curve.probabilities[rows]
    greenwood = _greenwood_sum(n_risk, n_event)
    with np.errstate(invalid="ignore"):
        std_err = survival * np.sqrt(greenwood)  # 0 * inf -> NaN where S = 0, as R
    if conf_type == "log":
        ci_low, ci_high = _log_band(survival, greenwood, float(scipy.stats.norm.isf((1.0 - conf_level) / 2.0)))
    else:
        low, high = _scipy_band(curve, conf_type, conf_level)
        ci_low, ci_high = low[rows], high[rows]
    for column in (event_times, n_risk, n_event, n_censor, survival, std_err, ci_low, ci_high):
        column.setflags(write=False)
    return KaplanMeier(
        time=event_times,
        n_risk=n_risk,
        n_event=n_event,
        n_censor=n_censor,
        survival=survival,
        std_err=std_err,
        ci_low=ci_low,
        ci_high=ci_high,
        conf_type=conf_type,
        conf_level=conf_level,
        n=int(t.size),
        last_time=float(t.max()),
    )


def _product_limit(t: NDArray[np.float64], e: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Event times and S there, with the same floating-point arithmetic as ``scipy.stats.ecdf``.

    scipy computes ``1 - cumsum(d) / n`` when nothing is censored and ``cumprod((n - d) / n)``
    otherwise; matching it keeps :func:`km_median` bit-for-bit equal to :func:`kaplan_meier`.
    """
    times, counts = np.unique(t, return_counts=True)
    deaths = np.bincount(np.searchsorted(times, t[e]), minlength=times.size)
    if e.all():
        survival = 1.0 - np.cumsum(counts) / t.size
    else:
        at_risk = t.size - np.cumsum(counts) + counts
        survival = np.cumprod((at_risk - deaths) / at_risk, dtype=float)
    has_event = deaths > 0
    return times[has_event], survival[has_event]


def km_median(time: ArrayLike, event: ArrayLike) -> float:
    """Kaplan-Meier median alone, the fast path: equal to ``kaplan_meier(time, event).median``."""
    t, e = _as_survival_data(time, event)
    times, survival = _product_limit(t, e)
    return _crossing_time(times, survival, 0.5)


def median_follow_up(time: ArrayLike, event: ArrayLike) -> float:
    """Median follow-up by the reverse Kaplan-Meier method: censorings are the 'events'."""
    t, e = _as_survival_data(time, event)
    return km_median(t, ~e)
