"""``trialsim benchmarks`` and ``trialsim calibrate``: output shapes, the TOML block, option errors."""

from __future__ import annotations

import argparse
import json
import re
import sys

import pytest

from sim.cli import build_parser, main
from sim.cli.calibrate import calibrate_command, handle_benchmarks, handle_calibrate
from sim.scenario import parse_scenario, read_scenario_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAST = ["--cohort", "8000"]


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def _run(argv: list[str]) -> int:
    """The command's exit status, through ``main`` as the console script runs it."""
    return main(argv)


def test_handlers_are_set() -> None:
    assert _parse(["benchmarks"]).handler is handle_benchmarks
    assert _parse(["calibrate", "--median-pfs", "3"]).handler is handle_calibrate


def test_benchmarks_table_and_json_filters(capsys) -> None:
    assert _run(["benchmarks", "--regimen", "regorafenib", "--setting", "lenvatinib"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["id", "regimen", "setting"]
    assert {line.split()[0] for line in table[2:-1]} >= {"L-3", "L-4"}
    assert table[-1].startswith(f"{len(table) - 3} row(s)")
    assert _run(["benchmarks", "--id", "T1-1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["T1-1"]
    assert rows[0]["orr"] == 0.11 and rows[0]["response_criteria"] == "mRECIST" and rows[0]["consensus_ref"] == "51"


def test_unknown_benchmark_id_names_the_listing_command(capsys) -> None:
    assert _run(["benchmarks", "--id", "T9-9"]) == 2
    assert capsys.readouterr().err == (
        "trialsim: error: no benchmark with id 'T9-9'; `trialsim benchmarks` lists the ids\n"
    )


def test_calibrate_json_and_toml_block(tmp_path, capsys) -> None:
    out = tmp_path / "efficacy.toml"
    argv = [
        "calibrate",
        "--orr",
        "0.15",
        "--dcr",
        "0.65",
        "--median-pfs",
        "4",
        "--median-os",
        "12",
        "--scan-weeks",
        "6",
        "--out",
        str(out),
        "--json",
        *FAST,
    ]
    assert _run(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in doc["targets"]] == ["orr", "dcr", "median_pfs_months", "median_os_months"]
    for entry in doc["targets"]:
        assert set(entry) == {"name", "target", "achieved", "mcse", "miss", "statistic"}
        assert abs(entry["miss"]) <= 0.01
        assert abs(entry["achieved"] - entry["target"]) <= 0.05 * entry["target"]
        assert 0 < entry["mcse"] < 0.05 * entry["target"]
    assert [i["name"] for i in doc["implied"]] == ["pfs_at_6m", "pfs_at_12m", "pfs_at_24m", "os_at_6m", "os_at_12m"]
    assert all(set(i) == {"name", "value", "mcse", "statistic"} for i in doc["implied"])
    assert doc["warnings"] == []
    assert doc["parameters"]["pfs"]["family"] == "weibull"
    assert set(doc["parameters"]["pfs"]) == {"family", "median_months", "shape"}
    assert doc["parameters"]["os_median_months"] == 12
    assert (doc["scan_interval_days"], doc["confirmed"], doc["source_n"], doc["cohort_size"]) == (42, True, None, 8000)
    assert doc["out"] == str(out)

    text = out.read_text()
    assert text == doc["toml"]
    assert f"# command: {doc['command']}" in text.splitlines()
    assert doc["command"].startswith(
        "trialsim calibrate --orr 0.15 --dcr 0.65 --median-pfs 4 --median-os 12 --scan-weeks 6"
    )
    block = tomllib.loads(text)["efficacy"]
    assert set(block) >= {"orr", "pfs", "time_to_response", "os_median_months"}
    raw = read_scenario_file("base")
    raw["efficacy"] = block
    assert parse_scenario(raw).efficacy.pfs.parameters() == doc["parameters"]["pfs"]


def test_calibrate_text_prints_targets_notes_and_the_block(capsys) -> None:
    """The note on a median between scan clusters names the option --n, in the summary and in the block."""
    argv = ["calibrate", "--median-pfs", "3.3", "--median-os", "9", "--scan-weeks", "6", "--family", "exponential"]
    assert _run([*argv, *FAST]) == 0
    out = capsys.readouterr().out
    assert "median_pfs_months" in out and "target" in out and "achieved" in out
    assert '\n[efficacy.pfs]\nfamily = "exponential"\n' in out
    hint = "; give --n to match the mean median of a study of that size"
    assert "note: median PFS 3.3 falls between scan clusters" in out
    assert out.count(hint) == 2  # the printed note and the block's comment
    assert "source_n" not in out


def test_benchmark_targets_with_the_missing_scan_interval(capsys) -> None:
    assert _run(["calibrate", "--benchmark", "T1-1"]) == 2
    assert capsys.readouterr().err == (
        "trialsim: error: benchmark T1-1 does not record its scan interval; --scan-weeks is required: published "
        "medians and DCR are read on the source's scan grid (e.g. --scan-weeks 6 or 8; the consensus recommends "
        "imaging every 6-8 weeks)\n"
    )
    assert _run(["calibrate", "--benchmark", "T1-1", "--scan-weeks", "6", "--json", *FAST]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {t["name"]: t["target"] for t in doc["targets"]} == {
        "orr": 0.11,
        "dcr": 0.65,
        "median_pfs_months": 3.1,
        "median_os_months": 10.6,
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--os-at", "12"], "--os-at expects MONTHS:RATE such as 12:0.55, got '12'"),
        (["--pfs-at", "6:x"], "--pfs-at expects MONTHS:RATE such as 12:0.55, got '6:x'"),
        (["--cuts", "2;6"], "--cuts expects months separated by commas such as 2,6, got '2;6'"),
        (
            ["--dcr", "0.55", "--median-pfs", "2.8", "--scan-weeks", "6", "--family", "piecewise_exponential"],
            "--family piecewise_exponential needs --cuts: the months at which the PFS hazard may change (such as 2 "
            "and 6), one relative hazard to fit per cut",
        ),
        (
            ["--dcr", "0.55", "--median-pfs", "2.8", "--scan-weeks", "6", "--cuts", "2"],
            "--cuts applies to --family piecewise_exponential only, got weibull",
        ),
        (
            ["--median-pfs", "3", "--dcr", "1.5", "--scan-weeks", "6"],
            "--dcr must be a proportion strictly between 0 and 1 (0.147 for 14.7%), got 1.5",
        ),
        (
            ["--median-pfs", "3"],
            "--scan-weeks is required: published medians and DCR are read on the source's scan grid (e.g. --scan-weeks 6 or 8; the consensus recommends imaging every 6-8 weeks)",
        ),
        (
            ["--median-pfs", "3", "--scan-weeks", "6", "--family", "gamma"],
            "--family must be one of exponential, weibull, loglogistic, lognormal, piecewise_exponential, got 'gamma'",
        ),
        (
            ["--median-pfs", "3", "--scan-weeks", "6", "--cohort", "10"],
            "--cohort must be a whole number of at least 1000 patients, got 10",
        ),
        (
            ["--median-pfs", "3", "--scan-weeks", "6", "--tolerance", "2"],
            "--tolerance must be a number strictly between 0 and 1, got 2.0",
        ),
        (
            ["--median-pfs", "3", "--scan-weeks", "6"],
            "--family weibull has two PFS parameters (median and shape) but only one PFS target was given; add --dcr, --median-pfs or --pfs-at MONTHS:RATE, or use --family exponential",
        ),
        (
            ["--orr", "0.2", "--median-os", "9", "--scan-weeks", "6", "--family", "exponential"],
            "give at least one PFS target: --median-pfs, --dcr or --pfs-at MONTHS:RATE",
        ),
        (["--scan-weeks", "6"], "give at least one target: --orr, --dcr, --median-pfs, --median-os, --pfs-at or --os-at"),
        (
            ["--orr", "0.3", "--dcr", "0.2", "--median-pfs", "4", "--median-os", "4", "--scan-weeks", "6"],
            "--dcr (0.2) must not be below --orr (0.3): responders are part of disease control; --median-os (4) must exceed --median-pfs (4): OS includes PFS",
        ),
        (
            ["--scan-weeks", "6.1", "--n", "0", "--pfs-at", "6:0.4", "--os-at", "6:0.3", "--os-at", "7:1.5"],
            "--scan-weeks must be a number of weeks in [0.5, 52] that makes whole days (such as 6 or 8), got 6.1; --os-at needs MONTHS:RATE with MONTHS > 0 and 0 < RATE < 1, got 7.0:1.5; --n must be a whole number of patients of at least 1, got 0",
        ),
    ],
)
def test_bad_options_are_one_line_naming_the_option(argv: list[str], message: str, capsys) -> None:
    assert _run(["calibrate", *argv]) == 2
    assert capsys.readouterr().err == f"trialsim: error: {message}\n"


def test_orr_above_the_ceiling_names_every_option_it_suggests(capsys) -> None:
    argv = ["calibrate", "--orr", "0.6", "--dcr", "0.65", "--median-pfs", "3.1", "--median-os", "10.6", "--scan-weeks", "6"]
    assert _run([*argv, *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trialsim: error: --orr 0.6 is more than the model allows")
    assert re.search(
        r"; lower --orr below 0\.\d{3}, check --dcr, --median-pfs and --scan-weeks against the source, or use "
        r"--no-confirmed if its responses were not confirmed\n$",
        err,
    ), err


def test_the_never_assessed_and_unscheduled_shares_reach_the_fit_the_json_and_the_command(capsys) -> None:
    """--not-assessed 0.1 fits the ORR among the assessed (0.2 / 0.9) and reports the published one as the target."""
    argv = ["calibrate", "--orr", "0.2", "--dcr", "0.6", "--median-pfs", "3", "--scan-weeks", "6", "--json"]
    assert _run([*argv, "--not-assessed", "0.1", "--unscheduled-progression", "0.3", *FAST]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["not_assessed"], doc["unscheduled_progression"]) == (0.1, 0.3)
    assert doc["parameters"]["orr"] == pytest.approx(0.2 / 0.9, rel=1e-12)
    orr = next(t for t in doc["targets"] if t["name"] == "orr")
    assert orr["target"] == 0.2 and abs(orr["achieved"] - 0.2) <= 4 * orr["mcse"]
    assert "--not-assessed 0.1 --unscheduled-progression 0.3" in doc["command"]
    assert any("never assessed (--not-assessed)" in note for note in doc["notes"])


def test_command_is_canonical() -> None:
    args = _parse(
        [
            "calibrate",
            "--scan-weeks",
            "8",
            "--os-at",
            "12:0.55",
            "--median-os",
            "13.8",
            "--no-confirmed",
            "--dcr",
            "0.442",
            "--n",
            "217",
            "--seed",
            "3",
        ]
    )
    assert calibrate_command(args) == (
        "trialsim calibrate --dcr 0.442 --median-os 13.8 --os-at 12:0.55 --scan-weeks 8 --n 217 --no-confirmed "
        "--family weibull --seed 3"
    )
