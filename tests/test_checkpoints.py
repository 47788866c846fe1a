"""Checkpoints: never reused across settings or code, damaged files named or recomputed, restart."""

from __future__ import annotations

import pandas as pd
import pytest

import sim.runs.runner as runner
from sim.runs.checkpoints import CheckpointError, code_fingerprint
from sim.runs.runner import run


def _run(base, folder, **options):
    return run(base, replicates=12, seed=4, chunk_size=4, checkpoint_dir=folder, progress=False, **options)


def test_a_resumed_run_says_so_and_equals_a_fresh_one(base, tmp_path) -> None:
    fresh = run(base, replicates=12, seed=4, chunk_size=4, progress=False)
    first = _run(base, tmp_path / "c")
    assert first.notes == ()
    again = _run(base, tmp_path / "c")
    assert again.notes == (f"resumed: reused 3 of 3 chunks from {tmp_path / 'c'}",)
    pd.testing.assert_frame_equal(again.replicates, fresh.replicates)
    pd.testing.assert_frame_equal(again.looks, fresh.looks)


def test_chunks_of_other_code_are_refused_until_restart(base, tmp_path, monkeypatch) -> None:
    _run(base, tmp_path / "c")
    monkeypatch.setattr(runner, "code_fingerprint", lambda: "0" * 64)
    with pytest.raises(CheckpointError, match=r"computed by other simulation code \(trialsim 0.1.0, now 0.1.0\); restart"):
        _run(base, tmp_path / "c")
    restarted = _run(base, tmp_path / "c", restart=True)
    assert restarted.notes == ()
    assert "resumed" in _run(base, tmp_path / "c").notes[0]


def test_the_code_fingerprint_follows_the_source() -> None:
    assert code_fingerprint() == code_fingerprint() and len(code_fingerprint()) == 64


def test_a_damaged_manifest_is_named_and_restart_discards_it(base, tmp_path) -> None:
    folder = tmp_path / "c"
    _run(base, folder)
    (folder / "manifest.json").write_text("")
    with pytest.raises(CheckpointError, match=r"manifest.json is damaged .*rerun with restart \(--restart\)"):
        _run(base, folder)
    assert _run(base, folder, restart=True).notes == ()


def test_a_truncated_chunk_is_recomputed_and_the_run_says_which(base, tmp_path) -> None:
    folder = tmp_path / "c"
    fresh = _run(base, folder)
    chunk = folder / "chunk-000000004-000000008.parquet"
    chunk.write_bytes(chunk.read_bytes()[:100])
    again = _run(base, folder)
    assert again.notes == (
        f"resumed: reused 2 of 3 chunks from {folder}",
        "recomputed replicates 4-7: damaged checkpoint chunk-000000004-000000008.parquet, "
        "chunk-000000004-000000008.looks.parquet (ArrowInvalid)",
    )
    pd.testing.assert_frame_equal(again.replicates, fresh.replicates)
    assert _run(base, folder).notes == (f"resumed: reused 3 of 3 chunks from {folder}",)


def test_restart_leaves_other_files_alone(base, tmp_path) -> None:
    folder = tmp_path / "c"
    _run(base, folder)
    (folder / "notes.txt").write_text("mine")
    _run(base, folder, restart=True)
    assert (folder / "notes.txt").read_text() == "mine"
