"""Calibration to summary statistics: grid-corrected exact solves, recovery, and pinned what-to-try errors."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from sim.calibration import (
    CalibrationError,
    CalibrationTargets,
    Landmark,
    calibrate,
    expected_km_median,
    interpolated_median,
    observe_cohort,
    source_scenario,
)
from sim.distributions import Exponential, Weibull
from sim.stats.survival import kaplan_meier, km_median

COHORT = 10_000  # small cohorts keep these tests fast; the fits are exact up to one patient's step


def test_interpolated_median_joins_the_curve_linearly() -> None:
    fit = kaplan_meier([1.0, 2.0, 4.0], [1, 1, 1])  # S = 2/3, 1/3, 0
    assert fit.median == 2.0
    assert interpolated_median(fit) == pytest.approx(1.5)
    assert math.isnan(interpolated_median(kaplan_meier([1.0, 2.0], [0, 0])))


@pytest.mark.parametrize("n", [11, 12])
def test_expected_km_median_is_the_mean_median_of_n_patients(n: int) -> None:
    """Scan-like data (clusters of tied days) through the project's KM median, odd and even n."""
    rng = np.random.default_rng(3)
    population = 42.0 * rng.geometric(0.35, 5_000) + rng.integers(-3, 4, 5_000)
    truth = kaplan_meier(population, np.ones(population.size))
    samples = rng.choice(population, size=(4_000, n))
    medians = np.array([km_median(row, np.ones(n)) for row in samples])
    se = medians.std(ddof=1) / math.sqrt(medians.size)
    assert abs(expected_km_median(truth, n) - medians.mean()) <= 4 * se


def test_exponential_median_pfs_alone_is_solved_on_the_scan_grid() -> None:
    """One target, one parameter: the observed (scan-dated) median is met; the latent one is shorter."""
    targets = CalibrationTargets(scan_weeks=6, median_pfs_months=2.8, median_os_months=9.0)
    result = calibrate(targets, family="exponential", cohort_size=COHORT)
    fit = {f.name: f for f in result.fits}
    assert fit["median_pfs_months"].achieved == pytest.approx(2.8, abs=0.01)
    assert abs(fit["median_pfs_months"].miss) < 1e-3
    assert isinstance(result.efficacy.pfs, Exponential)
    assert result.efficacy.pfs.median < 2.8 - 0.2  # progression is dated at the next scan
    assert result.efficacy.os_median_months == 9.0  # OS median only: the engine's exact solve
    assert result.os_method == "median"
    assert result.efficacy.orr == 0.15  # not a target: kept from the base scenario, and said so
    assert any(note.startswith("orr 0.15 kept from scenario base") for note in result.notes)


def test_exponential_dcr_alone_is_the_share_free_at_the_first_scan() -> None:
    result = calibrate(CalibrationTargets(scan_weeks=8, dcr=0.6), family="exponential", cohort_size=COHORT)
    assert result.fits[0].achieved == pytest.approx(0.6, abs=2 / COHORT)
    first_scan = 56 / (365.25 / 12)  # months; windows of +/- 7 days average out
    assert float(result.efficacy.pfs.sf(first_scan)) == pytest.approx(0.6, abs=0.01)


def test_os_landmark_alone_fits_an_exponential_post_progression_survival() -> None:
    targets = CalibrationTargets(scan_weeks=6, dcr=0.65, median_pfs_months=3.9, os_at=(Landmark(12, 0.45),))
    result = calibrate(targets, cohort_size=COHORT)
    fit = {f.name: f for f in result.fits}
    assert result.os_method == "fitted"
    assert isinstance(result.efficacy.post_progression_survival, Exponential)
    assert result.efficacy.os_median_months is None
    assert fit["os_at_12m"].achieved == pytest.approx(0.45, abs=1e-3)
    assert max(abs(f.miss) for f in result.fits) < 2e-3


def test_three_pfs_targets_recover_the_weibull_that_made_them(base) -> None:
    """Least squares with more targets than parameters: statistics of a known Weibull give it back."""
    truth = dataclasses.replace(base.efficacy, pfs=Weibull(3.0, 1.3))
    seen = observe_cohort(source_scenario(base, truth, 56, True, 60.0), COHORT, 5)
    targets = CalibrationTargets(
        scan_weeks=8,
        dcr=seen.dcr,
        median_pfs_months=seen.median("pfs", None),
        pfs_at=(Landmark(6.0, seen.rate_at("pfs", 6.0)),),
        median_os_months=12.0,
    )
    result = calibrate(targets, cohort_size=COHORT, seed=5)
    # seed to seed the fitted shape spreads by about 0.025 (1.28 to 1.34 over seeds 1, 2, 3 and 5): 4 of those
    assert result.efficacy.pfs.median == pytest.approx(3.0, rel=0.02)
    assert result.efficacy.pfs.shape == pytest.approx(1.3, abs=0.1)
    assert [f.name for f in result.fits] == ["dcr", "median_pfs_months", "pfs_at_6m", "median_os_months"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"scan_weeks": 6.1},
            "scan_weeks must be a number of weeks in [0.5, 52] that makes whole days (such as 6 or 8), got 6.1",
        ),
        ({"orr": 14.7}, "orr must be a proportion strictly between 0 and 1 (0.147 for 14.7%), got 14.7"),
        ({"orr": 0.3, "dcr": 0.2}, "dcr (0.2) must not be below orr (0.3): responders are part of disease control"),
        (
            {"median_pfs_months": 4.0, "median_os_months": 4.0},
            "median_os_months (4) must exceed median_pfs_months (4): OS includes PFS",
        ),
        ({"os_at": (Landmark(12, 1.2),)}, "os_at needs MONTHS:RATE with MONTHS > 0 and 0 < RATE < 1, got 12:1.2"),
        (
            {"pfs_at": (Landmark(6, 0.4),), "os_at": (Landmark(6, 0.3),)},
            "os_at 6:0.3 must not be below pfs_at 6:0.4: PFS <= OS",
        ),
        ({}, "give at least one target: orr, dcr, median_pfs_months, median_os_months, pfs_at or os_at"),
        ({"median_pfs_months": 3.0, "source_n": 0}, "source_n must be a whole number of patients of at least 1, got 0"),
        (
            {"median_pfs_months": 3.0, "not_assessed": 0.6},
            "not_assessed must be a proportion in [0, 0.5] (0.06 for 6% never assessed), got 0.6",
        ),
        (
            {"median_pfs_months": 3.0, "unscheduled_progression": 1.5},
            "unscheduled_progression must be a proportion in [0, 1] (0.2 for 20%), got 1.5",
        ),
        (
            {"median_pfs_months": 3.0, "dcr": 0.95, "not_assessed": 0.1},
            "dcr (0.95) cannot exceed the share assessed (0.9, not_assessed 0.1): disease control needs an assessment",
        ),
    ],
)
def test_invalid_targets_name_the_parameter(kwargs: dict, message: str) -> None:
    kwargs = {"scan_weeks": 6, **kwargs}
    with pytest.raises(CalibrationError) as info:
        CalibrationTargets(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("family", "kwargs", "message"),
    [
        (
            "gamma",
            {"median_pfs_months": 3.0},
            "family must be one of exponential, weibull, loglogistic, lognormal, piecewise_exponential, got 'gamma'",
        ),
        (
            "weibull",
            {"median_pfs_months": 3.0},
            "family weibull has two PFS parameters (median and shape) but only one PFS target was given; add dcr, median_pfs_months or a pfs_at landmark, or use family exponential",
        ),
        (
            "exponential",
            {"orr": 0.2, "median_os_months": 9.0},
            "give at least one PFS target: median_pfs_months, dcr or a pfs_at landmark",
        ),
        (
            "piecewise_exponential",
            {"dcr": 0.55, "median_pfs_months": 2.8, "cuts_months": (1.5, 6.0)},
            "family piecewise_exponential with cuts_months 1.5, 6 has three PFS parameters (median and 2 relative "
            "hazards) but only two PFS targets were given; add dcr, median_pfs_months or a pfs_at landmark, or use "
            "fewer cuts_months",
        ),
        (
            "piecewise_exponential",
            {"median_pfs_months": 2.8},
            "family piecewise_exponential needs cuts_months: the months at which the PFS hazard may change (such as 2 "
            "and 6), one relative hazard to fit per cut",
        ),
        (
            "weibull",
            {"dcr": 0.55, "median_pfs_months": 2.8, "cuts_months": (2.0,)},
            "cuts_months applies to family piecewise_exponential only, got weibull",
        ),
        (
            "piecewise_exponential",
            {"dcr": 0.55, "median_pfs_months": 2.8, "cuts_months": (6.0, 2.0)},
            "cuts_months must be positive, strictly increasing months, got [6.0, 2.0]",
        ),
    ],
)
def test_too_few_targets_for_the_family(family: str, kwargs: dict, message: str) -> None:
    kwargs = dict(kwargs)
    cuts = kwargs.pop("cuts_months", ())
    with pytest.raises(CalibrationError) as info:
        calibrate(CalibrationTargets(scan_weeks=6, **kwargs), family=family, cohort_size=COHORT, cuts_months=cuts)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cohort_size": 5}, "cohort_size must be a whole number of at least 1000 patients, got 5"),
        ({"tolerance": 2.0}, "tolerance must be a number strictly between 0 and 1, got 2.0"),
    ],
)
def test_fit_settings_name_the_parameter_not_an_option(kwargs: dict, message: str) -> None:
    with pytest.raises(CalibrationError) as info:
        calibrate(CalibrationTargets(scan_weeks=6, median_pfs_months=3.0), family="exponential", **kwargs)
    assert str(info.value) == message


def test_inconsistent_targets_say_why_and_what_to_try() -> None:
    """DCR 0.5 with a median PFS of 2.6 months on a 6-weekly grid (the README's pessimistic column)."""
    targets = CalibrationTargets(scan_weeks=6, orr=0.08, dcr=0.5, median_pfs_months=2.6, median_os_months=9.0)
    with pytest.raises(CalibrationError) as info:
        calibrate(targets, cohort_size=COHORT)
    number = r"[0-9.]+"
    # the best fit ends on the edge of the shape's range or just inside it, as the cohort's draws have it
    pinned = (
        r"(the targets ask for an implausible PFS of the weibull family: the fit ended with the PFS shape 0\.25 on the edge of the "
        r"allowed range \[0\.25, 8\]|the targets cannot all be met by a PFS of the weibull family with scans every 6 weeks) "
        r"\(largest miss N on the survival scale, tolerance 0\.01\); best fit: orr N \(target 0\.08\), "
        r"dcr N \(target 0\.5\), median_pfs_months N \(target 2\.6\), median_os_months N \(target 9\)\. With scans every 6 "
        r"weeks, DCR 0\.5 means 50% of patients have progressed or died by the first scan \(day 49 at the latest\), so a "
        r"median PFS of 2\.6 months leaves almost no room for progression between that scan and the median\. If the "
        r"published DCR counts patients alive but never assessed \(withdrawn or deteriorated without a scan; the model "
        r"already has its deaths before the first scan\), give their share with not_assessed\. Try: check "
        r"scan_weeks against the source's schedule, drop or relax a target, another family \(exponential, weibull, "
        r"loglogistic, lognormal, piecewise_exponential\)(, or accept this best fit with tolerance N)?"
    ).replace("N", number)
    assert re.fullmatch(pinned, str(info.value)), str(info.value)


def test_missed_targets_offer_the_tolerance_that_would_accept_them() -> None:
    targets = CalibrationTargets(scan_weeks=6, dcr=0.65, median_pfs_months=4.0, pfs_at=(Landmark(6, 0.45),))
    with pytest.raises(
        CalibrationError,
        match=r"^the targets cannot all be met by a PFS of the weibull family with scans every 6 weeks "
        r"\(largest miss 0\.0\d\d on the survival scale, tolerance 0\.01\); best fit: dcr .* or accept this "
        r"best fit with tolerance 0\.\d\d$",
    ):
        calibrate(targets, cohort_size=COHORT)


def test_orr_above_the_confirmable_share_is_refused_with_a_remedy() -> None:
    targets = CalibrationTargets(scan_weeks=6, orr=0.6, dcr=0.65, median_pfs_months=3.1, median_os_months=10.6)
    with pytest.raises(CalibrationError) as info:
        calibrate(targets, cohort_size=COHORT)
    pinned = (
        r"orr 0\.6 is more than the model allows with the PFS the other targets imply: a response seen at the first scan "
        r"is surely confirmed only by day 91 with scans every 6 weeks, and only (0\.\d{3}) of patients are progression-free "
        r"then \(weibull PFS, median \d\.\d\d months\); lower orr below (0\.\d{3}), check dcr, median_pfs_months and "
        r"scan_weeks against the source, or use confirmed=False if its responses were not confirmed"
    )
    match = re.fullmatch(pinned, str(info.value))
    assert match, str(info.value)
    assert match.group(1) == match.group(2) and 0.4 < float(match.group(1)) < 0.6


def test_a_large_study_median_between_scan_clusters_is_flagged() -> None:
    """Between clusters only deaths without progression move the curve: the note says how loosely it is held."""
    targets = CalibrationTargets(scan_weeks=6, median_pfs_months=3.3, median_os_months=9.0)
    result = calibrate(targets, family="exponential", cohort_size=COHORT)
    between = [n for n in result.notes if n.startswith("median PFS 3.3 falls between scan clusters (2.99-3.91 months)")]
    assert len(between) == 1 and between[0].endswith("; give source_n to match the mean median of a study of that size")
    sized = calibrate(dataclasses.replace(targets, source_n=100), family="exponential", cohort_size=COHORT)
    assert not any("between scan clusters" in n for n in sized.notes)
    assert sized.fits[0].statistic == "mean KM median of scan-dated PFS in a study of n = 100"
    # ... and the sized fit warns that trials of 100 report the lower cluster or the upper, never 3.3
    assert len(sized.warnings) == 1
    assert re.fullmatch(
        r"with source_n 100, trials of that size report a mean median PFS of 3\.30 months but a large study 2\.9\d "
        r"\(a shift of 0\.0\d\d on the survival scale, tolerance 0\.01\): the per-trial medians are bimodal, \d\d% of "
        r"trials of 100 report a median before day 92, the rest one scan cluster or more later",
        sized.warnings[0],
    ), sized.warnings[0]
    assert [i.name for i in sized.implied][-3:] == [
        "median_pfs_months_large_study",
        "median_pfs_trials_before_target",
        "median_pfs_trials_after_target",
    ]
