"""Reproducibility across workers and chunking, and resumable checkpoints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim.runner as runner
from sim.runner import CheckpointError, RunError, replicate_seeds, run


def test_replicate_seeds_match_spawn() -> None:
    spawned = np.random.SeedSequence(99).spawn(12)
    for a, b in zip(replicate_seeds(99, 5, 12), spawned[5:]):
        assert a.generate_state(4).tolist() == b.generate_state(4).tolist()


def test_identical_for_any_jobs_and_chunking(base) -> None:
    one = run(base, replicates=40, seed=3, n_jobs=1, chunk_size=7, keep_patients=True, progress=False)
    two = run(base, replicates=40, seed=3, n_jobs=2, chunk_size=25, keep_patients=True, progress=False)
    threads = run(base, replicates=40, seed=3, n_jobs=2, chunk_size=40, backend="threading", progress=False)
    pd.testing.assert_frame_equal(one.replicates, two.replicates)
    pd.testing.assert_frame_equal(one.replicates, threads.replicates)
    pd.testing.assert_frame_equal(one.patients, two.patients)
    assert one.summary.to_dict() == two.summary.to_dict()


def test_longer_run_extends_shorter(base) -> None:
    short = run(base, replicates=15, seed=8, chunk_size=4, progress=False)
    long = run(base, replicates=30, seed=8, chunk_size=6, progress=False)
    pd.testing.assert_frame_equal(short.replicates, long.replicates.iloc[:15])


def test_checkpoints_resume_without_recomputing(base, tmp_path, monkeypatch) -> None:
    folder = tmp_path / "chunks"
    first = run(base, replicates=30, seed=4, chunk_size=10, checkpoint_dir=folder, progress=False)
    chunks = sorted(folder.glob("chunk-*.parquet"))
    assert len(chunks) == 3
    chunks[1].unlink()
    calls = []
    real = runner._run_chunk

    def counting(model, seed, start, stop, keep):
        calls.append((start, stop))
        return real(model, seed, start, stop, keep)

    monkeypatch.setattr(runner, "_run_chunk", counting)
    again = run(base, replicates=30, seed=4, chunk_size=10, checkpoint_dir=folder, progress=False)
    assert calls == [(10, 20)]
    pd.testing.assert_frame_equal(first.replicates, again.replicates)


def test_checkpoint_of_another_run_is_refused_and_kept(base, tmp_path) -> None:
    folder = tmp_path / "chunks"
    run(base, replicates=5, seed=4, chunk_size=5, checkpoint_dir=folder, progress=False)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(CheckpointError, match="holds chunks of a different scenario, seed"):
        run(base, replicates=5, seed=5, chunk_size=5, checkpoint_dir=folder, progress=False)
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"replicates": 0}, "replicates must be a whole number of at least 1, got 0"),
        ({"seed": -1}, "seed must be a non-negative whole number, got -1"),
        ({"chunk_size": 0}, "chunk_size must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_run_settings(base, kwargs, message) -> None:
    with pytest.raises(RunError) as info:
        run(base, **kwargs)
    assert str(info.value) == message


def test_mcse_target_adds_batches_until_met(base) -> None:
    result = run(base, replicates=40, seed=6, mcse_target=0.03, progress=False)
    n = len(result.replicates)
    assert n % 40 == 0 and n > 40
    assert result.summary.power.mcse <= 0.03
    # one batch fewer would not have met the target, and the same seed stops at the same count
    flags = result.replicates["reject_h0"].to_numpy()[: n - 40]
    p = flags.mean()
    assert np.sqrt(p * (1 - p) / flags.size) > 0.03
    again = run(base, replicates=40, seed=6, mcse_target=0.03, progress=False, n_jobs=2, chunk_size=15)
    pd.testing.assert_frame_equal(result.replicates, again.replicates)


def test_mcse_target_is_not_fooled_by_zero_power(scenario_with) -> None:
    scenario = scenario_with("efficacy.orr=0.0")
    result = run(scenario, replicates=10, seed=6, mcse_target=0.01, progress=False)
    assert result.summary.power.value == 0.0
    # p shrunk to (0 + 0.5) / (R + 1): sqrt(p (1 - p) / R) is 0.0116 at R = 60 and 0.0100 at R = 70
    assert len(result.replicates) == 70


def test_mcse_target_respects_the_cap(base) -> None:
    result = run(base, replicates=20, seed=6, mcse_target=0.001, max_replicates=50, progress=False)
    assert len(result.replicates) == 50
