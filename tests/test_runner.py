"""Reproducibility across workers and chunking, and resumable checkpoints."""

from __future__ import annotations

import dataclasses
import functools
import threading

import joblib
import numpy as np
import pandas as pd
import pytest

import sim.runs.dispatch as dispatch
from sim.engines import resolve_engine
from sim.engines.des import simulate_trial
from sim.model.history import HistoryBatch
from sim.model.trial_model import TrialModel
from sim.runs.runner import CheckpointError, RunError, replicate_seeds, run


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
    chunks = sorted(folder.glob("chunk-*[0-9].parquet"))
    assert len(chunks) == 3 and len(list(folder.glob("chunk-*.looks.parquet"))) == 3
    chunks[1].unlink()
    calls = []
    real = dispatch.run_chunk

    def counting(plan, start, stop):
        calls.append((start, stop))
        return real(plan, start, stop)

    monkeypatch.setattr(dispatch, "run_chunk", counting)
    again = run(base, replicates=30, seed=4, chunk_size=10, checkpoint_dir=folder, progress=False)
    assert calls == [(10, 20)]
    pd.testing.assert_frame_equal(first.replicates, again.replicates)
    pd.testing.assert_frame_equal(first.looks, again.looks)


def _recording_engine(threads: list[int]):
    """The SimPy engine, noting the thread each replicate runs on."""

    def engine(model, seed):
        threads.append(threading.get_ident())
        return simulate_trial(model, seed)

    return engine


def test_run_takes_any_engine_and_a_built_model(base) -> None:
    threads: list[int] = []
    model = TrialModel.from_scenario(base)
    custom = run(model, replicates=12, seed=2, engine=_recording_engine(threads), progress=False)
    default = run(base, replicates=12, seed=2, progress=False)
    assert len(threads) == 12
    pd.testing.assert_frame_equal(custom.replicates, default.replicates)


def test_checkpoints_of_another_engine_are_refused(base, tmp_path) -> None:
    folder = tmp_path / "chunks"
    run(base, replicates=5, seed=4, checkpoint_dir=folder, progress=False)
    with pytest.raises(CheckpointError, match="engine"):
        run(base, replicates=5, seed=4, checkpoint_dir=folder, engine=_recording_engine([]), progress=False)


class _NamedEngine:
    """A history engine object of the user's, keeping the contract with a name of its own."""

    name = "named-engine"
    forecasts = False

    def unsupported(self, model):
        return None

    def histories(self, model, seed, start, stop):
        return HistoryBatch.from_histories([simulate_trial(model, s) for s in replicate_seeds(seed, start, stop)])


def test_engine_names_identify_functions_partials_and_objects(base, tmp_path) -> None:
    assert resolve_engine(simulate_trial).name == "des"  # it draws exactly what the SimPy engine draws
    assert resolve_engine(_NamedEngine()).name == "named-engine"
    assert resolve_engine(functools.partial(_pick, extra=1)).name == "tests.test_runner._pick()[('extra', 1)]"
    folder = tmp_path / "chunks"
    first = run(base, replicates=4, seed=4, checkpoint_dir=folder, engine=_NamedEngine(), progress=False)
    again = run(base, replicates=4, seed=4, checkpoint_dir=folder, engine=_NamedEngine(), progress=False)
    pd.testing.assert_frame_equal(first.replicates, again.replicates)
    with pytest.raises(CheckpointError, match="engine"):
        run(base, replicates=4, seed=4, checkpoint_dir=folder, engine=functools.partial(_pick, extra=1), progress=False)


def _pick(model, seed, extra=0):
    return simulate_trial(model, seed)


@dataclasses.dataclass(frozen=True)
class _Variant:
    """A callable engine of a user's with a name per variant, as a tweaked model would be."""

    name: str

    def __call__(self, model, seed):
        return simulate_trial(model, seed)


def test_named_variants_of_one_callable_never_share_checkpoints(base, tmp_path) -> None:
    folder = tmp_path / "chunks"
    low = run(base, replicates=3, seed=4, checkpoint_dir=folder, engine=_Variant("low"), progress=False)
    assert low.engine == "low" and resolve_engine(_Variant("high")).name == "high"
    with pytest.raises(CheckpointError, match="engine"):
        run(base, replicates=3, seed=4, checkpoint_dir=folder, engine=_Variant("high"), progress=False)


def test_a_result_names_its_engine_as_the_engines_table_does(base) -> None:
    """``engine`` in a result (and summary.json): the engine's name; a function by its ``name`` or import path."""
    ran = {
        "des": run(base, replicates=2, seed=1, progress=False).engine,
        "function": run(base, replicates=2, seed=1, engine=simulate_trial, progress=False).engine,
        "named": run(base, replicates=2, seed=1, engine=_NamedEngine(), progress=False).engine,
        "partial": run(base, replicates=2, seed=1, engine=functools.partial(_pick, extra=1), progress=False).engine,
    }
    assert ran == {
        "des": "des",
        "function": "des",
        "named": "named-engine",
        "partial": "tests.test_runner._pick()[('extra', 1)]",
    }


def test_n_jobs_none_follows_joblib_parallel_config(base) -> None:
    main = threading.get_ident()
    alone: list[int] = []
    plain = run(base, replicates=8, seed=5, chunk_size=2, engine=_recording_engine(alone), progress=False)
    assert set(alone) == {main}
    configured: list[int] = []
    with joblib.parallel_config(backend="threading", n_jobs=2):
        inside = run(base, replicates=8, seed=5, chunk_size=2, engine=_recording_engine(configured), progress=False)
    assert main not in set(configured)
    pd.testing.assert_frame_equal(plain.replicates, inside.replicates)


def test_look_table_has_one_row_per_look(scenario_with) -> None:
    simon = scenario_with(
        "trial.sample_size=29",
        "monitoring.rule='simon'",
        "monitoring.stage1_patients=10",
        "monitoring.stage1_max_responders=1",
        "monitoring.final_max_responders=5",
    )
    result = run(simon, replicates=30, seed=9, chunk_size=7, progress=False)
    looks, table = result.looks, result.replicates
    assert looks.groupby("replicate").size().reindex(table["replicate"], fill_value=0).tolist() == table[
        "interim_looks"
    ].tolist()
    first = looks[looks["look"] == 1].set_index("replicate")
    with_look = table.set_index("replicate").loc[first.index]
    assert (first["responders"] == with_look["first_look_responders"]).all()
    assert (first["look_date"] == with_look["first_look_date"]).all()
    assert (first["stopped"] == with_look["stopped_early"]).all()
    assert (first["stopped"] == (first["responders"] <= 1)).all() and (first["patients"] == 10).all()
    assert run(scenario_with(), replicates=3, seed=9, progress=False).looks.empty


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
        ({"replicates": 0}, "replicates must be a whole number from 1 to 10000000, got 0"),
        ({"seed": -1}, "seed must be a non-negative whole number, got -1"),
        ({"chunk_size": 0}, "chunk_size must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_run_settings(base, kwargs, message) -> None:
    with pytest.raises(RunError) as info:
        run(base, **kwargs)
    assert str(info.value) == message


def _stopping_mcse(flags: np.ndarray) -> float:
    """The rule mcse_target stops on, written out: the binomial MCSE at p shrunk to (k + 0.5) / (R + 1)."""
    shrunk = (flags.sum() + 0.5) / (flags.size + 1)
    return float(np.sqrt(shrunk * (1 - shrunk) / flags.size))


def test_mcse_target_adds_batches_until_met(base) -> None:
    """The run stops after the first whole batch at which the stopping MCSE is at most the target.

    Checked batch by batch on the run's own replicates, so any random stream gives the same verdict.
    """
    result = run(base, replicates=40, seed=6, mcse_target=0.03, progress=False)
    n = len(result.replicates)
    assert n % 40 == 0 and n > 40
    flags = result.replicates["reject_h0"].to_numpy(dtype=bool)
    assert _stopping_mcse(flags) <= 0.03
    for batches in range(1, n // 40):
        assert _stopping_mcse(flags[: 40 * batches]) > 0.03, batches
    # shrinking towards 1/2 only raises the MCSE, so the printed (plain binomial) MCSE meets the target too
    assert result.summary.power.mcse <= _stopping_mcse(flags)
    # the same seed stops at the same count whatever the workers and chunks
    again = run(base, replicates=40, seed=6, mcse_target=0.03, progress=False, n_jobs=2, chunk_size=15)
    pd.testing.assert_frame_equal(result.replicates, again.replicates)


def test_checkpoints_of_another_patient_table_setting_are_refused(base, tmp_path) -> None:
    folder = tmp_path / "chunks"
    run(base, replicates=4, seed=4, checkpoint_dir=folder, progress=False)
    with pytest.raises(CheckpointError, match="patient-table setting"):
        run(base, replicates=4, seed=4, checkpoint_dir=folder, keep_patients=True, progress=False)


def test_mcse_target_is_not_fooled_by_zero_power(scenario_with) -> None:
    scenario = scenario_with("efficacy.orr=0.0")
    result = run(scenario, replicates=10, seed=6, mcse_target=0.01, progress=False)
    assert result.summary.power.value == 0.0
    # p shrunk to (0 + 0.5) / (R + 1): sqrt(p (1 - p) / R) is 0.0116 at R = 60 and 0.0100 at R = 70
    assert len(result.replicates) == 70


def test_mcse_target_respects_the_cap(base) -> None:
    result = run(base, replicates=20, seed=6, mcse_target=0.001, max_replicates=50, progress=False)
    assert len(result.replicates) == 50


def test_chunks_finishing_in_any_order_give_the_same_run(base, tmp_path, monkeypatch) -> None:
    """Workers return chunks as they finish (a cluster in any order): the run puts them back in replicate order."""
    in_order = run(base, replicates=12, seed=4, chunk_size=3, progress=False)
    real = dispatch.Dispatch.__call__

    def last_first(self, tasks):
        yield from reversed(list(real(self, tasks)))

    monkeypatch.setattr(dispatch.Dispatch, "__call__", last_first)
    folder = tmp_path / "chunks"
    reversed_run = run(base, replicates=12, seed=4, chunk_size=3, checkpoint_dir=folder, progress=False)
    pd.testing.assert_frame_equal(in_order.replicates, reversed_run.replicates)
    pd.testing.assert_frame_equal(in_order.looks, reversed_run.looks)
    resumed = run(base, replicates=12, seed=4, chunk_size=3, checkpoint_dir=folder, progress=False)
    assert resumed.reused_chunks == 4
    pd.testing.assert_frame_equal(in_order.replicates, resumed.replicates)
