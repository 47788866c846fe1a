"""Report figures: each figure's data equals an independent computation from the run's tables.

Runs are small seeded simulations written to a run folder and read back, as ``trialsim report
--from`` reads them: a single-stage base run with patients and an OC grid, and a Simon-monitored run.
Every number checked here is recomputed directly from the replicate, look or patient table, not
from the figure module's own helpers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import load_scenario, run
from sim.reports.figures import SECTIONS, ReportFigure, all_figures, new_figure, scenario_labels
from sim.reports.figures import power as power_fig
from sim.reports.figures import precision as precision_fig
from sim.reports.figures import recruitment as recruitment_fig
from sim.reports.figures import survival as survival_fig
from sim.reports.figures import timeline as timeline_fig
from sim.reports.figures import treatment as treatment_fig
from sim.reports.figures.dates import quantile_of_events
from sim.reports.figures.wording import long_date, percent, percent_estimate
from sim.runs.folder import SavedRun, read_run, write_run
from sim.runs.sweep import oc_grid
from sim.stats.designs import posterior_prob_above
from sim.stats.mcse import Estimate, quantile_estimate
from sim.stats.proportions import critical_responders
from sim.stats.survival import kaplan_meier
from tests.helpers import SIMON_29

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURES_DIR = Path(__file__).resolve().parents[1] / "sim" / "reports" / "figures"


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> SavedRun:
    result = run(load_scenario("base"), replicates=60, seed=3, keep_patients=True, progress=False)
    oc = oc_grid("base", [], [0.1, 0.25], replicates=40, seed=3, progress=False).table()
    folder = tmp_path_factory.mktemp("base_run")
    write_run(folder, result, command="trialsim test", oc=oc)
    return read_run(folder)


@pytest.fixture(scope="module")
def simon_run(tmp_path_factory: pytest.TempPathFactory) -> SavedRun:
    result = run(load_scenario("base", SIMON_29), replicates=60, seed=3, keep_patients=True, progress=False)
    folder = tmp_path_factory.mktemp("simon_run")
    write_run(folder, result, command="trialsim test")
    return dataclasses.replace(read_run(folder), name="simon")


@pytest.fixture(scope="module")
def figures(base_run: SavedRun, simon_run: SavedRun) -> list[ReportFigure]:
    return all_figures([base_run, simon_run])


def _final(saved: SavedRun) -> pd.DataFrame:
    assert saved.patients is not None
    return saved.patients[saved.patients["cutoff"] == "final"]


def _days(saved: SavedRun, day: dt.date) -> int:
    return (day - saved.scenario.trial.study_start).days


# --- recruitment ---------------------------------------------------------------------------------


def test_fan_chart_bands_at_close_equal_direct_counts(base_run: SavedRun) -> None:
    close = pd.Timestamp(base_run.scenario.trial.recruitment_close)
    final = _final(base_run)
    by_close = (
        final[final["enrollment_date"] <= close]
        .groupby("replicate")
        .size()
        .reindex(base_run.replicates["replicate"], fill_value=0)
        .to_numpy()
    )
    fan = recruitment_fig.enrollment_fan(base_run)
    last = fan[fan["date"] == close].iloc[0]
    assert last["enrolled_q50"] == np.median(by_close)
    assert last["enrolled_q10"] == pytest.approx(np.quantile(by_close, 0.1))
    assert last["enrolled_q90"] == pytest.approx(np.quantile(by_close, 0.9))
    assert fan["date"].iloc[0] == pd.Timestamp(base_run.scenario.trial.recruitment_open)
    assert (fan["target"] == 35).all()
    # the bands are cumulative counts: never decreasing, ordered
    assert (np.diff(fan["enrolled_q50"]) >= 0).all()
    assert (fan["enrolled_q10"] <= fan["enrolled_q50"]).all() and (fan["enrolled_q50"] <= fan["enrolled_q90"]).all()


def test_fan_chart_midway_and_holidays(base_run: SavedRun) -> None:
    day = pd.Timestamp("2026-10-03")  # inside National Day 2026
    final = _final(base_run)
    direct = (
        final[final["enrollment_date"] <= day].groupby("replicate").size()
        .reindex(base_run.replicates["replicate"], fill_value=0)
    )
    row = recruitment_fig.enrollment_fan(base_run).set_index("date").loc[day]
    assert row["enrolled_q50"] == np.median(direct)
    assert row["calendar_period"] == "National Day 2026"
    assert recruitment_fig.enrollment_fan(base_run).set_index("date").loc[pd.Timestamp("2026-06-01"),
                                                                         "calendar_period"] == ""


def test_p_complete_by_close_is_the_share_of_replicates_complete(base_run: SavedRun, simon_run: SavedRun) -> None:
    for saved in (base_run, simon_run):
        close = pd.Timestamp(saved.scenario.trial.recruitment_close)
        done = saved.replicates["enrollment_complete_date"]
        share = float((done.notna() & (done <= close)).mean())
        estimate = saved.summary.target_reached
        assert estimate.value == pytest.approx(share)
        assert estimate.mcse == pytest.approx(math.sqrt(share * (1 - share) / len(done)))
        curve = recruitment_fig.completion_curve(saved)
        assert curve.set_index("date").loc[close, "p_complete"] == pytest.approx(share)
        assert (np.diff(curve["p_complete"]) >= 0).all()
    # a replicate stopped at the interim look may have completed enrollment while the look waited
    # (enrollment runs on without pause_enrollment); it counts by its completion date like any other
    stopped = simon_run.replicates["stopped_early"]
    assert stopped.any()


def test_median_completion_treats_never_as_latest() -> None:
    assert quantile_of_events([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == quantile_estimate([1.0, 2.0, 3.0, 4.0, 5.0], 0.5)
    assert quantile_of_events([1.0, 2.0, 3.0, math.nan, math.nan], 0.5).value == 3.0
    assert math.isnan(quantile_of_events([1.0, 2.0, math.nan, math.nan, math.nan], 0.5).value)
    assert math.isnan(quantile_of_events([], 0.5).value)


def test_recruitment_captions_quote_the_numbers(base_run: SavedRun, figures: list[ReportFigure]) -> None:
    complete = next(f for f in figures if f.key == "recruitment_complete")
    assert percent_estimate(base_run.summary.target_reached) in complete.caption
    assert "30 November 2027" in complete.caption
    fan = next(f for f in figures if f.key == "recruitment_fan_base")
    assert "target of 35 patients" in fan.caption and "holiday" in fan.caption


# --- timeline ------------------------------------------------------------------------------------


def test_timeline_medians_equal_the_summary(base_run: SavedRun) -> None:
    ranges = timeline_fig.milestone_ranges(base_run).set_index("milestone")
    timeline = base_run.summary.to_dict()["timeline"]
    for key in ("last_patient_in", "primary_cutoff", "final_cutoff"):
        assert ranges.loc[key, "median_date"] == pd.Timestamp(timeline[key]["q50"]["date"])
        assert ranges.loc[key, "q10_date"] == pd.Timestamp(timeline[key]["q10"]["date"])
        assert ranges.loc[key, "q90_date"] == pd.Timestamp(timeline[key]["q90"]["date"])
        assert ranges.loc[key, "median_mcse_days"] == pytest.approx(timeline[key]["q50"]["mcse_days"])
    first_in = base_run.replicates["first_patient_in_date"]
    median_day = np.median((first_in - pd.Timestamp(base_run.scenario.trial.study_start)).dt.days)
    expected = pd.Timestamp(base_run.scenario.trial.study_start) + pd.Timedelta(days=round(median_day))
    assert ranges.loc["first_patient_in", "median_date"] == expected
    assert "first_interim_look" not in ranges.index


def test_timeline_shows_the_first_look_of_a_monitored_run(simon_run: SavedRun) -> None:
    ranges = timeline_fig.milestone_ranges(simon_run).set_index("milestone")
    looks = simon_run.looks[simon_run.looks["look"] == 1]
    days = (looks["look_date"] - pd.Timestamp(simon_run.scenario.trial.study_start)).dt.days
    expected = pd.Timestamp(simon_run.scenario.trial.study_start) + pd.Timedelta(days=round(np.median(days)))
    assert ranges.loc["first_interim_look", "median_date"] == expected
    # one date per replicate that had a first look (a look that would fall after the study end never happens)
    with_look = int((simon_run.replicates["interim_looks"] >= 1).sum())
    assert ranges.loc["first_interim_look", "replicates"] == len(looks) == with_look > 0
    assert list(ranges.index) == [k for k in timeline_fig.MILESTONES]


# --- power ---------------------------------------------------------------------------------------


def test_single_stage_threshold_is_the_critical_value(base_run: SavedRun) -> None:
    n = int(base_run.replicates["n_analysed"].value_counts().idxmax())
    expected = critical_responders(n, base_run.scenario.analysis.p0, base_run.scenario.analysis.alpha)
    assert power_fig.rejection_threshold(base_run) == expected == 8
    # every replicate analysing the modal n rejects exactly when it reaches the threshold
    table = base_run.replicates[base_run.replicates["n_analysed"] == n]
    assert (table["reject_h0"] == (table["responders"] >= expected)).all()


def test_simon_threshold_is_r_plus_one(simon_run: SavedRun) -> None:
    assert power_fig.rejection_threshold(simon_run) == 6
    table = simon_run.replicates
    assert (table["reject_h0"] == ((table["responders"] >= 6) & ~table["stopped_early"])).all()


def test_bayesian_threshold_is_the_first_count_past_the_posterior_bar(base_run: SavedRun) -> None:
    monitoring = dataclasses.replace(
        base_run.scenario.monitoring, rule="bayesian", looks=(15,), futility_predictive=0.05, success_posterior=0.9
    )
    saved = dataclasses.replace(base_run, scenario=dataclasses.replace(base_run.scenario, monitoring=monitoring))
    k = power_fig.rejection_threshold(saved)
    n, p0 = power_fig.modal_n_analysed(saved), saved.scenario.analysis.p0
    assert posterior_prob_above(p0, k, n, 0.5, 0.5) > 0.9 >= posterior_prob_above(p0, k - 1, n, 0.5, 0.5)


def test_responder_distribution_sums_to_one_and_to_power(base_run: SavedRun, simon_run: SavedRun) -> None:
    for saved in (base_run, simon_run):
        dist = power_fig.responder_distribution(saved)
        assert dist["proportion"].sum() == pytest.approx(1.0)
        direct = saved.replicates["responders"].value_counts(normalize=True)
        observed = dist.set_index("responders")["proportion"]
        assert observed[observed > 0].to_dict() == pytest.approx(direct.to_dict())
        assert dist["proportion_positive"].sum() == pytest.approx(saved.replicates["reject_h0"].mean())
        assert (dist["proportion_positive"] <= dist["proportion"] + 1e-12).all()
    assert "early_stop" not in power_fig.responder_distribution(base_run)


def test_monitored_design_reports_early_stop_and_expected_n(simon_run: SavedRun, figures: list[ReportFigure]) -> None:
    dist = power_fig.responder_distribution(simon_run)
    assert dist["early_stop"].iloc[0] == pytest.approx(simon_run.replicates["stopped_early"].mean())
    assert dist["expected_n"].iloc[0] == pytest.approx(simon_run.replicates["n_enrolled"].mean())
    figure = next(f for f in figures if f.key == "power_responders_simon")
    assert percent_estimate(simon_run.summary.early_stop) in figure.caption
    assert f"{simon_run.replicates['n_enrolled'].mean():.1f} patients on average" in figure.caption


def test_power_curve_is_the_oc_grid_with_two_mcse_bands(base_run: SavedRun, simon_run: SavedRun) -> None:
    assert base_run.oc is not None
    curve = power_fig.power_curve(base_run)
    grid = curve[curve["source"] == "oc grid"]
    assert grid["true_orr"].tolist() == sorted(base_run.oc["efficacy.orr"].tolist()) == [0.1, 0.25]
    assert grid["power"].tolist() == pytest.approx(base_run.oc.sort_values("efficacy.orr")["power"].tolist())
    assert (grid["high"] - grid["power"]).tolist() == pytest.approx(
        np.minimum(2 * grid["power_mcse"], 1 - grid["power"]).tolist()
    )
    own = curve[curve["source"] == "this run"].iloc[0]
    assert own["true_orr"] == 0.15 and own["power"] == pytest.approx(base_run.replicates["reject_h0"].mean())
    without = power_fig.power_curve(simon_run)
    assert without["source"].tolist() == ["this run"]


def test_power_caption_asks_for_the_oc_grid_when_missing(figures: list[ReportFigure], base_run: SavedRun) -> None:
    figure = next(f for f in figures if f.key == "power_curve")
    assert "simon" in figure.caption and power_fig.OC_COMMAND in figure.caption
    assert percent_estimate(base_run.summary.power) in figure.caption
    alone = power_fig.power_figures([base_run])[0]
    assert power_fig.OC_COMMAND not in alone.caption


# --- precision -----------------------------------------------------------------------------------


def test_orr_estimates_and_coverage(base_run: SavedRun, figures: list[ReportFigure]) -> None:
    data = precision_fig.orr_estimates(base_run)
    table = base_run.replicates
    assert data["ci_width"].to_numpy() == pytest.approx((table["orr_ci_high"] - table["orr_ci_low"]).to_numpy())
    covered = (table["orr_ci_low"] <= 0.15) & (0.15 <= table["orr_ci_high"])
    assert data["covers_true_orr"].mean() == pytest.approx(covered.mean())
    assert base_run.summary.coverage.value == pytest.approx(covered.mean())
    figure = next(f for f in figures if f.key == "precision_base")
    assert percent_estimate(base_run.summary.coverage) in figure.caption


# --- survival ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["PFS", "OS"])
def test_km_median_curve_is_the_median_of_replicate_curves(base_run: SavedRun, endpoint: str) -> None:
    time_column, event_column = {"PFS": ("pfs_months", "pfs_event"), "OS": ("os_months", "os_event")}[endpoint]
    fits = [kaplan_meier(g[time_column], g[event_column]) for _, g in _final(base_run).groupby("replicate")]
    envelope = survival_fig.km_envelope(base_run, endpoint).set_index("month")
    for month in (0.0, 3.0, 6.0, 12.0):
        values = np.array([fit.survival_at(month).estimate for fit in fits])
        known = values[np.isfinite(values)]
        assert envelope.loc[month, "s_median"] == pytest.approx(np.median(known))
        assert envelope.loc[month, "s_q10"] == pytest.approx(np.quantile(known, 0.1))
        assert envelope.loc[month, "replicates"] == known.size
    assert envelope.loc[0.0, "s_median"] == 1.0
    assert (envelope["replicates"] * 2 >= len(fits)).all()


def test_survival_on_grid_reads_the_curve_as_survival_at(base_run: SavedRun) -> None:
    group = _final(base_run).groupby("replicate").get_group(0)
    fit = kaplan_meier(group["os_months"], group["os_event"])
    grid = np.arange(0.0, fit.last_time + 3.0, 0.25)
    expected = [fit.survival_at(t).estimate for t in grid]
    assert survival_fig.survival_on_grid(fit, grid) == pytest.approx(expected, nan_ok=True)
    # past the last follow-up the curve is unknown, unless it has reached 0 (whichever this replicate's did)
    beyond = survival_fig.survival_on_grid(fit, [fit.last_time + 1.0])[0]
    assert beyond == 0.0 if fit.survival[-1] == 0.0 else np.isnan(beyond)
    censored = kaplan_meier([1.0, 2.0], [False, False])
    assert survival_fig.survival_on_grid(censored, [0.5, 5.0]).tolist() == [
        censored.survival_at(0.5).estimate,
        censored.survival_at(5.0).estimate,
    ]
    # by hand: S = 1/2 after the death at 1; past the last follow-up (3) unknown; 0 once everybody died
    half = kaplan_meier([1.0, 3.0], [True, False])
    np.testing.assert_array_equal(survival_fig.survival_on_grid(half, [0.5, 1.0, 3.0, 4.0]), [1.0, 0.5, 0.5, np.nan])
    gone = kaplan_meier([1.0, 3.0], [True, True])
    np.testing.assert_array_equal(survival_fig.survival_on_grid(gone, [0.5, 1.0, 3.0, 4.0]), [1.0, 0.5, 0.0, 0.0])


def test_benchmark_medians_come_from_the_calibration_comment(base_run: SavedRun) -> None:
    medians = survival_fig.benchmark_medians(base_run)
    assert (medians.pfs, medians.os) == (4.0, 12.0)
    text = "# trialsim calibrate --orr 0.2 --median-pfs=3.5 --scan-weeks 6\n[trial]\n"
    assert survival_fig.benchmark_medians(dataclasses.replace(base_run, scenario_text=text)).pfs == 3.5
    uncommented = "cmd = 'trialsim calibrate --median-pfs 9'\n"
    plain = survival_fig.benchmark_medians(dataclasses.replace(base_run, scenario_text=uncommented))
    assert (plain.pfs, plain.os) == (None, base_run.scenario.efficacy.os_median_months)


def test_survival_figure_marks_the_benchmarks(figures: list[ReportFigure]) -> None:
    figure = next(f for f in figures if f.key == "survival_base")
    assert "benchmark 4 months" in figure.caption and "benchmark 12 months" in figure.caption
    assert set(figure.data["endpoint"]) == {"PFS", "OS"}


# --- treatment -----------------------------------------------------------------------------------


def test_stop_reasons_are_value_counts_and_sum_to_one(base_run: SavedRun) -> None:
    reasons = treatment_fig.stop_reasons(base_run).set_index("reason")
    direct = _final(base_run)["treatment_end_reason"].value_counts(normalize=True)
    assert reasons["share"].sum() == pytest.approx(1.0)
    assert set(reasons.index) == set(treatment_fig.REASONS)
    for reason, share in direct.items():
        assert reasons.loc[reason, "share"] == pytest.approx(share)
    assert (reasons["share_mcse"] >= 0).all() and reasons.loc["progression", "share_mcse"] > 0


def test_dropout_before_first_scan(base_run: SavedRun, figures: list[ReportFigure]) -> None:
    final = _final(base_run)
    dropout = treatment_fig.dropout_before_first_scan(base_run)
    assert dropout.value == pytest.approx((~final["evaluable"]).mean())
    # the ratio MCSE over replicates, written out
    per = final.assign(x=~final["evaluable"]).groupby("replicate")["x"].agg(["sum", "size"])
    residual = per["sum"] - dropout.value * per["size"]
    r = len(per)
    assert dropout.mcse == pytest.approx(math.sqrt((residual**2).sum() / (r * (r - 1))) / per["size"].mean())
    figure = next(f for f in figures if f.key == "treatment")
    assert percent_estimate(dropout) in figure.caption


# --- every figure --------------------------------------------------------------------------------


def test_every_figure_has_words_data_and_renders(figures: list[ReportFigure]) -> None:
    keys = [f.key for f in figures]
    assert len(keys) == len(set(keys))
    assert [SECTIONS.index(f.section) for f in figures] == sorted(SECTIONS.index(f.section) for f in figures)
    # the forecast's section is drawn only with a forecast, the design search's only from a search folder
    assert {f.section for f in figures} == set(SECTIONS) - {"forecast", "design"}
    ids: list[str] = []
    for figure in figures:
        assert figure.title.strip() and figure.caption.strip() and figure.alt.strip(), figure.key
        assert isinstance(figure.data, pd.DataFrame) and not figure.data.empty, figure.key
        svg = figure.svg()
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("aria-label") == figure.alt
        ids += re.findall(r'\bid="([^"]+)"', svg)
        assert figure.png().startswith(PNG_SIGNATURE)
    assert len(ids) == len(set(ids)), "inline SVGs on one page must not share ids"


def test_svg_is_the_same_every_time(figures: list[ReportFigure]) -> None:
    """A report drawn twice (or from a run folder) must give the same files: no ids that drift."""
    figure = next(f for f in figures if f.key == "timeline")
    first = figure.svg()
    figure.png(dpi=150)  # a render at another dpi must not change the next SVG
    assert figure.svg() == first
    assert "<?xml" not in first and first.startswith("<svg")


def test_runs_without_patients_skip_the_patient_figures(base_run: SavedRun, simon_run: SavedRun) -> None:
    bare = dataclasses.replace(simon_run, patients=None)
    keys = [f.key for f in all_figures([base_run, bare])]
    assert "recruitment_fan_base" in keys and "recruitment_fan_simon" not in keys
    assert "survival_base" in keys and "survival_simon" not in keys
    assert {"recruitment_complete", "timeline", "power_curve", "power_responders_simon", "precision_simon"} <= set(
        keys
    )
    alone = [f.key for f in all_figures([bare])]
    assert not any(k.startswith(("recruitment_fan", "survival", "treatment")) for k in alone)
    assert "treatment" in keys
    treatment = next(f for f in all_figures([base_run, bare]) if f.key == "treatment")
    assert set(treatment.data["scenario"]) == {"base"}


def test_scenario_labels_are_unique_file_stems(base_run: SavedRun) -> None:
    odd = dataclasses.replace(base_run, name="Slow Recruitment!")
    assert scenario_labels([base_run, base_run, odd]) == ["base", "base_2", "slow_recruitment"]


def test_report_figure_checks_its_section_and_key() -> None:
    figure, _ = new_figure()
    with pytest.raises(ValueError, match="section must be one of"):
        ReportFigure("x", "summary", "t", "c", "a", pd.DataFrame({"a": [1]}), figure)
    with pytest.raises(ValueError, match="key must be a file stem"):
        ReportFigure("x y", "power", "t", "c", "a", pd.DataFrame({"a": [1]}), figure)


def test_numbers_read_as_a_committee_reads_them() -> None:
    assert percent(0.384) == "38%" and percent(0.001) == "<1%" and percent(math.nan) == "n/a"
    assert percent_estimate(Estimate(0.38, 0.005, 100)) == "38% (± 0.5%)"
    assert long_date(dt.date(2027, 10, 29)) == "29 October 2027"


def test_figures_never_use_pyplot() -> None:
    imports = re.compile(r"^\s*(?:import|from)\s+\S*(?:pyplot|pylab)|^\s*from\s+matplotlib\s+import\s+.*pyplot", re.M)
    files = list(FIGURES_DIR.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        assert not imports.search(path.read_text(encoding="utf-8")), path.name
