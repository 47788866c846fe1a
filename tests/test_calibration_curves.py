"""A digitised KM curve as calibration targets: read with checks, and fitted back to the curve that made it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sim.calibration import CalibrationError, Landmark, observe_cohort, read_km_curve, source_scenario
from sim.cli import main
from sim.distributions import Weibull

POINTS = (1.5, 3.0, 4.5, 6.0, 9.0, 12.0)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_curve_file_becomes_one_landmark_per_point(tmp_path) -> None:
    curve = _write(tmp_path / "pfs.csv", "months,survival\n1.5,0.8\n3,0.55\n6,0.55\n12,0.2\n")
    assert read_km_curve(curve) == (Landmark(1.5, 0.8), Landmark(3.0, 0.55), Landmark(6.0, 0.55), Landmark(12.0, 0.2))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,survival\n1,0.5\n", "needs the columns months, survival; missing months"),
        ("months,survival\n", "has no rows"),
        ("months,survival\n1,0.9\n1,0.8\n", "row 3: months must increase from row to row, got 1 after 1"),
        ("months,survival\n1,0.8\n2,0.9\n", "row 3: a Kaplan-Meier curve never rises, got survival 0.9 after 0.8"),
        ("months,survival\n1,0.8\n2,x\n", "row 3, column survival: expected a number, got 'x'"),
        ("months,survival\n0,0.8\n", "row 2: months must be > 0 and survival in (0, 1), got 0, 0.8"),
        ("months,survival\n1,80\n", "row 2: months must be > 0 and survival in (0, 1), got 1, 80"),
    ],
)
def test_a_bad_curve_file_names_the_row_and_column(tmp_path, text: str, message: str) -> None:
    with pytest.raises(CalibrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_km_curve(_write(tmp_path / "pfs.csv", text))


def test_a_missing_curve_file_is_one_line_from_the_command(tmp_path, capsys) -> None:
    argv = ["calibrate", "--pfs-curve", str(tmp_path / "none.csv"), "--scan-weeks", "6"]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"trialsim: error: cannot read the curve file {tmp_path / 'none.csv'}")


def test_the_curve_of_a_known_weibull_gives_it_back(base, tmp_path, capsys) -> None:
    """Six points of the scan-dated KM curve of Weibull(3.0, 1.3) (the cohort's own seed: common random numbers)."""
    truth = dataclasses.replace(base.efficacy, pfs=Weibull(3.0, 1.3))
    seen = observe_cohort(source_scenario(base, truth, 42, True, 60.0), 40_000, 5)
    rows = "".join(f"{m:g},{seen.rate_at('pfs', m):.6f}\n" for m in POINTS)
    curve = _write(tmp_path / "pfs.csv", "months,survival\n" + rows)
    argv = ["calibrate", "--pfs-curve", str(curve), "--median-os", "12", "--scan-weeks", "6", "--seed", "5", "--json"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    pfs = doc["parameters"]["pfs"]
    assert pfs["median_months"] == pytest.approx(3.0, rel=0.01) and pfs["shape"] == pytest.approx(1.3, rel=0.01)
    assert [t["name"] for t in doc["targets"]][:6] == [f"pfs_at_{m:g}m" for m in POINTS]
    assert f"--pfs-curve {curve}" in doc["command"]
