"""Screening arrivals (:mod:`sim.model.recruitment`): hand-built calendar rules and Poisson counts within 4 SE."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import simpy

from sim.model.recruitment import CalendarRates, SiteRates, arrival_days, screening_arrivals, site_rates
from sim.scenario.model import CalendarPeriod, Recruitment, Site
from sim.units import DAYS_PER_MONTH

R = 4000
STUDY_START = dt.date(2025, 11, 1)
NO_CALENDAR = CalendarRates((), (), ())


def _within_4_se(estimate: float, truth: float, se: float) -> bool:
    return abs(estimate - truth) <= 4 * se


def _recruitment(*periods: CalendarPeriod) -> Recruitment:
    site = Site(name="Lead centre", activation=dt.date(2025, 11, 15), screened_per_month=2.2)
    return Recruitment(
        sites=(site,), screen_failure_probability=0.3, screening_days=(7, 28),
        enrollment_to_first_dose_days=(1, 7), periods=periods,
    )


def test_calendar_period_covers_its_whole_end_day() -> None:
    festival = CalendarPeriod(name="Spring Festival", start=dt.date(2026, 2, 7), end=dt.date(2026, 3, 1), rate_factor=0.3)
    calendar = CalendarRates.from_recruitment(_recruitment(festival), STUDY_START)
    # 2026-02-07 is day 98 (30 + 31 + 31 + 6); 2026-03-01 is day 120, covered to its end
    assert (calendar.starts, calendar.ends, calendar.factors) == ((98.0,), (121.0,), (0.3,))
    days = np.array([97.9, 98.0, 120.0, 120.99, 121.0])
    np.testing.assert_array_equal(calendar.factors_at(days), [1.0, 0.3, 0.3, 0.3, 1.0])


def test_overlapping_periods_multiply_and_the_peak_bounds_them() -> None:
    calendar = CalendarRates((0.0, 5.0), (10.0, 15.0), (0.5, 0.4))
    np.testing.assert_allclose(calendar.factors_at(np.array([2.0, 7.0, 12.0, 15.0])), [0.5, 0.2, 0.4, 1.0], rtol=1e-15)
    assert calendar.peak == 1.0
    assert CalendarRates((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (2.0, 3.0, 0.5)).peak == 6.0
    assert NO_CALENDAR.peak == 1.0


def test_ramp_up_share() -> None:
    rates = SiteRates(index=0, per_day=1.0, activation_day=10.0, ramp_days=20.0)
    np.testing.assert_array_equal(rates.ramps(np.array([5.0, 10.0, 15.0, 20.0, 30.0, 40.0])), [0, 0, 0.25, 0.5, 1, 1])
    flat = SiteRates(index=0, per_day=1.0, activation_day=10.0, ramp_days=0.0)
    np.testing.assert_array_equal(flat.ramps(np.array([5.0, 10.0, 40.0])), [1, 1, 1])


def test_site_rates_by_hand() -> None:
    site = Site(name="Lead centre", activation=dt.date(2025, 11, 15), screened_per_month=2.2, ramp_up_months=2.0)
    rates = site_rates(site, 3, STUDY_START, 0.0, 0.0, np.random.default_rng(0))
    assert rates == SiteRates(index=3, per_day=2.2 / DAYS_PER_MONTH, activation_day=14.0, ramp_days=2 * DAYS_PER_MONTH)
    # a site activated before recruitment opens starts screening at the opening, but its ramp-up
    # runs from its own activation (day 14): six days of a 60.875-day ramp are behind it on day 20
    early = site_rates(site, 3, STUDY_START, 20.0, 0.0, np.random.default_rng(0))
    assert (early.activation_day, early.ramp_start_day) == (20.0, 14.0)
    np.testing.assert_allclose(early.ramps(np.array([20.0, 14.0 + 2 * DAYS_PER_MONTH])), [6 / (2 * DAYS_PER_MONTH), 1.0], rtol=1e-15)


def test_rate_multiplier_has_mean_one_and_the_given_cv() -> None:
    """Gamma(k, 1/k) with k = 1/cv^2: mean 1, variance cv^2, fourth central moment cv^4 (3 + 6/k)."""
    cv, k = 0.3, 1 / 0.3**2
    site = Site(name="Lead centre", activation=dt.date(2025, 11, 15), screened_per_month=2.2)
    rng = np.random.default_rng(11)
    m = np.array([site_rates(site, 0, STUDY_START, 0.0, cv, rng).per_day for _ in range(R)]) / (2.2 / DAYS_PER_MONTH)
    assert _within_4_se(m.mean(), 1.0, cv / math.sqrt(R))
    assert _within_4_se(m.var(ddof=1), cv**2, cv**2 * math.sqrt((2 + 6 / k) / R))


def _counts(rates: SiteRates, calendar: CalendarRates, close_day: float, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [arrival_days(rates, calendar, close_day, rng) for _ in range(R)]


def test_arrival_count_is_poisson() -> None:
    rates = SiteRates(index=0, per_day=0.5, activation_day=0.0, ramp_days=0.0)
    runs = _counts(rates, NO_CALENDAR, 100.0, seed=3)
    n = np.array([a.size for a in runs])
    mu = 50.0
    assert _within_4_se(n.mean(), mu, math.sqrt(mu / R))
    # Poisson variance equals the mean; the sample variance's SE uses mu4 - mu^2 = mu + 2 mu^2
    assert _within_4_se(n.var(ddof=1), mu, math.sqrt((mu + 2 * mu**2) / R))
    for a in runs[:50]:
        assert (np.diff(a) >= 0).all() and (a >= 0).all() and (a < 100).all()


def test_calendar_factors_thin_the_arrivals() -> None:
    """Factor 0.3 on days [20, 40) and 2 on [60, 80): mean 0.5 (60 + 0.3*20 + 2*20) = 53 arrivals."""
    rates = SiteRates(index=0, per_day=0.5, activation_day=0.0, ramp_days=0.0)
    calendar = CalendarRates((20.0, 60.0), (40.0, 80.0), (0.3, 2.0))
    runs = _counts(rates, calendar, 100.0, seed=5)
    n = np.array([a.size for a in runs])
    assert _within_4_se(n.mean(), 53.0, math.sqrt(53.0 / R))
    pooled = np.concatenate(runs)
    # given the total, each arrival falls in a stretch with probability proportional to its mass
    for lo, hi, mass in ((0, 20, 20), (20, 40, 6), (40, 60, 20), (60, 80, 40), (80, 100, 20)):
        p = mass / 106
        share = np.mean((pooled >= lo) & (pooled < hi))
        assert _within_4_se(share, p, math.sqrt(p * (1 - p) / pooled.size)), (lo, hi)


def test_ramp_up_gets_a_third_of_the_arrivals_when_it_lasts_half_the_span() -> None:
    """Ramp over [10, 60), full rate on [60, 110): masses 25 and 50 per unit rate, so a share of 1/3."""
    rates = SiteRates(index=0, per_day=0.4, activation_day=10.0, ramp_days=50.0)
    runs = _counts(rates, NO_CALENDAR, 110.0, seed=7)
    n = np.array([a.size for a in runs])
    assert _within_4_se(n.mean(), 0.4 * 75, math.sqrt(0.4 * 75 / R))
    pooled = np.concatenate(runs)
    assert pooled.min() >= 10.0 and pooled.max() < 110.0
    assert _within_4_se(np.mean(pooled < 60.0), 1 / 3, math.sqrt(2 / 9 / pooled.size))
    # within the ramp the density rises linearly: P(arrival < 35 | in the ramp) = 1/4
    ramp = pooled[pooled < 60.0]
    assert _within_4_se(np.mean(ramp < 35.0), 0.25, math.sqrt(0.25 * 0.75 / ramp.size))


def test_no_arrivals_without_time_to_screen() -> None:
    rates = SiteRates(index=0, per_day=0.5, activation_day=100.0, ramp_days=0.0)
    rng = np.random.default_rng(0)
    assert arrival_days(rates, NO_CALENDAR, 100.0, rng).size == 0
    assert arrival_days(rates, NO_CALENDAR, 90.0, rng).size == 0


def test_screening_arrivals_skips_arrivals_while_paused() -> None:
    """Enrollment is full on days [2.5, 4.5): the arrivals on days 3 and 4 are lost, not delayed."""
    env = simpy.Environment()
    state: dict[str, simpy.Event | None] = {"reopen": None}

    def paused() -> simpy.Event | None:
        return state["reopen"]

    def full_between(start: float, end: float):
        yield env.timeout(start)
        state["reopen"] = env.event()
        yield env.timeout(end - start)
        reopen, state["reopen"] = state["reopen"], None
        reopen.succeed()

    seen: list[tuple[float, int]] = []
    env.process(full_between(2.5, 4.5))
    env.process(screening_arrivals(env, np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.5]), 7, paused, lambda s, day: seen.append((day, s))))
    env.run()
    assert seen == [(1.0, 7), (2.0, 7), (5.0, 7), (6.5, 7)]
