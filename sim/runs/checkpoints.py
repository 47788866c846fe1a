"""Checkpoints: each finished chunk of a run saved as parquet, so an interrupted run resumes.

A checkpoint folder holds ``manifest.json`` and, per chunk, its replicate, look and (when kept)
patient tables. The manifest records what the chunks were computed from: the run's settings
(scenario, seed, chunk size, engine, patient table) and the simulation code itself (a hash of the
package's source and its version). A folder from other settings or other code is refused, never
mixed in; ``restart`` discards it. A damaged chunk file (a truncated parquet) is removed and
recomputed, and the run says so; a damaged manifest is refused with the file named.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..analysis.records import ChunkTables, read_parquet
from ..errors import TrialsimError

__all__ = ["CheckpointError", "Checkpoints", "code_fingerprint"]

_MANIFEST = "manifest.json"
_TABLES = ("replicates", "looks", "patients")


class CheckpointError(ValueError, TrialsimError):
    """A checkpoint folder cannot be used for this run; nothing in it is touched."""


def code_fingerprint(package: Path | None = None) -> str:
    """SHA-256 of the package's Python source, subpackages included, so chunks computed by other code are
    never reused; each file counts by its path in the package and its bytes (``package``: this one)."""
    package = Path(__file__).resolve().parents[1] if package is None else package
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _atomic_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write then rename, so a killed run never leaves a half-written chunk behind."""
    tmp = path.with_suffix(".tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(path)


@dataclass
class Checkpoints:
    """A run's checkpoint folder: chunks it can reuse, and what happened to them (``notes``)."""

    folder: Path
    settings: str
    code: str
    version: str
    restart: bool = False
    notes: list[str] = field(default_factory=list)
    reused: int = 0
    created: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.created = [p for p in (self.folder, *self.folder.parents) if not p.exists()]
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"{self.folder}: cannot create the checkpoint folder: {exc.strerror}") from None
        manifest = self.folder / _MANIFEST
        if self.restart:
            self._discard()
        elif manifest.exists():
            self._check(manifest)
        manifest.write_text(json.dumps({"settings": self.settings, "code": self.code, "version": self.version}))

    def abandon(self) -> None:
        """Undo a folder that holds no chunk yet (a run refused before its first chunk): nothing is left behind.

        Only what this object created goes: its manifest, and the folders it made that are then empty.
        """
        if not self.created or any(self.folder.glob("chunk-*")):
            return
        (self.folder / _MANIFEST).unlink(missing_ok=True)
        for path in self.created:  # deepest first
            try:
                path.rmdir()
            except OSError:
                return

    def _discard(self) -> None:
        """Remove this folder's manifest and chunk files (nothing else)."""
        for path in [self.folder / _MANIFEST, *self.folder.glob("chunk-*.parquet"), *self.folder.glob("chunk-*.tmp")]:
            path.unlink(missing_ok=True)

    def _check(self, manifest: Path) -> None:
        """Refuse a folder whose chunks came from other settings or other code."""
        try:
            found = json.loads(manifest.read_text())
            if not isinstance(found, dict):
                raise ValueError("not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CheckpointError(
                f"{manifest} is damaged ({exc}); rerun with restart (--restart) to discard the folder's chunks"
            ) from None
        if found.get("settings") != self.settings:
            raise CheckpointError(
                f"{self.folder} holds chunks of a different scenario, seed, chunk size, engine or patient-table "
                "setting; choose another output folder, or restart (--restart) to discard them"
            )
        if found.get("code") != self.code:
            raise CheckpointError(
                f"{self.folder} holds chunks computed by other simulation code (trialsim "
                f"{found.get('version', 'unknown')}, now {self.version}); restart (--restart) to discard them"
            )

    def _paths(self, start: int, stop: int) -> dict[str, Path]:
        stem = f"chunk-{start:09d}-{stop:09d}"
        return {
            "replicates": self.folder / f"{stem}.parquet",
            "looks": self.folder / f"{stem}.looks.parquet",
            "patients": self.folder / f"{stem}.patients.parquet",
        }

    def load(self, start: int, stop: int, keep_patients: bool) -> ChunkTables | None:
        """The saved tables of a chunk, or None when one is missing or damaged (then it is removed)."""
        paths = self._paths(start, stop)
        needed = [name for name in _TABLES if name != "patients" or keep_patients]
        if not all(paths[name].exists() for name in needed):
            return None
        try:
            tables = {name: read_parquet(paths[name]) for name in needed}
        except Exception as exc:  # pyarrow raises several types for a truncated or foreign file
            damaged = ", ".join(p.name for p in paths.values() if p.exists())
            for path in paths.values():
                path.unlink(missing_ok=True)
            self.notes.append(
                f"recomputed replicates {start}-{stop - 1}: damaged checkpoint {damaged} ({type(exc).__name__})"
            )
            return None
        self.reused += 1
        return ChunkTables(tables["replicates"], tables["looks"], tables.get("patients"))

    def save(self, start: int, stop: int, tables: ChunkTables) -> None:
        """Save a chunk; the replicate table goes last, so its presence marks a complete chunk."""
        paths = self._paths(start, stop)
        if tables.patients is not None:
            _atomic_parquet(tables.patients, paths["patients"])
        _atomic_parquet(tables.looks, paths["looks"])
        _atomic_parquet(tables.replicates, paths["replicates"])
