"""Pool training in worker processes (``--workers``): the models are those this process
trains in the same groups, bit for bit; cached models are not sent to a worker; how many
workers ``0`` means; and the settings it refuses."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from audit.data import load_dataset, make_keep_matrix, split_pool
from audit.errors import AuditInputError
from audit.pool import LocalExecutor, ProcessExecutor, create_executor, local_workers, train_pool
from audit.training import TrainRecipe, parse_regime
from tests.audit.recording import Recording

MODELS = 4


def _inputs(regime="standard"):
    split = split_pool(load_dataset("digits"), pool_size=120, seed=0)
    return {
        "split": split,
        "keep": make_keep_matrix(num_models=MODELS, num_examples=120, seed=0),
        "recipe": TrainRecipe(
            architecture="mlp", epochs=4, batch_size=16, learning_rate=1e-3, regime=parse_regime(regime, delta=1e-3)
        ),
        "num_classes": 10,
        "is_image": False,
        "data_fingerprint": "digits",
        "architecture": {"name": "mlp"},
        "seed": 0,
        "device": torch.device("cpu"),
        "snapshot_epochs": (2,),
    }


@pytest.mark.parametrize("regime", ["standard", "dp:8"])
def test_workers_train_the_models_this_process_trains_in_the_same_groups(tmp_path, regime):
    inputs = _inputs(regime)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what each worker uses
    try:
        here = train_pool(cache_dir=tmp_path / "here", executor=LocalExecutor(group_size=2), **inputs)
    finally:
        torch.set_num_threads(threads)
    executor = ProcessExecutor(workers=2, threads=1)  # 4 models: two groups of two
    try:
        there = train_pool(cache_dir=tmp_path / "there", executor=executor, **inputs)
        np.testing.assert_array_equal(there.logits, here.logits)
        np.testing.assert_array_equal(there.snapshot_logits, here.snapshot_logits)
        assert [m.history for m in there.models] == [m.history for m in here.models]
        assert [m.epsilon for m in there.models] == [m.epsilon for m in here.models]

        # One entry lost: only that model goes to a worker. It trains alone this time, so its
        # batches are no longer padded to its group's: the same model to float rounding.
        for file in there.models[1].directory.iterdir():
            file.unlink()
        recording = Recording(executor)
        again = train_pool(cache_dir=tmp_path / "there", executor=recording, **inputs)
        assert recording.asked == [1] and [m.cached for m in again.models] == [True, False, True, True]
        np.testing.assert_allclose(again.logits, here.logits, rtol=0, atol=1e-4)
    finally:
        executor.close()


def test_zero_workers_means_one_per_core_on_the_cpu_and_one_on_a_gpu(monkeypatch):
    monkeypatch.setattr("audit.pool.choice.usable_cores", lambda: 6)
    assert local_workers(0, device="cpu", threads=0) == 6
    assert local_workers(0, device="cpu", threads=2) == 3
    assert local_workers(0, device="cpu", threads=8) == 1
    assert local_workers(3, device="cpu", threads=0) == 3
    assert local_workers(0, device="cuda", threads=0) == 1
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert local_workers(0, device="auto", threads=0) == 1
    with pytest.raises(AuditInputError, match="workers must be >= 0"):
        local_workers(-1, device="cpu", threads=0)


def test_one_worker_is_this_process_and_more_are_worker_processes():
    assert isinstance(create_executor("local", device="cpu", workers=1), LocalExecutor)
    executor = create_executor("local", device="cpu", workers=2)
    assert isinstance(executor, ProcessExecutor) and executor.workers == 2
    executor.close()  # no worker was started: nothing had to train


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--workers", "-1"], "workers must be >= 0 (0: one per CPU core), got -1"),
        (["--workers", "2", "--executor", "ray"], "--workers 2 is for the local executor"),
    ],
)
def test_unusable_worker_settings_are_one_line_and_exit_code_2(tmp_path, capsys, args, words):
    from audit.run import main

    code = main([*args, "--output-dir", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "cache").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_workers_are_forked_only_from_a_process_running_no_other_thread():
    import threading

    from audit.pool.processes import _start_method

    assert _start_method() == "fork"
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method() == "spawn"  # that thread might hold a lock the worker needs
    finally:
        stop.set()
        other.join()
    assert _start_method() == "fork"
