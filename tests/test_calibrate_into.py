"""``trialsim calibrate --into SCENARIO --out NEW.toml``: the fit written into a copy of a scenario, the rest kept."""

from __future__ import annotations

import json
import sys

import pytest

import sim.cli.calibrate as calibrate_cli
from sim.cli import main
from sim.model.trial_model import TrialModel
from sim.scenario import load_scenario, read_scenario_file, scenario_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TARGETS = ["--orr", "0.2", "--dcr", "0.65", "--median-pfs", "4", "--median-os", "12", "--scan-weeks", "6", "--cohort", "5000"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[str, dict, str]:
    """The copy of pessimistic with the fit, the fit's JSON document, and pessimistic's text before and after."""
    folder = tmp_path_factory.mktemp("into")
    before = scenario_path("pessimistic").read_bytes()
    out = folder / "new.toml"
    assert main(["calibrate", *TARGETS, "--into", "pessimistic", "--out", str(out), "--json"]) == 0
    assert scenario_path("pessimistic").read_bytes() == before
    return out.read_text(), out, before.decode()


def test_the_copy_holds_the_fitted_efficacy(written, capsys) -> None:
    text, out, _ = written
    fitted = tomllib.loads(text)["efficacy"]
    assert main(["calibrate", *TARGETS, "--scenario", "pessimistic", "--json"]) == 0
    parameters = json.loads(capsys.readouterr().out)["parameters"]
    assert fitted == parameters
    TrialModel.from_scenario(load_scenario(out))  # usable as it is


def test_everything_but_the_efficacy_is_kept_with_its_comments(written) -> None:
    text, out, original = written
    raw, copy = read_scenario_file("pessimistic"), tomllib.loads(text)
    assert {k: v for k, v in copy.items() if k != "efficacy"} == {k: v for k, v in raw.items() if k != "efficacy"}
    efficacy_at = original.index("[efficacy]")
    after_efficacy = original.index("\n[safety]")
    kept = original[:efficacy_at] + original[after_efficacy:]
    for line in kept.splitlines():
        assert line in text, line  # every line outside [efficacy], comments included, as it was
    assert "# shared/data README pessimistic" not in text.split("[safety]")[0].split("[efficacy]")[1]


def test_the_fit_is_recorded_in_the_new_efficacy_table(written) -> None:
    text, out, _ = written
    table = text.split("[efficacy]\n", 1)[1]
    assert table.startswith("# Calibrated efficacy block (trialsim calibrate; see docs/calibration.md).")
    assert f"# command: trialsim calibrate --orr 0.2 --dcr 0.65 --median-pfs 4 --median-os 12 --scan-weeks 6 " \
           f"--family weibull --into pessimistic --cohort 5000 --out {out}" in table


@pytest.fixture
def no_fit(monkeypatch):
    monkeypatch.setattr(calibrate_cli, "calibrate", lambda *a, **k: pytest.fail("fitted before checking the options"))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--into", "base"], "--into writes a copy of the scenario and needs --out NEW.toml"),
        (["--into", "base", "--scenario", "base", "--out", "x.toml"], "argument --scenario: not allowed with argument --into"),
        (["--into", "nowhere.toml", "--out", "x.toml"], "scenario 'nowhere.toml' is neither a file nor a shipped scenario"),
    ],
)
def test_into_is_checked_before_fitting(extra, message, no_fit, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["calibrate", *TARGETS, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trialsim: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "x.toml").exists()


def test_the_scenario_itself_is_not_overwritten(no_fit, tmp_path, capsys) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(scenario_path("base").read_text())
    assert main(["calibrate", *TARGETS, "--into", str(mine), "--out", str(tmp_path / "." / "mine.toml")]) == 2
    assert capsys.readouterr().err == f"trialsim: error: --out {tmp_path / 'mine.toml'} is the --into scenario itself; give a new file name\n"


def test_a_copy_the_model_cannot_use_is_not_written(tmp_path, capsys) -> None:
    """Scans every 180 days: a response is surely confirmed only on day 367, when fewer patients are
    progression-free than the fitted ORR, so the copy would fail at its first run."""
    slow = tmp_path / "slow_scans.toml"
    slow.write_text(scenario_path("base").read_text().replace("scan_interval_days = 42 ", "scan_interval_days = 180"))
    out = tmp_path / "new.toml"
    assert main(["calibrate", *TARGETS[:-2], "--orr", "0.3", "--dcr", "0.7", "--cohort", "5000", "--into", str(slow), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trialsim: error: {out} was not written: the scenario with the fitted efficacy is not usable: efficacy.orr (0.3)")
    assert not out.exists()
