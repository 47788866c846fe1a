"""``trialsim report``: the page's numbers are the run's, ``--from`` draws the same page, bad input is refused.

The page is parsed as HTML (the traffic-light cells carry their numbers as data attributes, the
summary tables their rows), never searched for strings a template happens to contain.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.cli import main
from sim.reports.story import Thresholds, long_date, percent

SMALL = ["--replicates", "40", "--oc-replicates", "20", "--orr", "0.1,0.3", "--seed", "5", "--no-progress"]


class _Page(HTMLParser):
    """Collects the traffic-light cells, the summary tables, headings, figures and outside links."""

    def __init__(self) -> None:
        super().__init__()
        self.lights: dict[tuple[str, str], dict[str, str]] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.headings: list[str] = []
        self.images: list[dict[str, str]] = []
        self.outside: list[str] = []
        self._row: str | None = None
        self._table: str | None = None
        self._cells: list[str] | None = None
        self._text: list[str] | None = None
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in ("src", "href"):
            if a.get(key, "").startswith(("http:", "https:", "//")):
                self.outside.append(a[key])
        if tag == "tr" and "data-scenario" in a:
            self._row = a["data-scenario"]
        if tag == "td" and "data-figure" in a and self._row is not None:
            self.lights[(self._row, a["data-figure"])] = a
        if tag == "table" and "numbers" in a.get("class", ""):
            self._table = a["data-scenario"]
            self.tables[self._table] = []
        if tag == "tr" and self._table is not None:
            self._cells = []
        if tag == "td" and self._cells is not None:
            self._text = []
        if tag in ("h1", "h2", "h3"):
            self._heading, self._text = True, []
        if tag == "img":
            self.images.append(a)

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cells is not None and self._text is not None:
            self._cells.append("".join(self._text).strip())
            self._text = None
        if tag == "tr" and self._cells:
            assert self._table is not None
            self.tables[self._table].append(self._cells)
            self._cells = None
        if tag == "table":
            self._table = None
        if tag in ("h1", "h2", "h3") and self._heading and self._text is not None:
            self.headings.append("".join(self._text).strip())
            self._heading, self._text = False, None


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "committee"
    assert main(["report", "base", "pessimistic", *SMALL, "--out", str(out)]) == 0
    return out


def test_report_writes_the_page_figures_data_and_run_folders(report: Path) -> None:
    assert (report / "index.html").is_file()
    svgs = sorted(p.stem for p in (report / "figures").glob("*.svg"))
    assert svgs and svgs == sorted(p.stem for p in (report / "figures").glob("*.png"))
    assert svgs == sorted(p.stem for p in (report / "data").glob("*.csv"))
    for name in ("base", "pessimistic"):
        assert {
            "summary.json",
            "scenario.toml",
            "replicates.parquet",
            "looks.parquet",
            "patients.parquet",
            "oc.csv",
        } <= {p.name for p in (report / "runs" / name).iterdir()}
    leftovers = [p.name for p in report.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_traffic_lights_show_the_numbers_of_summary_json(report: Path) -> None:
    page = parse(report / "index.html")
    for name in ("base", "pessimistic"):
        doc = json.loads((report / "runs" / name / "summary.json").read_text())
        cells = {figure: page.lights[(name, figure)] for (scenario, figure) in page.lights if scenario == name}
        assert set(cells) == {"power", "enrollment_complete", "last_patient_in", "primary_cutoff", "ci_width"}
        for figure, key in (("power", "power"), ("enrollment_complete", "enrollment_complete_by_close")):
            assert float(cells[figure]["data-estimate"]) == doc[key]["estimate"]
            assert float(cells[figure]["data-mcse"]) == doc[key]["mcse"]
        assert cells["last_patient_in"]["data-estimate"] == doc["timeline"]["last_patient_in"]["q50"]["date"]
        assert float(cells["last_patient_in"]["data-mcse"]) == doc["timeline"]["last_patient_in"]["q50"]["mcse_days"]
        assert cells["primary_cutoff"]["data-estimate"] == doc["timeline"]["primary_cutoff"]["q50"]["date"]
        assert float(cells["ci_width"]["data-estimate"]) == doc["orr"]["median_ci_width"]["estimate"]


def test_lights_follow_the_thresholds(report: Path) -> None:
    page = parse(report / "index.html")
    limits = Thresholds()
    for (name, figure), cell in page.lights.items():
        if figure in ("power", "enrollment_complete"):
            value = float(cell["data-estimate"])
            green, amber = (
                (limits.green_power, limits.amber_power)
                if figure == "power"
                else (limits.green_complete, limits.amber_complete)
            )
            expected = "green" if value >= green else "amber" if value >= amber else "red"
            assert cell["data-light"] == expected, (name, figure)


def test_summary_tables_match_summary_json(report: Path) -> None:
    page = parse(report / "index.html")
    for name in ("base", "pessimistic"):
        doc = json.loads((report / "runs" / name / "summary.json").read_text())
        rows = {row[0]: row[1:] for row in page.tables[name]}
        estimate, mcse, unit = rows["Power: P(reject H0)"]
        assert (estimate, mcse, unit) == (
            f"{doc['power']['estimate']:.4f}",
            f"{doc['power']['mcse']:.4f}",
            "probability",
        )
        assert rows["ORR estimate (mean)"][0] == f"{doc['orr']['mean']['estimate']:.4f}"
        assert rows["Last patient in date, 50% quantile"][0] == doc["timeline"]["last_patient_in"]["q50"]["date"]
        assert all(len(row) == 3 for row in rows.values())


def test_the_answer_is_written_from_the_numbers(report: Path) -> None:
    doc = json.loads((report / "runs" / "base" / "summary.json").read_text())
    html = (report / "index.html").read_text()
    power = doc["power"]
    assert f"a {percent(power['estimate'])} (±{percent(power['mcse'], 1)}) chance of a positive result" in html
    assert long_date(dt.date(2025, 11, 1), 0) == "1 November 2025"
    assert "finish recruiting by 30 November 2027" in html


def test_page_is_self_contained(report: Path) -> None:
    page = parse(report / "index.html")
    assert page.outside == []
    assert page.images and all(
        img["src"].startswith("data:image/svg+xml;base64,") and img["alt"] for img in page.images
    )
    html = (report / "index.html").read_text()
    assert "<script" not in html and "@import" not in html and "url(" not in html


def test_page_has_every_section(report: Path) -> None:
    headings = parse(report / "index.html").headings
    for heading in (
        "The answer",
        "Recruitment",
        "Timeline",
        "Power",
        "Precision of the response rate",
        "Survival",
        "Why patients stop treatment",
        "Assumptions and their sources",
        "Reproducibility",
    ):
        assert heading in headings


def test_from_run_folders_gives_the_same_page(report: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    runs = [str(report / "runs" / name) for name in ("base", "pessimistic")]
    assert main(["report", "--from", *runs, "--out", str(again)]) == 0
    assert (again / "index.html").read_text() == (report / "index.html").read_text()
    for csv in (report / "data").glob("*.csv"):
        assert (again / "data" / csv.name).read_text() == csv.read_text()
    assert not (again / "runs").exists()


def test_assumptions_show_sources_and_differences(report: Path) -> None:
    html = (report / "index.html").read_text()
    assert "registry: sample size 35" in html
    page_rows = [line for line in html.splitlines() if 'class="differs"' in line]
    assert any("efficacy.orr" in line for line in page_rows)
    assert not any("trial.sample_size" in line for line in page_rows)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--from", "{tmp}/nowhere"], r"nowhere: no such folder"),
        (
            ["--from", "{tmp}/foreign"],
            r"foreign: not a trialsim run folder \(missing summary.json, scenario.toml, replicates.parquet\)",
        ),
        (["no_such_scenario"], r"scenario 'no_such_scenario' is neither a file nor a shipped scenario"),
        (["base", "--from", "{tmp}/foreign"], r"give scenarios to simulate or --from folders, not both"),
        (["base", "--green-power", "0.3"], r"--amber-power \(0.5\) and --green-power \(0.3\) must satisfy"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(arguments, message, tmp_path, capsys) -> None:
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("not a run")
    out = tmp_path / "out"
    words = [a.replace("{tmp}", str(tmp_path)) for a in arguments]
    assert main(["report", *words, *SMALL, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("trialsim: error: ")
    assert re.search(message, err), err
    assert not out.exists()


def test_unwritable_out_is_refused_before_simulating(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "base", *SMALL, "--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "cannot write there" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_numbers_are_finite_where_the_page_shows_them(report: Path) -> None:
    for (_, figure), cell in parse(report / "index.html").lights.items():
        if figure in ("power", "enrollment_complete", "ci_width"):
            assert math.isfinite(float(cell["data-estimate"]))
