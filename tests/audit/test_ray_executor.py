"""Pool training as Ray tasks (audit.pool.executors.RayExecutor) gives the models that
training in this process gives, bit for bit; survives a worker killed mid-task; never
dispatches a model that is cached; and the local executor needs no Ray at all.

The Ray tests start a local Ray instance with 2 CPUs once for the module (skipped, with the
reason, where Ray is not installed) and shut it down at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.data import load_dataset, make_keep_matrix, split_pool
from audit.errors import AuditInputError
from audit.pool import LocalExecutor, create_executor, train_pool
from audit.pool import executors as executors_module
from audit.training import TrainRecipe
from tests.audit.recording import Recording

MODELS = 4
# Ray sets a worker's process title to "ray::" + the task's function while it runs one.
TASK_TITLE = b"ray::_train_in_worker"


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def pool_inputs():
    split = split_pool(load_dataset("digits"), pool_size=200, seed=0)
    return {
        "split": split,
        "keep": make_keep_matrix(num_models=MODELS, num_examples=200, seed=0),
        "recipe": TrainRecipe(architecture="mlp", epochs=60, batch_size=16, learning_rate=1e-3),
        "num_classes": 10,
        "is_image": False,
        "data_fingerprint": "digits",
        "architecture": {"name": "mlp"},
        "seed": 0,
        "device": torch.device("cpu"),
        "snapshot_epochs": (1, 30),
    }


@pytest.fixture(scope="module")
def local_pool(pool_inputs, tmp_path_factory):
    """The reference: the pool trained in this process, with one torch thread (the
    default, and what a Ray task with one CPU uses)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cache = tmp_path_factory.mktemp("local-cache")
        return train_pool(cache_dir=cache, executor=LocalExecutor(group_size=2), **pool_inputs)
    finally:
        torch.set_num_threads(threads)


def assert_same_models(pool, reference):
    np.testing.assert_array_equal(pool.logits, reference.logits)
    np.testing.assert_array_equal(pool.snapshot_logits, reference.snapshot_logits)
    for model, expected in zip(pool.models, reference.models):
        assert model.history == expected.history and model.epsilon == expected.epsilon
        assert model.directory.name == expected.directory.name  # the same cache key
        for name in ("weights.npz", "signals.npz"):
            assert (model.directory / name).read_bytes() == (expected.directory / name).read_bytes(), name


@pytest.mark.slow
def test_ray_tasks_train_the_local_models_bit_for_bit_and_cached_ones_are_not_dispatched(
    ray_instance, pool_inputs, local_pool, tmp_path, monkeypatch
):
    executor = Recording(executors_module.RayExecutor(gpus_per_task=0, cpus_per_task=1, group_size=2))
    stored = []
    monkeypatch.setattr(ray_instance, "put", lambda value, put=ray_instance.put: stored.append(type(value).__name__) or put(value))
    reported = []
    pool = train_pool(
        cache_dir=tmp_path, executor=executor, on_model_done=lambda m, total: reported.append((m.index, m.cached, total)), **pool_inputs
    )
    assert_same_models(pool, local_pool)
    assert sorted(executor.asked) == list(range(MODELS))
    assert sorted(reported) == [(m, False, MODELS) for m in range(MODELS)]
    assert sorted(stored) == ["PoolArrays", "PoolJob"]  # once for the pool's two tasks

    executor.asked.clear()
    again = train_pool(cache_dir=tmp_path, executor=executor, **pool_inputs)
    assert executor.asked == [] and all(m.cached for m in again.models)

    # One entry lost: only that model is dispatched, and it comes back the same.
    lost = pool.models[2].directory
    for file in lost.iterdir():
        file.unlink()
    resumed = train_pool(cache_dir=tmp_path, executor=executor, **pool_inputs)
    assert executor.asked == [2] and [m.cached for m in resumed.models] == [True, True, False, True]
    assert_same_models(resumed, local_pool)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds the worker to kill through /proc")
def test_a_task_whose_worker_is_killed_runs_again_and_gives_the_same_models(ray_instance, pool_inputs, local_pool, tmp_path):
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_first_task_worker, args=(stop, killed), daemon=True)
    killer.start()
    try:
        pool = train_pool(
            cache_dir=tmp_path, executor=executors_module.RayExecutor(gpus_per_task=0, group_size=2), **pool_inputs
        )
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 1, "no task was caught running: the tasks are too short for this test"
    assert_same_models(pool, local_pool)


@pytest.mark.slow
def test_a_worker_with_other_training_code_is_refused(ray_instance, pool_inputs, tmp_path, monkeypatch):
    """The driver's digest is patched; the worker computes the real one, as a node with
    another flood-audit would compute its own."""
    monkeypatch.setattr(executors_module, "training_code_version", lambda: "other-code")
    one_epoch = TrainRecipe(architecture="mlp", epochs=1, batch_size=64, learning_rate=1e-3)
    tiny = {**pool_inputs, "recipe": one_epoch, "keep": pool_inputs["keep"][:1]}
    with pytest.raises(AuditInputError, match="runs other training code"):
        train_pool(cache_dir=tmp_path, executor=executors_module.RayExecutor(gpus_per_task=0), **tiny)
    assert list(tmp_path.iterdir()) == []  # nothing was cached under this process's key


@pytest.mark.slow
def test_bad_input_met_in_a_worker_comes_back_as_its_one_line(ray_instance, pool_inputs, tmp_path):
    """Training that diverges in a Ray task is the same one-line error as in this process,
    not Ray's report with the worker's traceback."""
    diverging = TrainRecipe(architecture="mlp", epochs=1, batch_size=64, learning_rate=1e30)
    tiny = {**pool_inputs, "recipe": diverging, "keep": pool_inputs["keep"][:1]}
    with pytest.raises(AuditInputError) as error:
        train_pool(cache_dir=tmp_path, executor=executors_module.RayExecutor(gpus_per_task=0), **tiny)
    assert type(error.value) is AuditInputError
    assert str(error.value).startswith("training diverged under standard at epoch 1") and "\n" not in str(error.value)


@pytest.mark.slow
def test_task_resources_fit_the_cluster(ray_instance):
    """On 2 CPUs and no GPU: no GPU per task unless asked for, and then refused (a task
    would wait forever); an unset group size spreads a pool over both CPUs."""
    executor = executors_module.RayExecutor(cpus_per_task=1)
    assert executor.gpus_per_task == 0
    assert [executor._spread(count) for count in (1, 3, 4, 40)] == [1, 2, 2, 16]
    with pytest.raises(AuditInputError, match="asks for 1 GPUs but the cluster has 0"):
        create_executor("ray", device="cuda")


class _FakeRay:
    """Just enough of Ray's module for the executor's checks: a running cluster of ``resources``,
    or, with ``refuse``, an ``init`` that fails."""

    def __init__(self, resources=None, refuse=None):
        self.resources, self.refuse = resources or {}, refuse

    def is_initialized(self):
        return self.refuse is None

    def init(self, **kwargs):
        raise self.refuse

    def cluster_resources(self):
        return self.resources


@pytest.mark.parametrize(
    "device, threads, words",
    [
        ("cuda", 1, "asks for 1 GPUs but the cluster has 0: use --device cpu, or --device auto"),
        ("cpu", 4, "asks for 4 CPUs but the cluster has 2: lower --threads"),
    ],
)
def test_task_resources_the_cluster_lacks_name_the_flag(monkeypatch, device, threads, words):
    monkeypatch.setattr(executors_module, "_import_ray", lambda: _FakeRay({"CPU": 2.0}))
    with pytest.raises(AuditInputError, match=words):
        create_executor("ray", device=device, threads=threads)


def test_a_cluster_ray_cannot_connect_to_names_the_flag(monkeypatch):
    monkeypatch.setattr(executors_module, "_import_ray", lambda: _FakeRay(refuse=ConnectionError("no cluster found")))
    with pytest.raises(AuditInputError, match="no cluster found; check that the cluster is up .* --ray-address HOST:6379"):
        create_executor("ray", ray_address="auto")


def test_an_address_where_nothing_listens_is_refused_at_once():
    """Checked before ray.init, which would retry it for minutes without a word."""
    with pytest.raises(AuditInputError, match="cannot reach the Ray cluster at 127.0.0.1:1"):
        executors_module._check_reachable("127.0.0.1:1")


def test_the_ray_executor_without_ray_names_the_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(AuditInputError, match=r"pip install 'flood-audit\[ray\]'"):
        create_executor("ray")


def test_the_local_executor_is_the_default_and_never_imports_ray():
    code = (
        "import sys, audit.pool, audit.pipeline; "
        "assert isinstance(audit.pool.create_executor('local'), audit.pool.LocalExecutor); "
        "assert 'ray' not in sys.modules, 'ray was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_an_unknown_executor_is_refused_with_the_choices():
    with pytest.raises(AuditInputError, match="choose one of: local, ray"):
        create_executor("dask")


def _kill_first_task_worker(stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL the first worker process of this test's Ray instance seen running a training
    task (the driver's retry is what is under test), then return."""
    while not stop.is_set():
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
                ours = title.startswith(TASK_TITLE) and _descends_from(int(entry), os.getpid())
            except OSError:  # the process ended while we looked
                continue
            if ours:
                os.kill(int(entry), signal.SIGKILL)
                killed.append(int(entry))
                return
        time.sleep(0.01)


def _descends_from(pid: int, ancestor: int) -> bool:
    """Whether ``ancestor`` started ``pid`` (through any chain): the workers of the Ray
    instance this process started, never another user's on a shared machine."""
    while pid > 1:
        if pid == ancestor:
            return True
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the parent's id follows the state
    return False
