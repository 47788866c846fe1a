"""The design search against exact designs, against full simulation, and against bad input."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from sim.cli import main
from sim.reports.figures.design import design_figure
from sim.runs.runner import run
from sim.scenario import load_scenario
from sim.sizing import Levers, SizeInputError, Targets, read_size, size
from sim.stats.designs import simon_characteristics, simon_designs, smallest_single_stage
from tests.helpers import IDEAL

SIMON_TABLE = Path(__file__).resolve().parent / "data" / "simon1989.csv"
FAST = {"replicates": 300, "screen_replicates": 300, "progress": False, "engine": "auto"}


def _published() -> dict[tuple[float, float], dict[str, tuple[int, int, int, int]]]:
    """Simon (1989) Table 1 at beta 0.20: (p0, p1) -> {optimal, minimax: (r1, n1, r, n)}."""
    lines = [line for line in SIMON_TABLE.read_text().splitlines() if not line.startswith("#")]
    out: dict[tuple[float, float], dict[str, tuple[int, int, int, int]]] = {}
    for row in csv.DictReader(lines):
        if row["beta"] == "0.20":
            key = (float(row["p0"]), float(row["p1"]))
            out.setdefault(key, {})[row["design"]] = tuple(int(row[k]) for k in ("r1", "n1", "r", "n"))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("p0", "p1"), sorted(_published()))
def test_an_idealised_trial_gets_the_published_designs(p0: float, p1: float) -> None:
    """Every patient analysed, every response confirmed, instant accrual: the screen is exact, so the
    search finds Simon's optimal and minimax designs and the smallest single-stage design."""
    overrides = [*IDEAL, f"analysis.p0={p0}"]
    result = size(
        "base", Targets(p1=p1, on_time_by=dt.date(2028, 10, 31)), Levers(n=tuple(range(10, 51)),
        designs=("single", "simon-optimal", "simon-minimax")), overrides, shortlist=3, **FAST,
    )
    grid = result.screened
    assert (grid["theta1"] == p1).all()  # the tested rate is exactly the latent ORR here
    single = grid[(grid["design"] == "single") & (grid["screened_power"] >= 0.8)]
    expected = smallest_single_stage(p0, p1, 0.05, 0.8, 50)
    assert expected is not None and single["n"].min() == expected.n
    published = _published()[(p0, p1)]
    search = simon_designs(p0, p1, 0.05, 0.8, 50)  # what `trialsim design` prints
    simon = grid[grid["design"].str.startswith("simon")]
    minimax = simon[simon["design"] == "simon-minimax"].iloc[0]
    optimal = simon.loc[simon["screened_expected_n_p0"].idxmin()]
    for row, name, found in ((minimax, "minimax", search.minimax), (optimal, "optimal", search.optimal)):
        design = (int(row["r1"]), int(row["n1"]), int(row["r"]), int(row["n"]))
        assert design == published[name] == (found.r1, found.n1, found.r, found.n)
    assert optimal["design"] == "simon-optimal"
    # the confirmed designs' simulated power is their exact power
    for c in result.confirmed:
        d = c.design
        exact = (
            simon_characteristics(d.r1, d.n1, d.r, d.n, p1)[2] if d.n1 is not None else smallest_power(d.n, d.r, p1)
        )
        power = c.figures["power"]
        assert abs(power.value - exact) <= 4 * max(power.mcse, math.sqrt(exact * (1 - exact) / FAST["replicates"]))


def smallest_power(n: int, r: int, p: float) -> float:
    from scipy import stats

    return float(stats.binom.sf(r, n, p))


@pytest.fixture(scope="module")
def base_search():
    levers = Levers(n=tuple(range(38, 60)), designs=("single",), sites=(2, 3))
    targets = Targets(p1=0.25, on_time_by=dt.date(2028, 6, 30), p_on_time=0.7)
    return size("base", targets, levers, replicates=1500, screen_replicates=1000, progress=False, engine="auto")


@pytest.mark.slow
def test_the_recommended_n_is_the_smallest_feasible_and_one_fewer_is_not(base_search) -> None:
    best = base_search.best
    assert best is not None and best.status == "feasible"
    # every feasible design of the search is at least as large, within the same objective
    feasible = [c for c in base_search.confirmed if c.status == "feasible"]
    assert best.design.n == min(c.design.n for c in feasible)
    # a full simulation of N - 1 in the same setting: not feasible by the MCSE rule
    smaller = [c for c in base_search.confirmed if c.setting == best.setting and c.design.n == best.design.n - 1]
    assert smaller and smaller[0].status != "feasible"
    power = smaller[0].figures["power"]
    assert power.value - 0.8 <= 2 * power.mcse


@pytest.mark.slow
def test_the_written_scenario_reproduces_the_reported_figures(base_search, tmp_path) -> None:
    written = base_search.write(tmp_path)
    assert {p.name for p in written} == {"size.csv", "screened.csv", "pareto.csv", "size.json", "best.toml"}
    best = base_search.best
    again = run(str(tmp_path / "best.toml"), replicates=1500, seed=99, progress=False, engine="auto")
    assert again.scenario.trial.sample_size == best.design.n
    pairs = [
        (best.figures["power"], again.summary.power),
        (best.figures["expected_n_p1"], again.summary.n_enrolled),
        (best.figures["months_to_decision"], again.summary.decision_months),
    ]
    for reported, rerun in pairs:
        assert abs(reported.value - rerun.value) <= 4 * math.hypot(reported.mcse, rerun.mcse)
    document = json.loads((tmp_path / "size.json").read_text())
    assert document["best"]["n"] == best.design.n and document["best"]["design"] == "single"
    assert set(document["best"]["power"]) == {"estimate", "mcse", "replicates"}
    for key in ("type_one_error", "p_on_time", "expected_n_p0", "sites", "recruitment_close", "r"):
        assert key in document["best"]


def test_the_pareto_front_has_no_dominated_design(base_search) -> None:
    front = base_search.pareto()
    table = base_search.table()
    for _, row in front.iterrows():
        better = table[(table["power"] > row["power"]) & (table["months_to_decision"] < row["months_to_decision"])]
        assert better.empty


@pytest.mark.parametrize(
    "words, message",
    [
        (["--n", "50:40"], "--n '50:40' gives no values"),
        (["--n", "x"], "--n must be A:B, A:B:STEP or a comma list of whole numbers"),
        (["--p1", "0.05"], r"--p1 \(0.05\) must be above analysis.p0 \(0.1\)"),
        (["--on-time-by", "2025-01-01"], r"--on-time-by \(2025-01-01\) must be after trial.recruitment_open"),
        (["--on-time-by", "soon"], "--on-time-by must be a date written YYYY-MM-DD"),
        (["--vary", "efficacy.nothing=1,2"], "efficacy.nothing is not a known field"),
        (["--designs", "single,fancy"], "--designs must be a comma list of single, simon-optimal, simon-minimax"),
        (["--sites", "0:2"], "--sites values must be at least 1"),
        (["--maximise", "assurance"], "need efficacy.orr_prior in the scenario"),
        (["--minimise", "cost"], "--minimise cost needs --cost-per-patient or --cost-per-site-month"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_and_writes_nothing(words, message, tmp_path, capsys) -> None:
    base = ["size", "--p1", "0.25", "--on-time-by", "2028-06-30", "--n", "30:40", "--no-progress"]
    out = tmp_path / "out"
    # later options win, so the faulty one is given last
    status = main([*base, *words, "--out", str(out), "--replicates", "50", "--screen-replicates", "50"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("trialsim: error: ")
    assert __import__("re").search(message, err), err
    assert not out.exists() or not any(out.iterdir())


def test_levers_refuse_what_cannot_be_searched() -> None:
    with pytest.raises(SizeInputError, match="--designs"):
        Levers(designs=("simon",))
    with pytest.raises(SizeInputError, match="--extend-recruitment-months"):
        Levers(extend_months=(-3,))


def test_extra_centres_and_a_longer_recruitment_change_only_what_they_say() -> None:
    levers = Levers(n=(35,), sites=(3,), extend_months=(6,), new_site_activation=dt.date(2026, 3, 1))
    result = size(
        "base", Targets(p1=0.25, on_time_by=dt.date(2029, 6, 30)), levers, shortlist=1, replicates=50,
        screen_replicates=100, progress=False, engine="auto",
    )
    (confirmed,) = [c for c in result.confirmed if c.design.n == 35]
    scenario, original = confirmed.scenario, load_scenario("base")
    assert [s.name for s in scenario.recruitment.sites] == ["Lead centre", "Added centre 2", "Added centre 3"]
    assert [s.activation for s in scenario.recruitment.sites[1:]] == [dt.date(2026, 3, 1)] * 2
    assert scenario.trial.recruitment_close == dt.date(2028, 5, 30)
    assert scenario.trial.study_end == dt.date(2029, 4, 30)
    assert scenario.efficacy == original.efficacy and scenario.schedule == original.schedule


def test_when_nothing_works_the_binding_constraint_is_named(capsys) -> None:
    """One centre cannot decide by the end of 2027: every design misses the deadline, most of them by far."""
    status = main(["size", "--p1", "0.25", "--on-time-by", "2027-12-31", "--n", "40:44", "--designs", "single",
                   "--replicates", "200", "--screen-replicates", "200", "--no-progress", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 0 and document["best"] is None
    assert document["binding"] == "p_on_time"
    assert all("p_on_time" in c["short_of"] for c in document["candidates"])
    # closest first: the worst-missed constraint of each design is missed by no fewer MCSEs than the one before
    worst = [min(_margin(c, name) for name in ("power", "p_on_time")) for c in document["candidates"]]
    assert worst == sorted(worst, reverse=True)


def _margin(candidate: dict, name: str) -> float:
    targets = {"power": 0.8, "p_on_time": 0.8}
    figure = candidate[name]
    return (figure["estimate"] - targets[name]) / figure["mcse"] if figure["mcse"] else math.inf


@pytest.mark.slow
def test_the_report_says_what_would_make_it_work(base_search, tmp_path) -> None:
    folder = tmp_path / "search"
    folder.mkdir()
    base_search.write(folder)
    tables = read_size(folder)
    figure = design_figure(tables)
    best = base_search.best
    assert figure.section == "design" and len(figure.data) == len(base_search.confirmed)
    power = best.figures["power"]
    assert (
        f"{best.design.n} patients in a single stage, the chance of a positive result is "
        f"{round(power.value * 100):.0f}% (± {power.mcse * 100:.1f}%)"
    ) in figure.caption
    with pytest.raises(SizeInputError, match=r"--size .*: no size.csv, pareto.csv, size.json there"):
        read_size(tmp_path)


def test_assurance_can_rank_the_designs_and_is_each_designs_own() -> None:
    """With a prior, each confirmed design is also simulated over it: assurance ranks first when asked."""
    prior = "efficacy.orr_prior={beta=[4, 12]}"
    result = size(
        "base", Targets(p1=0.25, on_time_by=dt.date(2028, 10, 31), power=0.5, maximise_assurance=True),
        Levers(n=(30, 45), designs=("single",), sites=(2,)), [prior], shortlist=2, replicates=300,
        screen_replicates=200, progress=False, engine="auto",
    )
    assurances = {c.design.n: c.figures["assurance"] for c in result.confirmed}
    assert set(assurances) == {30, 45}
    larger, smaller = assurances[45], assurances[30]
    assert larger.value - smaller.value > 2 * math.hypot(larger.mcse, smaller.mcse)
    assert result.best is not None and result.best.design.n == 45
    assert "assurance" in result.table().columns
    written = load_scenario_text(result.best_scenario_toml())
    assert written.efficacy.orr == 0.25 and written.efficacy.orr_prior is None  # power at p1, as quoted


def load_scenario_text(text: str | None):
    import tomlkit

    from sim.scenario import parse_scenario

    assert text is not None
    return parse_scenario(tomlkit.parse(text).unwrap())


def test_an_interrupted_search_resumes_from_its_checkpoints(tmp_path) -> None:
    """Each confirming run keeps its chunks under a name for its setting, design and ORR: the same search
    again reuses every chunk and gives the same table."""
    args = ("base", Targets(p1=0.25, on_time_by=dt.date(2028, 10, 31)), Levers(n=(46, 47), designs=("single",)))
    options = {"shortlist": 2, "replicates": 100, "screen_replicates": 100, "progress": False, "engine": "auto"}
    first = size(*args, checkpoint_dir=tmp_path, **options)
    again = size(*args, checkpoint_dir=tmp_path, **options)
    assert not first.notes and again.notes and again.notes[0].startswith("resumed: reused")
    assert again.table().equals(first.table())
    assert {p.name for p in tmp_path.iterdir()} == {
        f"extend_recruitment_months=0,design=single-{n}-r8,orr={orr}" for n in (46, 47) for orr in ("p1=0.25", "p0=0.1")
    }


def test_the_screen_measures_what_the_simulation_sees_when_only_evaluable_patients_count() -> None:
    """The tested rate and the share analysed from the screen's drawn patients equal what full runs of the
    same trial give, within 4 MCSE: the two quantities the screened power is built from."""
    from sim.sizing.screen import screen_setting

    overrides = ["analysis.population='evaluable'", "safety.withdrawal_per_month=0.05", "efficacy.orr=0.25"]
    scenario = load_scenario("base", overrides)
    screen = screen_setting({}, scenario, 35, 0.25, 2000, 5, 0)
    table = run(scenario, replicates=2000, seed=6, progress=False, engine="vector").replicates
    analysed = table["n_analysed"].to_numpy(float)
    tested = table["responders"].sum() / analysed.sum()
    tested_mcse = (table["responders"] - tested * analysed).std(ddof=1) / analysed.mean() / math.sqrt(len(table))
    screen_se = 0.002  # the screen's own standard error: about 70,000 drawn patients
    assert abs(screen.theta1 - tested) <= 4 * math.hypot(tested_mcse, screen_se)
    share = analysed.sum() / table["n_enrolled"].sum()
    share_mcse = (analysed - share * table["n_enrolled"]).std(ddof=1) / table["n_enrolled"].mean() / math.sqrt(len(table))
    assert 0.8 < screen.analysed_share < 1 and abs(screen.analysed_share - share) <= 4 * math.hypot(share_mcse, screen_se)


def test_simons_minimax_keeps_its_name_even_below_the_sizes_searched() -> None:
    overrides = [*IDEAL, "analysis.p0=0.1"]
    result = size("base", Targets(p1=0.3, on_time_by=dt.date(2028, 10, 31)), Levers(n=tuple(range(30, 51)),
                  designs=("simon-optimal", "simon-minimax")), overrides, shortlist=1, **FAST)
    assert "simon-minimax" not in set(result.screened["design"])  # Simon's minimax has n = 25
    assert set(result.screened["design"]) == {"simon-optimal"}


def test_a_search_that_recommends_nothing_removes_an_earlier_recommendation(tmp_path, capsys) -> None:
    (tmp_path / "best.toml").write_text("# an earlier search's\\n")
    status = main(["size", "--p1", "0.25", "--on-time-by", "2027-12-31", "--n", "40:41", "--designs", "single",
                   "--replicates", "60", "--screen-replicates", "60", "--no-progress", "--out", str(tmp_path)])
    assert status == 0 and json.loads((tmp_path / "size.json").read_text())["best"] is None
    assert not (tmp_path / "best.toml").exists()
    capsys.readouterr()
