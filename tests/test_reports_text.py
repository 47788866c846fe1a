"""Text reports, pinned on hand-built result objects: no simulation, so every character is chosen here."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import sim.reports
from sim.analysis.summary import OperatingCharacteristics
from sim.calibration import Benchmark, ImpliedValue, TargetFit
from sim.model.planning import PlanningFigures
from sim.reports import (
    Heading,
    benchmark_text,
    calibration_text,
    check_text,
    design_text,
    oc_text,
    summary_text,
    sweep_text,
)
from sim.runs.sweep import GridCell, GridResult, OCGridResult
from sim.scenario import load_scenario
from sim.stats.mcse import Estimate, proportion_estimate
from tests.helpers import point_decisions

ROOT = Path(__file__).resolve().parent.parent


def _characteristics(monitored: bool) -> OperatingCharacteristics:
    """400 replicates of a made-up trial opening on 2025-01-01; two figures undefined (n/a)."""
    e = Estimate
    return OperatingCharacteristics(
        scenario_name="Hand-built trial",
        replicates=400,
        monitored=monitored,
        true_orr=0.25,
        power=e(0.8125, 0.0195, 400),
        early_stop=e(0.1, 0.015, 400),
        interim_wait_days=e(121.5, 2.25, 40) if monitored else e(math.nan, math.nan, 0),
        decision_months=e(30.25, 0.5, 400),
        enrollment_complete=e(0.95, 0.0109, 360),
        target_reached=e(0.855, 0.0176, 400),
        timeline={
            "last_patient_in": {0.1: e(500.0, 12.25, 400), 0.5: e(600.4, 3.0, 400), 0.9: e(700.6, 1.04, 400)},
            "primary_cutoff": {0.1: e(math.nan, math.nan, 0), 0.5: e(800.0, 2.5, 400), 0.9: e(900.0, 2.0, 400)},
            "final_cutoff": {0.1: e(1000.0, 7.75, 400), 0.5: e(1100.0, 0.0, 400), 0.9: e(1200.0, 10.0, 400)},
        },
        orr_mean=e(0.2475, 0.0033, 400),
        orr_unconfirmed=e(0.3125, 0.0041, 400),
        orr_bias=e(-0.0025, 0.0033, 400),
        ci_width_median=e(0.3, 0.002, 400),
        ci_width_mean=e(0.31, 0.001, 400),
        coverage=e(0.955, 0.0104, 398),
        tested_rate=e(0.2475, 0.0033, 400),
        coverage_of_tested=e(0.96, 0.0098, 398),
        n_analysed=e(34.5, 0.1, 400),
        n_enrolled=e(35.0, 0.0, 400),
        ae_discontinuation_rate=e(0.125, 0.004, 400),
        median_pfs=e(4.0, 0.1, 390),
        median_os=e(math.nan, math.nan, 0),
        origin=dt.date(2025, 1, 1),
        decisions=point_decisions(e(0.8125, 0.0195, 400)),
    )


MONITORED = """\
Hand-built trial: 400 replicates

figure                                                     estimate       MCSE  unit
Power: P(reject H0)                                          0.8125     0.0195  probability
P(stopped early at an interim look)                          0.1000     0.0150  probability
Interim look wait (mean days)                              121.5000     2.2500  days
Months from opening to the decision (mean)                  30.2500     0.5000  months
P(enrollment complete by recruitment close) | no stop        0.9500     0.0109  probability
P(enrollment complete by close), all trials                  0.8550     0.0176  probability
Patients enrolled (mean)                                    35.0000     0.0000  patients
Patients analysed for ORR (mean)                            34.5000     0.1000  patients
Last patient in date, 10% quantile                       2026-05-16       12.2  date (MCSE in days)
Last patient in date, 50% quantile                       2026-08-24        3.0  date (MCSE in days)
Last patient in date, 90% quantile                       2026-12-03        1.0  date (MCSE in days)
Primary cutoff date, 10% quantile                               n/a        n/a  date (MCSE in days)
Primary cutoff date, 50% quantile                        2027-03-12        2.5  date (MCSE in days)
Primary cutoff date, 90% quantile                        2027-06-20        2.0  date (MCSE in days)
Final cutoff date, 10% quantile                          2027-09-28        7.8  date (MCSE in days)
Final cutoff date, 50% quantile                          2028-01-06        0.0  date (MCSE in days)
Final cutoff date, 90% quantile                          2028-04-15       10.0  date (MCSE in days)
ORR estimate (mean)                                          0.2475     0.0033  proportion
Unconfirmed ORR (mean)                                       0.3125     0.0041  proportion
ORR bias vs true 0.25                                       -0.0025     0.0033  proportion
ORR CI width (median)                                        0.3000     0.0020  proportion
ORR CI width (mean)                                          0.3100     0.0010  proportion
Coverage of the true ORR (398 with a CI)                     0.9550     0.0104  probability
ORR tested rate (mean of the trials' ORR)                    0.2475     0.0033  proportion
Coverage of the tested rate (398 with a CI)                  0.9600     0.0098  probability
AE discontinuation rate (mean)                               0.1250     0.0040  proportion
Median PFS (mean of 390 reached)                             4.0000     0.1000  months
Median OS (mean of 0 reached)                                   n/a        n/a  months"""


def test_summary_text_of_a_monitored_trial() -> None:
    """Dates as ISO dates with MCSE in days to 0.1, numbers to 4 decimals, undefined figures as n/a."""
    assert summary_text(_characteristics(monitored=True)) == MONITORED


def test_summary_text_without_monitoring_has_no_stop_rows() -> None:
    lines = summary_text(_characteristics(monitored=False)).splitlines()
    assert lines[2:5] == [
        "figure                                           estimate       MCSE  unit",
        "Power: P(reject H0)                                0.8125     0.0195  probability",
        "Months from opening to the decision (mean)        30.2500     0.5000  months",
    ]
    assert lines[5] == "P(enrollment complete by recruitment close)        0.9500     0.0109  probability"
    assert len(lines) == len(MONITORED.splitlines()) - 3  # no early-stop, look-wait or all-trials completion rows


def _cell(
    setting: dict[str, str], power: float, complete: float, tested: float = 0.25, power_mcse: float = 0.02
) -> GridCell:
    summary = dataclasses.replace(
        _characteristics(monitored=False),
        power=Estimate(power, power_mcse, 400),
        enrollment_complete=Estimate(complete, 0.01, 400),
        target_reached=Estimate(complete, 0.01, 400),
        tested_rate=Estimate(tested, 0.0015, 400),
    )
    return GridCell(setting, summary)


def test_sweep_text_shows_each_figure_with_its_mcse() -> None:
    grid = GridResult(
        (
            _cell({"efficacy.orr": "0.1", "recruitment.sites.0.screened_per_month": "1.5"}, 0.05, 0.5),
            _cell({"efficacy.orr": "0.25", "recruitment.sites.0.screened_per_month": "1.5"}, 0.8125, 0.5),
        )
    )
    assert sweep_text(grid) == (
        "Sensitivity grid (400 replicates per cell)\n"
        "efficacy.orr recruitment.sites.0.screened_per_month  replicates           power      early_stop "
        "enrollment_complete       n_enrolled  decision_months\n"
        "         0.1                                    1.5         400 0.0500 ± 0.0200 0.1000 ± 0.0150     "
        "0.5000 ± 0.0100 35.0000 ± 0.0000 30.2500 ± 0.5000\n"
        "        0.25                                    1.5         400 0.8125 ± 0.0200 0.1000 ± 0.0150     "
        "0.5000 ± 0.0100 35.0000 ± 0.0000 30.2500 ± 0.5000\n"
        "\n"
        "± is one Monte Carlo standard error; every cell uses the same seed (common random numbers)."
    )


def test_oc_text_ends_with_the_type_one_error_at_latent_p0_and_at_the_boundary() -> None:
    cells = (_cell({"efficacy.orr": "0.1"}, 0.0475, 0.9, 0.095), _cell({"efficacy.orr": "0.12"}, 0.0625, 0.9, 0.114))
    lines = oc_text(OCGridResult(cells, p0=0.1)).splitlines()
    assert lines[0] == "Operating characteristics over the latent ORR (400 replicates per row)"
    assert lines[1].split()[:3] == ["efficacy.orr", "is_null", "replicates"]
    assert lines[1].split()[-1] == "tested_rate"
    assert lines[2].split()[:5] == ["0.10", "True", "400", "0.0475", "±"]
    assert lines[2].split()[-3:] == ["0.0950", "±", "0.0015"]
    assert lines[3].split()[:5] == ["0.12", "False", "400", "0.0625", "±"]
    # w = (0.1 - 0.095) / 0.019 = 5/19: latent 0.1 + 0.02 * 5/19 = 0.10526 (MCSE 0.02 / 0.019 * 0.0015 =
    # 0.00158), size 0.0475 + 0.015 * 5/19 = 0.05145 (MCSE 0.02 + 0.015 / 0.019 * 0.0015 = 0.02118); on
    # the log scale 0.0475 (0.0625 / 0.0475)^(5/19) = 0.05095, within the MCSE, so no caution
    assert lines[-2:] == [
        "Type I error at p0 = 0.1: 0.0475 (MCSE 0.0200) at latent ORR = p0",
        "                          0.0514 (MCSE 0.0212) at the boundary, where the tested rate is p0: "
        "latent ORR 0.1053 (MCSE 0.0016), interpolated between 0.1 and 0.12",
    ]


def test_oc_text_cautions_when_the_grid_is_coarse_at_the_boundary() -> None:
    """Between powers 0.0475 and 0.9 at w = 1/38, linear gives 0.06993 and the log scale 0.05132.

    The gap, 0.01861, exceeds the MCSE 0.003 + 0.8525 / 0.19 * 0.0015 = 0.00973.
    """
    cells = (
        _cell({"efficacy.orr": "0.1"}, 0.0475, 0.9, 0.095, power_mcse=0.003),
        _cell({"efficacy.orr": "0.3"}, 0.9, 0.9, 0.285, power_mcse=0.003),
    )
    lines = oc_text(OCGridResult(cells, p0=0.1)).splitlines()
    assert lines[-2].split()[:3] == ["0.0699", "(MCSE", "0.0097)"]
    assert lines[-1] == (
        "Caution: the grid is coarse at the boundary; interpolating on the log scale moves the size by 0.0186, "
        "more than its MCSE. Add latent ORR values between 0.1 and 0.3."
    )


def test_oc_text_says_when_the_grid_does_not_reach_the_boundary() -> None:
    cells = (_cell({"efficacy.orr": "0.1"}, 0.0475, 0.9, 0.1004), _cell({"efficacy.orr": "0.3"}, 0.9, 0.9, 0.3))
    assert oc_text(OCGridResult(cells, p0=0.1)).splitlines()[-1] == (
        "                          not read at the boundary, where the tested rate is p0: every cell's tested rate "
        "is above p0 = 0.1 (the lowest is 0.1004, at latent ORR 0.1); the grid needs lower latent ORR values to "
        "reach the boundary"
    )


def test_design_text() -> None:
    single = {"r1": None, "n1": None, "r": 5, "n": 25, "pet_p0": 0.0, "pet_p1": 0.0, "en_p0": 25.0, "en_p1": 25.0}
    simon = {"r1": 1, "n1": 10, "r": 5, "n": 29, "pet_p0": 0.73611, "pet_p1": 0.14931, "en_p0": 15.0083, "en_p1": 26.1582}
    summary = {
        "p0": 0.1,
        "p1": 0.3,
        "alpha": 0.05,
        "power": 0.8,
        "nmax": 100,
        "rule": "stop early if few respond",
        "designs": {
            "single_stage": {**single, "alpha": 0.03340, "power": 0.80651},
            "simon_optimal": {**simon, "alpha": 0.04710, "power": 0.80510},
            "simon_minimax": {**simon, "r1": 1, "n1": 15, "r": 5, "n": 25, "alpha": 0.0328, "power": 0.8017},
        },
    }
    assert design_text(summary) == (
        "Designs for H0: ORR <= 0.1 against H1: ORR = 0.3\n"
        "exact binomial; one-sided alpha <= 0.05, power >= 0.8, n <= 100\n"
        "\n"
        "design           r1/n1     r/n  PET(p0)  PET(p1)  EN(p0)  EN(p1)   alpha   power\n"
        "single-stage         -    5/25        -        -   25.00   25.00  0.0334  0.8065\n"
        "Simon optimal     1/10    5/29   0.7361   0.1493   15.01   26.16  0.0471  0.8051\n"
        "Simon minimax     1/15    5/25   0.7361   0.1493   15.01   26.16  0.0328  0.8017\n"
        "\n"
        "Rule: stop early if few respond."
    )


def _benchmark(**values: object) -> Benchmark:
    fields = {f.name: None for f in dataclasses.fields(Benchmark)}
    fields.update(id="X-1", study="S", regimen="r", setting="", design="", consensus_ref="", citation="c", notes="")
    fields.update(values)
    return Benchmark(**fields)  # type: ignore[arg-type]


def test_benchmark_text_leaves_unreported_cells_empty_and_shortens_long_ones() -> None:
    rows = (
        _benchmark(regimen="nivolumab + ipilimumab + cabozantinib", n=28, orr=0.11, median_os_months=10.7),
        _benchmark(id="X-2", regimen="regorafenib", response_criteria="mRECIST", consensus_ref="51"),
    )
    lines = benchmark_text(rows).splitlines()
    assert lines[0] == (
        "id      regimen                             setting                         n      ORR     DCR     mPFS   "
        "mOS    criteria    ref"
    )
    assert lines[1] == "-" * len(lines[0])
    assert lines[2] == "X-1     nivolumab + ipilimumab + cabozant~                                  28     0.11                   10.7"
    assert lines[3] == (
        "X-2     regorafenib                                                                                              "
        "mRECIST     51"
    )
    assert lines[4] == "2 row(s); rates are proportions, times months; `--json` shows every column and the citation"


def test_calibration_text() -> None:
    """Rendered from what a CalibrationResult holds (a stand-in here, so no fit runs)."""
    result = SimpleNamespace(
        family="exponential",
        targets=SimpleNamespace(scan_weeks=6, confirmed=False, source_n=120),
        scan_interval_days=42,
        scan_window_days=7,
        fits=(
            TargetFit("median_pfs_months", 3.3, 3.29554, 0.04123, -5.4e-05, "KM median of scan-dated PFS"),
            TargetFit("dcr", 0.6, 0.61234, 0.0049, 0.01234, "share free at the first scan"),
        ),
        implied=(
            ImpliedValue("pfs_at_12m", 0.06221, 0.00241, "KM rate of scan-dated PFS at 12 months"),
            ImpliedValue("median_pfs_months_large_study", 2.98688, math.nan, "KM median, large study"),
        ),
        parameters=lambda: {
            "orr": 0.15,
            "pfs": {"family": "exponential", "median_months": 2.8808},
            "os_median_months": 9.0,
        },
        warnings=("with --n 120, trials of that size report a mean median PFS of 3.30 months",),
        notes=("orr 0.15 kept from scenario base: not a target",),
    )
    assert calibration_text(result, Path("out/efficacy.toml")) == (  # type: ignore[arg-type]
        "Calibrated exponential PFS, scans every 6 weeks (42 +/- 7 days), unconfirmed responses, n = 120\n"
        "\n"
        "statistic              target  achieved    MCSE     miss  compared as (miss: on the survival scale)\n"
        "median_pfs_months         3.3    3.2955  0.0412  -0.0001  KM median of scan-dated PFS\n"
        "dcr                       0.6    0.6123  0.0049  +0.0123  share free at the first scan\n"
        "\n"
        "implied, not a target             value    MCSE\n"
        "pfs_at_12m                       0.0622  0.0024  KM rate of scan-dated PFS at 12 months\n"
        "median_pfs_months_large_study    2.9869     n/a  KM median, large study\n"
        "\n"
        "efficacy.orr = 0.15\n"
        "efficacy.pfs = {'family': 'exponential', 'median_months': 2.8808}\n"
        "efficacy.os_median_months = 9\n"
        "warning: with --n 120, trials of that size report a mean median PFS of 3.30 months\n"
        "note: orr 0.15 kept from scenario base: not a target\n"
        f"Wrote {Path('out/efficacy.toml')}"
    )


@pytest.mark.parametrize("module", ["analysis/summary", "runs/sweep", "runs/grid_result"])
def test_numbers_do_not_import_rendering(module: str) -> None:
    """The numbers' modules stand alone: reports and the command line import them, never the reverse."""
    tree = ast.parse((ROOT / "sim" / f"{module}.py").read_text())  # a path below sim/
    imported = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not {name for name in imported if name.split(".")[0] in {"reports", "cli"} or ".reports" in name or ".cli" in name}


def test_reports_package_lists_its_names() -> None:
    assert set(sim.reports.__all__) == {
        "Heading",
        "ReportFigure",
        "Thresholds",
        "all_figures",
        "benchmark_text",
        "calibration_text",
        "check_text",
        "design_text",
        "figures_of",
        "forecast_text",
        "oc_text",
        "summary_text",
        "sweep_text",
        "write_report",
    }
    assert all(callable(getattr(sim.reports, name)) for name in sim.reports.__all__)


HEADING = Heading("pessimistic", "scenarios/pessimistic.toml", "Hand-built trial", 0.1, 0.05, 7, ("efficacy.orr=0.2",))


def test_heading_names_the_file_the_seed_the_overrides_p0_and_alpha() -> None:
    assert HEADING.lines(400) == [
        "Scenario pessimistic (scenarios/pessimistic.toml): Hand-built trial",
        "Seed 7; overrides efficacy.orr=0.2",
        "H0: ORR <= 0.1, one-sided alpha 0.05; 400 replicates",
    ]
    plain = Heading("my.toml", "my.toml", "Mine", 0.2, 0.025)
    assert plain.lines() == ["Scenario my.toml: Mine", "No overrides", "H0: ORR <= 0.2, one-sided alpha 0.025"]


def test_a_headed_summary_replaces_the_old_first_line() -> None:
    lines = summary_text(_characteristics(monitored=True), HEADING).splitlines()
    assert lines[:4] == [*HEADING.lines(400), ""]
    assert lines[4:] == MONITORED.splitlines()[2:]


def test_headed_grids_put_the_heading_above_the_title() -> None:
    cells = (_cell({"efficacy.orr": "0.1"}, 0.05, 0.5, tested=0.09), _cell({"efficacy.orr": "0.2"}, 0.3, 0.5, tested=0.18))
    for text, plain in (
        (sweep_text(GridResult(cells), HEADING), sweep_text(GridResult(cells))),
        (oc_text(OCGridResult(cells, p0=0.1), HEADING), oc_text(OCGridResult(cells, p0=0.1))),
    ):
        assert text == "\n".join([*HEADING.lines(), "", plain])


def test_check_text_shows_the_resolved_scenario_then_the_planning_figures() -> None:
    figures = PlanningFigures(
        sample_size=35,
        recruitment_months=24.5,
        screened_per_month=2.2,
        enrolled_per_month=1.496,
        months_to_sample_size=23.4,
        expected_screened_by_close=48.53,
        expected_enrolled_by_close=36.04,
        sample_size_reached=dt.date(2027, 10, 2),
        confirmation_day=91.0,
        orr=0.15,
        orr_ceiling=0.51228,
        post_progression_median_months=6.6433,
        post_progression_solved=True,
    )
    lines = check_text(Heading("base", "scenarios/base.toml", "T", 0.1, 0.05), load_scenario("base"), figures).splitlines()
    assert lines[:5] == [
        "Scenario base (scenarios/base.toml): T", "No overrides", "H0: ORR <= 0.1, one-sided alpha 0.05", "",
        "The scenario is valid; every field after overrides and defaults:"]
    assert lines[6:8] == ["[trial]", 'name = "Toripalimab + regorafenib, 2L+ HCC after ICI (single arm)"']
    assert "looks = []" not in lines and "[monitoring]" in lines  # an empty list is its default and not shown
    start = lines.index("Planning figures (expectations with the accrual rate known; no simulation; docs/reference.md):")
    assert lines[start + 1:] == [
        "Screened per month, full rate             2.20  all sites, before ramp-up and calendar",
        "Enrolled per month, full rate             1.50  after screen failures",
        "Months to the sample size, full rate      23.4  35 patients",
        "Months recruitment is open                24.5  recruitment_open to recruitment_close",
        "Screened by the close (expected)          48.5  with ramp-up and calendar",
        "Enrolled by the close (expected)          36.0  the sample size (35) is reached on 2027-10-02",
        "ORR ceiling from the PFS                0.5123  PFS survival on day 91; efficacy.orr is 0.15",
        "Post-progression survival median          6.64  months; exponential, solved so that the OS median is "
        "efficacy.os_median_months",
    ]
    every_table = [line for line in lines if line.startswith("[")]
    assert all(lines[lines.index(t) - 1] == "" for t in every_table)  # laid out as a scenario file


def test_a_share_of_zero_prints_its_one_sided_bound_not_an_mcse_of_zero() -> None:
    """0 of 400 rejections: the MCSE column shows the exact one-sided 95% bound, and a note says why."""
    none = proportion_estimate(np.zeros(400, bool))
    text = summary_text(dataclasses.replace(_characteristics(monitored=False), power=none))
    power = next(line for line in text.splitlines() if line.startswith("Power"))
    assert power.split()[-3:] == ["0.0000", f"<={1 - 0.05 ** (1 / 400):.4f}", "probability"]
    assert text.splitlines()[-1].startswith("<= and >=: the figure is 0 or 1 in every trial")
    assert "<=" not in summary_text(_characteristics(monitored=False))


def test_the_story_says_when_each_decision_falls() -> None:
    from sim.analysis.decision_timing import DecisionTiming
    from sim.reports.story import _decision_timing

    e = Estimate
    timing = DecisionTiming(((10, e(6.04, 0.05, 400)), (20, e(12.5, 0.125, 150))), e(24.0, 0.25, 120))
    assert _decision_timing(timing) == (
        "Months from opening to each decision, on average: the look at 10 patients 6.0 (±0.1); the look at 20 "
        "patients 12.5 (±0.1); the final analysis of the trials not stopped 24.0 (±0.2)."
    )
    every_trial_stopped = DecisionTiming(((10, e(6.0, 0.05, 400)),), e(math.nan, math.nan, 0))
    assert _decision_timing(every_trial_stopped).endswith("(±0.1); no trial went on to the final analysis.")
