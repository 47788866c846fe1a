"""Fragile fits: MCSEs of every achieved value, the source-size mode, warnings, PFS landmarks and piecewise PFS.

The figures are those of docs/calibration.md: ORR 0.11, DCR 0.55, median PFS 2.8 and OS 12 months with
6-weekly scans fit a Weibull PFS of shape about 0.32 whose scan-dated curve flattens to a plateau no
target constrains; a second-line HCC trial of about 300 patients reported figures of that shape.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import sys

import numpy as np
import pytest

from sim.calibration import (
    NEAR_BOUND_FACTOR,
    CalibrationError,
    CalibrationTargets,
    Landmark,
    calibrate,
    expected_km_median,
    expected_km_median_se,
    km_median_cdf,
    observe_cohort,
    source_scenario,
)
from sim.calibration.criteria import orr_criterion, target_criteria
from sim.calibration.parameters import FittedFamily, FreeParameter
from sim.calibration.robustness import implied_values, robustness_warnings
from sim.cli import main
from sim.cli.options import FLAGS
from sim.distributions import PiecewiseExponential, Weibull
from sim.scenario import load_scenario, parse_scenario, read_scenario_file
from sim.units import DAYS_PER_MONTH

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FIGURES = {"orr": 0.11, "dcr": 0.55, "median_pfs_months": 2.8, "median_os_months": 12.0}
ARGV = ["calibrate", "--orr", "0.11", "--dcr", "0.55", "--median-pfs", "2.8", "--median-os", "12", "--scan-weeks", "6"]
TRIALS = 400


def _seeds(root: int, count: int) -> list[int]:
    """``count`` distinct cohort seeds drawn from one root seed."""
    return [int(s) for s in np.random.SeedSequence(root).generate_state(count)]


def _ratio_band(replicates: int) -> tuple[float, float]:
    """4 standard errors either side of 1 for an SD estimated from ``replicates`` values over its expectation."""
    half = 4.0 / math.sqrt(2.0 * (replicates - 1))
    return 1.0 - half, 1.0 + half


def test_the_shape_032_example_warns_of_a_plateau_no_target_constrains(capsys) -> None:
    """The example of issue 8: accepted, but the warning names the plateau and the option that would constrain it."""
    assert main([*ARGV, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    # seed to seed the fitted shape spreads by about 0.005 (0.310 to 0.322 over seeds 1 to 3): 4 of those
    assert doc["parameters"]["pfs"]["shape"] == pytest.approx(0.32, abs=0.02)
    plateau = [w for w in doc["warnings"] if w.startswith("the fit implies a scan-dated PFS plateau")]
    assert len(plateau) == 1, doc["warnings"]
    assert re.fullmatch(
        r"the fit implies a scan-dated PFS plateau that no target constrains: 0\.3\d\d event-free at 12 months and "
        r"0\.2\d\d at 24, a hazard after 12 months 0\.1\d times the average hazard up to the median \(2\.80 months; "
        r"warning below 0\.25\); check it against the source's curve or add a --pfs-at target at 12 months or later",
        plateau[0],
    ), plateau[0]
    assert "\n# warning: the fit implies a scan-dated PFS plateau" in doc["toml"]
    implied = {i["name"]: i for i in doc["implied"]}
    assert list(implied) == ["pfs_at_6m", "pfs_at_12m", "pfs_at_24m", "os_at_6m", "os_at_12m"]
    assert implied["pfs_at_24m"]["value"] > 0.2 and 0 < implied["pfs_at_24m"]["mcse"] < 0.003


def test_near_a_bound_is_within_the_factor_on_either_side() -> None:
    shape = FreeParameter("shape", 0.25, 8.0)
    assert NEAR_BOUND_FACTOR == 1.25
    assert shape.near_bound(0.3125) == 0.25 and shape.near_bound(0.3126) is None
    assert shape.near_bound(6.4) == 8.0 and shape.near_bound(6.39) is None


def test_a_shape_near_its_bound_and_a_plateau_each_get_a_warning(base) -> None:
    """KEYNOTE-394's figures without the source's size fit a Weibull of shape 0.2886 (docs/calibration.md)."""
    pfs = Weibull(1.6165, 0.2886)
    efficacy = dataclasses.replace(base.efficacy, orr=0.127, pfs=pfs, os_median_months=14.6)
    stats = observe_cohort(source_scenario(base, efficacy, 42, True, 60.0), 5_000, 3)
    targets = CalibrationTargets(scan_weeks=6, orr=0.127, dcr=0.51, median_pfs_months=2.6, median_os_months=14.6)
    warnings = robustness_warnings(targets, stats, [("PFS", FittedFamily("weibull"), pfs)], 0.01, 7)
    assert len(warnings) == 2
    assert warnings[0] == (
        "the PFS shape 0.2886 lies within a factor 1.25 of the bound 0.25 of its search range [0.25, 8]: the targets "
        "pull it toward an extreme curve; check them against the source or add a target that constrains the tail "
        "(such as pfs_at 12:RATE) or use family piecewise_exponential"
    )
    assert warnings[0].spelled(FLAGS).endswith("(such as --pfs-at 12:RATE) or use --family piecewise_exponential")
    assert warnings[1].startswith("the fit implies a scan-dated PFS plateau that no target constrains: 0.2")
    constrained = dataclasses.replace(targets, pfs_at=(Landmark(12.0, 0.3),))
    assert len(robustness_warnings(constrained, stats, [], 0.01, 7)) == 0


def test_source_size_300_matches_the_mean_km_median_of_simulated_300_patient_trials(base) -> None:
    """``--n 300`` on the example's figures: the fitted block's trials of 300 report a mean median PFS of 2.8.

    Checked independently: 400 cohorts of 300 patients drawn from the fitted block on the source's grid,
    each one's KM median (R's rule, ``sim.stats.survival``). The bound is 4 standard errors of the
    difference: the trials' MCSE and the achieved value's own MCSE (the fit read it off a finite cohort).
    """
    targets = CalibrationTargets(scan_weeks=6, source_n=300, **FIGURES)
    result = calibrate(targets)
    fit = {f.name: f for f in result.fits}["median_pfs_months"]
    assert fit.statistic == "mean KM median of scan-dated PFS in a study of n = 300"
    assert abs(fit.achieved - 2.8) < 0.01 and 0.02 < fit.mcse < 0.06

    scenario = source_scenario(base, result.efficacy, 42, True, 60.0)
    medians = np.array([observe_cohort(scenario, 300, s).pfs.median for s in _seeds(300, TRIALS)])
    assert np.isfinite(medians).all()
    se = math.sqrt(medians.var(ddof=1) / TRIALS + fit.mcse**2)
    assert abs(medians.mean() - 2.8) <= 4 * se, (medians.mean(), se)
    large = {i.name: i for i in result.implied}["median_pfs_months_large_study"]
    assert large.value == pytest.approx(2.8, abs=0.05)


def test_expected_median_and_its_lower_mode_match_simulated_trials_when_medians_are_bimodal(base) -> None:
    """A Weibull of shape 0.29 (DCR about 0.52): trials of 300 report a median near 1.5 or near 2.6 months.

    The mean KM median (Harrell-Davis form on a 40,000-patient cohort, with its own MCSE) and the share
    of trials whose median falls before the second scan cluster (day 77) against 400 simulated trials.
    """
    efficacy = dataclasses.replace(base.efficacy, orr=0.11, pfs=Weibull(1.6165, 0.2886))
    scenario = source_scenario(base, efficacy, 42, True, 60.0)
    cohort = observe_cohort(scenario, 40_000, 9).pfs
    medians = np.array([observe_cohort(scenario, 300, s).pfs.median for s in _seeds(77, TRIALS)])
    expected, expected_se = expected_km_median(cohort, 300), expected_km_median_se(cohort, 300)
    se = math.sqrt(medians.var(ddof=1) / TRIALS + expected_se**2)
    assert abs(medians.mean() - expected) <= 4 * se, (medians.mean(), expected, se)
    lower = medians < 77 / DAYS_PER_MONTH
    share = km_median_cdf(cohort, 300, 76.5 / DAYS_PER_MONTH)
    assert 0.2 < share < 0.5  # bimodal: a mean between the modes describes no trial
    assert abs(lower.mean() - share) <= 4 * math.sqrt(share * (1 - share) / TRIALS)


def test_every_achieved_and_implied_value_has_an_mcse_that_matches_the_spread_over_cohort_seeds(base) -> None:
    """Re-observe one block on 100 cohort seeds: each statistic's SD over seeds against its mean reported MCSE.

    Both median conventions (large study; mean of n = 300), shares, KM landmarks and the implied values.
    The band is 4 standard errors of an SD estimated from 100 values.
    """
    efficacy = dataclasses.replace(base.efficacy, orr=0.11, pfs=Weibull(2.1097, 0.3465), os_median_months=12.0)
    scenario = source_scenario(base, efficacy, 42, True, 60.0)
    large = CalibrationTargets(scan_weeks=6, pfs_at=(Landmark(6.0, 0.38),), **FIGURES)
    sized = dataclasses.replace(large, source_n=300)
    pfs, os_ = target_criteria(large)
    criteria = {c.name: c for c in [orr_criterion(large, 0.11), *pfs, *os_]}
    pfs, os_ = target_criteria(sized)
    criteria.update({f"{c.name} n=300": c for c in [*pfs, *os_] if c.name.startswith("median")})
    values: dict[str, list[float]] = {}
    mcses: dict[str, list[float]] = {}
    seeds = _seeds(5, 100)
    for seed in seeds:
        stats = observe_cohort(scenario, 5_000, seed)
        for name, c in criteria.items():
            fit = c.result(stats)
            values.setdefault(name, []).append(fit.achieved)
            mcses.setdefault(name, []).append(fit.mcse)
        for implied in implied_values(sized, stats, 7):
            values.setdefault(implied.name, []).append(implied.value)
            mcses.setdefault(implied.name, []).append(implied.mcse)
    low, high = _ratio_band(len(seeds))
    assert len(values) == 5 + 2 + 7  # targets, their means of n = 300, implied values
    for name in values:
        ratio = np.std(values[name], ddof=1) / np.mean(mcses[name])
        assert low <= ratio <= high, (name, ratio)


def test_piecewise_exponential_meets_a_12_month_pfs_landmark(tmp_path, capsys) -> None:
    """DCR, median PFS and PFS at 12 months fit a median and two relative hazards (cuts after the first scan
    and at 6 months); the 12-month rate holds on an independent cohort, and no plateau is left unconstrained."""
    out = tmp_path / "efficacy.toml"
    argv = [*ARGV, "--pfs-at", "12:0.15", "--family", "piecewise_exponential", "--cuts", "1.5,6"]
    assert main([*argv, "--cohort", "6000", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"].endswith("--family piecewise_exponential --cuts 1.5,6 --cohort 6000 --out " + str(out))
    pfs = doc["parameters"]["pfs"]
    assert (pfs["family"], pfs["cuts_months"], pfs["relative_hazards"][0]) == ("piecewise_exponential", [1.5, 6.0], 1.0)
    fits = {t["name"]: t for t in doc["targets"]}
    assert list(fits) == ["orr", "dcr", "median_pfs_months", "pfs_at_12m", "median_os_months"]
    assert all(abs(t["miss"]) <= 0.01 for t in fits.values())
    assert not any("plateau" in w for w in doc["warnings"])

    raw = read_scenario_file("base")
    raw["efficacy"] = tomllib.loads(out.read_text())["efficacy"]
    scenario = parse_scenario(raw)
    assert isinstance(scenario.efficacy.pfs, PiecewiseExponential)
    again = observe_cohort(source_scenario(scenario, scenario.efficacy, 42, True, 60.0), 6_000, 99)
    rate, rate_se = again.rate_at("pfs", 12.0), again.rate_se("pfs", 12.0)
    assert abs(rate - 0.15) <= 4 * math.hypot(rate_se, fits["pfs_at_12m"]["mcse"]), (rate, rate_se)


def test_a_mean_median_out_of_reach_says_the_per_trial_medians_are_bimodal() -> None:
    """DCR 0.52 with a mean median of 2.8 months in trials of 300: the error gives the share at the lower mode."""
    targets = CalibrationTargets(scan_weeks=6, orr=0.11, dcr=0.52, median_pfs_months=2.8, median_os_months=12.0)
    with pytest.raises(ValueError, match=r"implausible PFS of the weibull family") as info:
        calibrate(dataclasses.replace(targets, source_n=300), cohort_size=10_000)
    assert re.search(
        r" In trials of 300 patients from the best fit, \d\d% report a median PFS before day 77 \(the scan cluster "
        r"before the target's\): per-trial medians are bimodal, and their mean reaches 2\.8 only if the curve "
        r"barely falls between those clusters\. The published median is one trial's: without source_n the fit "
        r"matches it as a large study's and warns how far trials of 300 report from it\. Try: ",
        str(info.value),
    ), str(info.value)


def test_an_unconfirmed_orr_target_fits_the_transient_response_share() -> None:
    targets = CalibrationTargets(scan_weeks=6, orr=0.15, unconfirmed_orr=0.22, dcr=0.65, median_pfs_months=4.0, median_os_months=12.0)
    result = calibrate(targets, cohort_size=8000)
    fit = {f.name: f for f in result.fits}
    assert fit["unconfirmed_orr"].target == 0.22
    assert abs(fit["unconfirmed_orr"].achieved - 0.22) <= 4 * fit["unconfirmed_orr"].mcse
    assert abs(fit["orr"].achieved - 0.15) <= 4 * fit["orr"].mcse
    assert 0 < result.efficacy.unconfirmed_response_share < 1
    assert result.parameters()["unconfirmed_response_share"] == result.efficacy.unconfirmed_response_share
    # the block it writes runs: the simulator reads the same share back
    assert load_scenario("base", [f"efficacy.unconfirmed_response_share={result.efficacy.unconfirmed_response_share}"])


def test_an_unconfirmed_orr_below_the_orr_is_refused() -> None:
    with pytest.raises(CalibrationError, match=r"unconfirmed_orr \(0.1\) must not be below orr \(0.15\)"):
        CalibrationTargets(scan_weeks=6, orr=0.15, unconfirmed_orr=0.1, dcr=0.65, median_pfs_months=4.0)


def test_the_command_line_takes_an_unconfirmed_orr(capsys) -> None:
    argv = ["calibrate", "--orr", "0.15", "--unconfirmed-orr", "0.22", "--dcr", "0.65", "--median-pfs", "4"]
    assert main([*argv, "--scan-weeks", "6", "--cohort", "5000"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^unconfirmed_orr\s+0.22\s+0.2\d{3}", out, flags=re.M)
    assert re.search(r"^efficacy.unconfirmed_response_share = 0\.\d+$", out, flags=re.M)
    assert re.search(r"^unconfirmed_response_share = 0\.\d+$", out, flags=re.M)  # in the TOML block
