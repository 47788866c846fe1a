"""A run's folder: what ``trialsim run --out`` writes, and what a report reads back without simulating.

| file | holds |
|---|---|
| ``summary.json`` | the operating characteristics and what was run (:func:`summary_document`) |
| ``scenario.toml`` | the scenario file as it was, comments (the sources of its numbers) included |
| ``replicates.parquet`` | one row per replicate (:data:`sim.analysis.records.REPLICATE_COLUMNS`) |
| ``looks.parquet`` | one row per replicate and interim look |
| ``patients.parquet`` | one row per patient and cutoff, when patients were kept |
| ``oc.csv`` | operating characteristics over a grid of true ORR, when they were computed |

Reading a folder rebuilds the scenario from ``scenario.toml`` and the recorded overrides and the
summary from the replicate table, so a report drawn from a folder equals one drawn from the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import tomlkit

from ..analysis.records import LOOK_COLUMNS, PATIENT_COLUMNS, REPLICATE_COLUMNS, RecordError, conform
from ..analysis.summary import OperatingCharacteristics
from ..errors import TrialsimError
from ..scenario import ScenarioError, load_scenario
from ..scenario.model import Scenario, Source
from ..scenario.variants import drop_absent, resolved_scenario
from ..version import __version__
from .runner import RunResult

__all__ = [
    "FILES",
    "IN_MEMORY",
    "RunFolderError",
    "SavedRun",
    "provenance",
    "read_run",
    "summary_document",
    "write_run",
]

IN_MEMORY = "in-memory"
"""The name a run folder gives a scenario built in code rather than read from a file."""

FILES = {
    "summary": "summary.json",
    "scenario": "scenario.toml",
    "replicates": "replicates.parquet",
    "looks": "looks.parquet",
    "patients": "patients.parquet",
    "oc": "oc.csv",
}


class RunFolderError(ValueError, TrialsimError):
    """A folder is not a complete run folder; the message names the folder and what is wrong."""


@dataclass(frozen=True)
class SavedRun:
    """One run as a report reads it: the scenario, how it was run, its summary and its tables."""

    name: str
    scenario: Scenario
    scenario_text: str
    overrides: tuple[str, ...]
    seed: int
    command: str
    version: str
    created: str
    summary: OperatingCharacteristics
    replicates: pd.DataFrame
    looks: pd.DataFrame
    patients: pd.DataFrame | None
    oc: pd.DataFrame | None

    @classmethod
    def from_result(cls, result: RunResult, *, command: str = "") -> SavedRun:
        """A finished run as a report reads it, without writing a folder (for notebooks)."""
        source = provenance(result.scenario)
        return cls(
            name=_scenario_name(source.name),
            scenario=result.scenario,
            scenario_text=source.text,
            overrides=source.overrides,
            seed=result.seed,
            command=command,
            version=__version__,
            created=dt.date.today().isoformat(),
            summary=result.summary,
            replicates=result.replicates,
            looks=result.looks,
            patients=result.patients,
            oc=None,
        )

    @property
    def scenario_sha256(self) -> str:
        """SHA-256 of the scenario file's text, to tell which file a result came from."""
        return hashlib.sha256(self.scenario_text.encode()).hexdigest()


def provenance(scenario: Scenario) -> Source:
    """Where ``scenario`` came from, as it was read; one built in code is spelled out field by field.

    The file is never read again here: a run folder written after a long run records the file the
    run used, even if it has been edited since.
    """
    if scenario.source is not None:
        return scenario.source
    body = tomlkit.dumps(drop_absent(resolved_scenario(scenario)))
    return Source(IN_MEMORY, f"# a scenario built in code (sim.vary or dataclasses.replace): every field\n{body}")


def summary_document(result: RunResult, *, command: str = "") -> dict[str, Any]:
    """What ``summary.json`` holds (and ``trialsim run --json`` prints): what was run, then the figures.

    ``resolved_scenario`` is every scenario field after the overrides and defaults, dates as ISO
    strings, so the run can be read without the scenario file; ``chunk_size`` is what the
    checkpoints were cut by; ``engine`` the engine that simulated the replicates.
    """
    source = provenance(result.scenario)
    return {
        "seed": result.seed,
        "scenario_file": source.name,
        "scenario_name": _scenario_name(source.name),
        "scenario_sha256": hashlib.sha256(source.text.encode()).hexdigest(),
        "overrides": list(source.overrides),
        "command": command,
        "trialsim_version": __version__,
        "created": dt.date.today().isoformat(),
        "chunk_size": result.chunk_size,
        "engine": result.engine,
        "resolved_scenario": resolved_scenario(result.scenario, iso_dates=True),
        **result.summary.to_dict(),
    }


def write_run(folder: Path, result: RunResult, *, command: str = "", oc: pd.DataFrame | None = None) -> list[Path]:
    """Write ``result`` (and the ``oc`` grid table, if given) into ``folder``; return the files written.

    ``scenario.toml`` is the scenario's file as the run read it (:func:`provenance`).
    """
    text = provenance(result.scenario).text
    doc = summary_document(result, command=command)
    written = {
        "summary": lambda p: p.write_text(json.dumps(doc, indent=2), encoding="utf-8"),
        "scenario": lambda p: p.write_text(text, encoding="utf-8"),
        "replicates": lambda p: result.replicates.to_parquet(p, index=False),
        "looks": lambda p: result.looks.to_parquet(p, index=False),
    }
    if result.patients is not None:
        patients = result.patients
        written["patients"] = lambda p: patients.to_parquet(p, index=False)
    if oc is not None:
        written["oc"] = lambda p: oc.to_csv(p, index=False)
    paths = []
    for key, write in written.items():
        path = folder / FILES[key]
        write(path)
        paths.append(path)
    return paths


def _scenario_name(scenario_file: str | Path) -> str:
    """A shipped scenario's name, or a file's stem."""
    return Path(str(scenario_file)).stem


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path}: not a readable summary.json ({exc})") from None
    if not isinstance(doc, dict) or not {"seed", "overrides", "scenario"} <= doc.keys():
        raise RunFolderError(f"{path}: not a trialsim summary.json (no seed, overrides or scenario)")
    seed = doc["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise RunFolderError(f"{path}: seed must be a non-negative whole number, got {seed!r}")
    if not isinstance(doc["overrides"], list):
        raise RunFolderError(f"{path}: overrides must be a list of dotted.path=value strings, got {doc['overrides']!r}")
    return doc


def _read_table(path: Path, columns: Sequence[Any] | None) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path, use_threads=False) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
        raise RunFolderError(f"{path}: cannot be read ({type(exc).__name__})") from None
    if columns is None:
        return frame
    try:
        return conform(frame, columns)
    except RecordError as exc:
        raise RunFolderError(f"{path}: {exc}") from None


def read_run(folder: str | Path) -> SavedRun:
    """The run saved in ``folder`` by :func:`write_run` (``trialsim run --out``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: no such folder")
    missing = [FILES[k] for k in ("summary", "scenario", "replicates") if not (folder / FILES[k]).is_file()]
    if missing:
        raise RunFolderError(f"{folder}: not a trialsim run folder (missing {', '.join(missing)})")
    doc = _read_json(folder / FILES["summary"])
    overrides = tuple(str(o) for o in doc["overrides"])
    try:
        scenario = load_scenario(folder / FILES["scenario"], overrides)
    except ScenarioError as exc:
        raise RunFolderError(f"{folder / FILES['scenario']}: {exc}") from None
    replicates = _read_table(folder / FILES["replicates"], REPLICATE_COLUMNS)
    looks_path, patients_path, oc_path = (folder / FILES[k] for k in ("looks", "patients", "oc"))
    looks = _read_table(looks_path, LOOK_COLUMNS) if looks_path.is_file() else _empty(LOOK_COLUMNS)
    return SavedRun(
        name=str(doc.get("scenario_name", _scenario_name(doc.get("scenario_file", folder.name)))),
        scenario=scenario,
        scenario_text=(folder / FILES["scenario"]).read_text(encoding="utf-8"),
        overrides=overrides,
        seed=int(doc["seed"]),
        command=str(doc.get("command", "")),
        version=str(doc.get("trialsim_version", "")),
        created=str(doc.get("created", "")),
        summary=OperatingCharacteristics.from_replicates(replicates, scenario, looks),
        replicates=replicates,
        looks=looks,
        patients=_read_table(patients_path, PATIENT_COLUMNS) if patients_path.is_file() else None,
        oc=_read_table(oc_path, None) if oc_path.is_file() else None,
    )


def _empty(columns: Sequence[Any]) -> pd.DataFrame:
    """An empty table with the schema's columns."""
    return pd.DataFrame({c.name: pd.Series(dtype=c.dtype if c.dtype != "str" else object) for c in columns})
