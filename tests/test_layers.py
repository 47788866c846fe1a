"""The package is a pipeline: no module imports from a stage after its own.

Every ``sim/**/*.py`` is parsed (not imported) and each of its imports of ``sim`` itself, relative
or absolute, anywhere in the file (functions included), is checked against :data:`LAYERS`. A
module may import its own top-level package's internals (``sim/stats/designs.py`` from
``sim/stats/proportions.py``) and anything in an earlier layer; two members of one layer may not
import each other. ``sim/__init__.py`` is exempt; importing the bare ``sim`` package counts as
importing what its ``__init__`` imports. The modules come from the filesystem, so a new module or
package is checked as soon as it exists, and must first be placed in a layer.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"

# The pipeline, first stage first; a name is a top-level module or package of sim.
LAYERS: list[list[str]] = [
    ["version", "units", "distributions", "arrays", "errors", "lazy"],  # the foundations: numbers, units, survival families, errors
    ["stats"],  # exact inference, knowing nothing of trials
    ["scenario"],  # what a trial is, checked; its design rule
    ["model"],  # what patients and a trial do, what the database shows
    ["analysis"],  # cut, analyse, tabulate and summarise many replicates
    ["engines"],  # simulate replicates: SimPy, vector, reference
    ["runs"],  # dispatch, checkpoint and gather runs and grids
    ["sizing"],  # the design search
    ["forecast"],  # a running trial re-forecast
    ["calibration"],  # efficacy fitted to published benchmarks
    ["reports"],  # the committee's report
    ["cli"],  # the command line
]


@dataclass(frozen=True)
class Violation:
    importer: str
    imported: str
    line: int
    importer_layer: int | None
    imported_layer: int | None

    def __str__(self) -> str:
        def layer(i: int | None) -> str:
            return "no layer" if i is None else f"layer {i} {LAYERS[i]}"

        return (
            f"{self.importer} (line {self.line}) imports {self.imported}: {self.importer} is in "
            f"{layer(self.importer_layer)}, {self.imported} in {layer(self.imported_layer)}"
        )


def _modules(root: Path) -> dict[str, Path]:
    """Dotted name of every module and package directory under ``root`` (the package itself)."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
        for depth in range(1, len(parts)):  # directories without __init__ are packages too
            out.setdefault(".".join(parts[:depth]), root.joinpath(*parts[1:depth]))
    return out


def _imports(module: str, path: Path, known: dict[str, Path], package: str) -> list[tuple[str, int]]:
    """The modules of ``package`` that ``module`` imports, with line numbers."""
    is_package = path.name == "__init__.py"
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == package]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                here = module.split(".") if is_package else module.split(".")[:-1]
                base_parts = here[: len(here) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == package:
                base = node.module
            else:
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((target if target in known else base, node.lineno))
    return found


def _component(module: str) -> str | None:
    """The top-level module or package of sim that ``module`` belongs to (None for sim itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def layer_violations(root: Path) -> list[Violation]:
    """Every import in the package at ``root`` that does not go to an earlier layer (or its own package)."""
    package = root.name
    known = _modules(root)
    index = {name: i for i, names in enumerate(LAYERS) for name in names}
    files = {m: p for m, p in known.items() if p.suffix == ".py"}
    # importing the bare package runs its __init__, so it stands for what that imports
    root_init = root / "__init__.py"
    loads = [t for t, _ in _imports(package, root_init, known, package)] if root_init.exists() else []
    out: list[Violation] = []
    for module, path in files.items():
        if module == package:
            continue
        own = _component(module)
        assert own is not None
        for target, line in _imports(module, path, known, package):
            for imported in loads if target == package else [target]:
                other = _component(imported)
                if other is None or other == own:
                    continue
                mine, theirs = index.get(own), index.get(other)
                if mine is None or theirs is None or theirs >= mine:
                    shown = imported if target != package else f"{package} (whose __init__ imports {imported})"
                    out.append(Violation(module, shown, line, mine, theirs))
    return out


def unplaced(root: Path) -> list[str]:
    """Top-level modules and packages of the package at ``root`` that no layer names."""
    placed = {name for names in LAYERS for name in names}
    found = {_component(m) for m in _modules(root)} - {None}
    return sorted(str(c) for c in found if c not in placed)


def test_layers_name_each_stage_once() -> None:
    names = [name for names in LAYERS for name in names]
    assert len(names) == len(set(names))


def test_every_layer_names_a_module_that_exists() -> None:
    found = {_component(m) for m in _modules(SIM)}
    stale = [name for names in LAYERS for name in names if name not in found]
    assert not stale, f"LAYERS names modules or packages that sim does not have: {stale}"


def test_every_module_is_in_a_layer() -> None:
    missing = unplaced(SIM)
    assert not missing, f"sim modules or packages in no layer of LAYERS (place each in its pipeline stage): {missing}"


def test_no_module_imports_from_a_later_stage() -> None:
    problems = layer_violations(SIM)
    assert not problems, "imports against the pipeline order:\n" + "\n".join(map(str, problems))


def test_the_check_reads_today_s_imports() -> None:
    """The parser finds imports we know are there, so an empty result above means something."""
    known = _modules(SIM)
    read = {m: {t for t, _ in _imports(m, p, known, "sim")} for m, p in known.items() if p.suffix == ".py"}
    assert "sim.model.recist" in read["sim.model.journey"]       # from .recist import ...
    assert "sim.scenario.checks" in read["sim.scenario.model"]    # from . import checks as c
    assert "sim.distributions" in read["sim.scenario.model"]      # from ..distributions import ...
    assert "sim.stats.proportions" in read["sim.stats.designs"]   # from .proportions import ...
    assert "sim" in read["sim.calibration.benchmarks"]            # import sim


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_check_catches_imports_against_the_order(tmp_path: Path) -> None:
    root = tmp_path / "sim"
    _write(
        root,
        {
            "__init__.py": "from .runs.runner import run\n",
            "units.py": "import sim\n",                                           # the root loads runner
            "scenario/__init__.py": "from .model import Scenario\n",
            "scenario/model.py": "from ..units import DAYS\nfrom . import checks\n",
            "scenario/checks.py": "",
            "stats/__init__.py": "",
            "stats/designs.py": "from .proportions import f\nfrom ..scenario.model import Scenario\n",  # backwards
            "stats/proportions.py": "",
            "model/__init__.py": "",
            "model/journey.py": "from ..engines.des import simulate_trial\n",      # backwards
            "model/recruitment.py": "from .monitoring import Look\n",              # its own package
            "model/monitoring.py": "from ..stats import designs\n",
            "engines/__init__.py": "",
            "engines/des.py": "from ..model import journey\n\ndef f():\n    from sim.runs.runner import run\n",  # backwards
            "analysis/__init__.py": "",
            "analysis/tables.py": "from sim.model.journey import PatientJourneys\nimport sim.stats.designs\n",
            "runs/__init__.py": "",
            "runs/runner.py": "from ..engines.des import simulate_trial\n",
            "calibration/benchmarks.py": "import sim\nfrom .targets import Landmark\n",
            "calibration/targets.py": "",
            "reports/__init__.py": "from ..cli import main\n",                     # backwards
            "cli/__init__.py": "from ..reports import render\nfrom ..runs import runner\n",
            "newstage.py": "from .units import DAYS\n",                            # in no layer
        },
    )
    found = {(v.importer, v.imported, v.line) for v in layer_violations(root)}
    assert found == {
        ("sim.units", "sim (whose __init__ imports sim.runs.runner)", 1),
        ("sim.stats.designs", "sim.scenario.model", 2),
        ("sim.model.journey", "sim.engines.des", 1),
        ("sim.engines.des", "sim.runs.runner", 4),
        ("sim.reports", "sim.cli", 1),
        ("sim.newstage", "sim.units", 1),
    }
    message = {str(v) for v in layer_violations(root) if v.importer == "sim.model.journey"}
    assert message == {
        "sim.model.journey (line 1) imports sim.engines.des: sim.model.journey is in layer 3 ['model'], "
        "sim.engines.des in layer 5 ['engines']"
    }
    assert unplaced(root) == ["newstage"]


@pytest.mark.parametrize("layer", [names for names in LAYERS if len(names) > 1], ids=str)
def test_members_of_one_layer_may_not_import_each_other(tmp_path: Path, layer: list[str]) -> None:
    root = tmp_path / "sim"
    first, second = layer[:2]
    _write(root, {f"{first}.py": f"from .{second} import x\n", f"{second}.py": ""})
    assert [(v.importer, v.imported) for v in layer_violations(root)] == [(f"sim.{first}", f"sim.{second}")]


def test_every_package_folder_is_installed() -> None:
    """A package missing from ``[tool.setuptools] packages`` works in a checkout and fails once installed."""
    import tomllib

    listed = set(tomllib.loads((SIM.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    folders = {".".join(p.parent.relative_to(SIM.parent).parts) for p in SIM.rglob("__init__.py")}
    assert folders <= listed, sorted(folders - listed)


MAX_MODULE_LINES = 400
"""A module longer than this holds more than one idea: split it by what its parts hold."""


def test_no_module_is_longer_than_the_house_allows() -> None:
    long = {str(p.relative_to(SIM.parent)): n for p in SIM.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, long


def test_every_mutant_names_code_that_exists() -> None:
    """A mutant whose snippet moved away is never run: each must name a file, one occurrence and real tests."""
    import tomllib

    root = SIM.parent
    mutants = tomllib.loads((root / "tools" / "mutation" / "mutants.toml").read_text(encoding="utf-8"))["mutant"]
    stale = [
        m["id"]
        for m in mutants
        if not (root / m["file"]).is_file()
        or (root / m["file"]).read_text(encoding="utf-8").count(m["original"]) != 1
        or not all((root / t).exists() for t in m["tests"])
    ]
    assert not stale, stale
