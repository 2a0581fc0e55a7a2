"""Where the models of a pool train: in this process (:class:`LocalExecutor`, the default) or
as Ray tasks spread over the CPUs and GPUs of a cluster (:class:`RayExecutor`).

:func:`audit.pool.train_pool` decides which models need training (those not in the cache),
hands them to an executor, and writes each model's cache entry itself as its group comes
back. Both executors train a group through the same function (:func:`train_group`, which
calls :func:`audit.pool.trainers.train_models`), so a model trained in a Ray task is the
model trained here: same seeds, same code, same bits on the same kind of device with the
same number of threads and the same groups. A group returns what the cache keeps
(:class:`~audit.pool.cache.CachedModel`) and the weights as numpy arrays, never a pickled
module, so Ray workers need neither the driver's file system nor a shared one.

Ray is imported only when a :class:`RayExecutor` is created; it comes with the ``ray`` extra
(``pip install -e '.[ray]'``).
"""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from audit.data.queries import query_variants
from audit.data.split import AuditSplit
from audit.errors import AuditInputError, one_line
from audit.pool.cache import CachedModel, training_code_version
from audit.pool.trainers import GROUP_SIZE, PoolData, train_models
from audit.training import TrainRecipe
from models import unwrap

# Seconds to wait for a TCP connection to a cluster's address before calling it unreachable.
CONNECT_TIMEOUT_S = 10
RAY_EXTRA_HINT = "pip install 'flood-audit[ray]' (from a clone: pip install -e '.[ray]')"


@dataclass(frozen=True)
class PoolArrays:
    """The numpy arrays every model of a pool trains on and is queried on: candidates
    ``x [n, ...]`` float32 and labels ``y [n]`` int64, the test part ``x_test [t, ...]`` and
    ``y_test [t]``. The only large input of a pool: it goes into Ray's object store once per
    pool, whatever the number of tasks."""

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @classmethod
    def of(cls, split: AuditSplit) -> PoolArrays:
        return cls(split.pool_x, split.pool_y, split.test_x, split.test_y)


@dataclass(frozen=True)
class PoolJob:
    """How every model of one pool trains, besides its data: model ``m`` trains on the rows
    ``keep[m]`` (bool ``[M, n]``) with seed ``seeds[m]``, with ``trainer`` (``ensemble`` or
    ``sequential``, already chosen), and is queried on the ``query_set`` variants of every
    candidate after training and at ``snapshot_epochs``."""

    recipe: TrainRecipe
    trainer: str
    keep: np.ndarray
    seeds: tuple[int, ...]
    num_classes: int
    is_image: bool
    query_set: str
    snapshot_epochs: tuple[int, ...]


@dataclass
class TrainedEntry:
    """One trained model of a pool: its index ``m``, what the cache keeps of it, and its
    weights (the plain module's state_dict as numpy arrays, names as torch gives them)."""

    index: int
    entry: CachedModel
    weights: dict[str, np.ndarray]


class Executor(Protocol):
    """Trains the models of a pool that are not cached."""

    def train(self, arrays: PoolArrays, job: PoolJob, *, indices: Sequence[int], device: torch.device) -> Iterator[list[TrainedEntry]]:
        """Train the models ``indices`` (rows of ``job.keep``) and yield each group's
        models as the group is done, in whatever order groups finish. ``device``: where
        this process trains; an executor that trains elsewhere chooses its own."""
        ...

    def close(self) -> None:
        """Release what the executor holds (a Ray connection it opened)."""
        ...


def pool_data(arrays: PoolArrays, *, query_set: str, is_image: bool, device: torch.device | str) -> PoolData:
    """The pool's tensors on ``device`` with their ``query_set`` variants (built wherever the
    models train: in this process, or in a Ray worker on its own device)."""

    def tensor(array: np.ndarray) -> torch.Tensor:
        # Arrays read from Ray's object store are read-only; torch needs writable memory, so
        # those (only those) are copied.
        return torch.from_numpy(np.require(array, requirements="W")).to(device)

    x = tensor(arrays.x)
    return PoolData(
        x=x,
        y=tensor(arrays.y),
        x_test=tensor(arrays.x_test),
        y_test=tensor(arrays.y_test),
        queries=query_variants(x, query_set, is_image=is_image),
    )


def train_group(data: PoolData, job: PoolJob, *, group: Sequence[int]) -> list[TrainedEntry]:
    """Train the models ``group`` of ``job`` on ``data`` together (or one after another, as
    ``job.trainer`` says): the one code path of every executor."""
    trained = train_models(
        job.trainer,
        recipe=job.recipe,
        keep=job.keep[list(group)],
        seeds=[job.seeds[m] for m in group],
        data=data,
        num_classes=job.num_classes,
        snapshot_epochs=job.snapshot_epochs,
    )
    return [TrainedEntry(m, entry, _state_arrays(model)) for m, (model, entry) in zip(group, trained)]


def groups_of(indices: Sequence[int], size: int) -> list[list[int]]:
    """``indices`` in consecutive groups of at most ``size``."""
    return [list(indices[start : start + size]) for start in range(0, len(indices), size)]


class LocalExecutor:
    """Trains in this process on the given device, ``group_size`` models at a time (today's
    behaviour: groups of :data:`~audit.pool.trainers.GROUP_SIZE`, so an interruption loses at
    most one group's work)."""

    def __init__(self, *, group_size: int = GROUP_SIZE):
        _check_group_size(group_size)
        self.group_size = group_size

    def train(self, arrays: PoolArrays, job: PoolJob, *, indices: Sequence[int], device: torch.device) -> Iterator[list[TrainedEntry]]:
        data = pool_data(arrays, query_set=job.query_set, is_image=job.is_image, device=device)
        for group in groups_of(indices, self.group_size):
            yield train_group(data, job, group=group)

    def close(self) -> None:
        """Nothing to release."""


class RayExecutor:
    """Trains each group of models as one Ray task, on the CPUs and GPUs of a Ray cluster.

    ``address``: the cluster to connect to (``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``);
    None connects to the one ``RAY_ADDRESS`` names, or starts a Ray instance on this machine.
    If Ray is already initialised in this process, that connection is used (and left open by
    :meth:`close`). Each task asks for ``cpus_per_task`` CPUs (and uses as many torch
    threads, at least one) and ``gpus_per_task`` GPUs (fractions share a GPU; None: one if
    the cluster has a GPU, else none); a task with a GPU trains on it, else on its CPUs.
    ``group_size``: models per task; None: as few per task as keeps every task slot of the
    cluster busy (at most :data:`~audit.pool.trainers.GROUP_SIZE`). A task whose worker dies
    (a lost node, the out-of-memory killer) is run again, up to ``max_retries`` times; an
    exception raised by training is not retried, since it would be raised again.

    The driver (this process) puts the pool's arrays into the object store once per pool,
    sends each task only its group's indices, and writes the cache entries the tasks return.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        gpus_per_task: float | None = None,
        cpus_per_task: float = 1.0,
        group_size: int | None = None,
        max_retries: int = 3,
    ):
        if cpus_per_task <= 0:
            raise AuditInputError(f"CPUs per Ray task must be > 0, got {cpus_per_task}")
        if gpus_per_task is not None and gpus_per_task < 0:
            raise AuditInputError(f"GPUs per Ray task must be >= 0, got {gpus_per_task}")
        if group_size is not None:
            _check_group_size(group_size)
        if max_retries < 0:
            raise AuditInputError(f"Ray task retries must be >= 0, got {max_retries}")
        self._ray = _import_ray()
        self._opened = _connect(self._ray, address)
        total = self._ray.cluster_resources()
        self.gpus_per_task = float(gpus_per_task if gpus_per_task is not None else (1 if total.get("GPU", 0) >= 1 else 0))
        self.cpus_per_task = float(cpus_per_task)
        self.group_size = group_size
        for name, wanted in (("CPU", self.cpus_per_task), ("GPU", self.gpus_per_task)):
            if wanted > total.get(name, 0):
                self.close()
                fix = (
                    "lower --threads (each task asks for that many CPUs)"
                    if name == "CPU"
                    else "use --device cpu, or --device auto (a GPU per task only where the cluster has one)"
                )
                raise AuditInputError(
                    f"a Ray task asks for {wanted:g} {name}s but the cluster has {total.get(name, 0):g}: "
                    f"{fix}, or add nodes that have them"
                )
        self._task = self._ray.remote(_train_in_worker).options(
            num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task, max_retries=max_retries, retry_exceptions=False
        )

    def train(self, arrays: PoolArrays, job: PoolJob, *, indices: Sequence[int], device: torch.device) -> Iterator[list[TrainedEntry]]:
        """As :meth:`Executor.train`; ``device`` is not used: each task trains on the GPU Ray
        gives it, or on its CPUs."""
        ray = self._ray
        arrays_ref, job_ref = ray.put(arrays), ray.put(job)
        settings = {"device": "cuda" if self.gpus_per_task > 0 else "cpu", "threads": max(1, math.floor(self.cpus_per_task))}
        size = self.group_size or self._spread(len(indices))
        pending = {self._task.remote(arrays_ref, job_ref, group, **settings): group for group in groups_of(indices, size)}
        expected = training_code_version()
        try:
            while pending:
                (done,), _ = ray.wait(list(pending), num_returns=1)
                del pending[done]
                try:
                    result: _GroupResult = ray.get(done)
                except ray.exceptions.RayTaskError as error:
                    # Bad input met in the worker (training that diverged, ...): its one line,
                    # not Ray's report with the worker's traceback.
                    if isinstance(error.cause, AuditInputError):
                        raise error.cause from None
                    raise
                if result.code != expected:
                    raise AuditInputError(
                        f"the Ray worker on {result.host} runs other training code than this process "
                        f"(digest {result.code}, here {expected}): install the same flood-audit on every node"
                    )
                yield result.entries
        finally:
            # Interrupted, failed or abandoned: what is still queued or running is not wanted.
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        """Shut Ray down if this executor started or connected it."""
        if self._opened:
            self._ray.shutdown()
            self._opened = False

    def _spread(self, count: int) -> int:
        """Models per task so that ``count`` models fill the cluster's task slots once."""
        total = self._ray.cluster_resources()
        slots = math.floor(total.get("CPU", 0) / self.cpus_per_task + 1e-9)
        if self.gpus_per_task > 0:
            slots = min(slots, math.floor(total.get("GPU", 0) / self.gpus_per_task + 1e-9))
        return min(GROUP_SIZE, max(1, math.ceil(count / max(1, slots))))


@dataclass
class _GroupResult:
    """What a Ray task sends back: its group, and the digest of the training code and the
    host it ran with (so a node with other code is caught, not cached under this key)."""

    entries: list[TrainedEntry]
    code: str
    host: str


def _train_in_worker(arrays: PoolArrays, job: PoolJob, group: list[int], *, device: str, threads: int) -> _GroupResult:
    """The body of a Ray task (runs in a worker process, on the node Ray chose)."""
    # Ray workers are reused across tasks and their thread count decides how reductions
    # split, so it is set for every task, as the driver sets its own (--threads).
    torch.set_num_threads(threads)
    data = pool_data(arrays, query_set=job.query_set, is_image=job.is_image, device=torch.device(device))
    return _GroupResult(train_group(data, job, group=group), training_code_version(), socket.gethostname())


def _state_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The plain module's state_dict as numpy arrays, as :func:`models.save_weights` writes it."""
    return {name: tensor.detach().cpu().numpy() for name, tensor in unwrap(model).state_dict().items()}


def _check_group_size(size: int) -> None:
    if size < 1:
        raise AuditInputError(f"models per group must be >= 1, got {size}")


def _import_ray():
    try:
        import ray
    except ImportError:
        raise AuditInputError(f"the ray executor needs Ray, which is not installed: {RAY_EXTRA_HINT}") from None
    return ray


def _connect(ray, address: str | None) -> bool:
    """Connect to (or start) Ray unless this process already has; True if this call did."""
    if ray.is_initialized():
        return False
    if address and ":" in address:
        _check_reachable(address)
    try:
        ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as error:
        where = address or "RAY_ADDRESS or a new local instance"
        raise AuditInputError(
            f"cannot connect to the Ray cluster at {where}: {one_line(error)}; check that the cluster is up "
            "(ray start --head) and pass its address with --ray-address HOST:6379 (docs/cluster.md)"
        ) from None
    return True


def _check_reachable(address: str) -> None:
    """Fail at once if nothing listens at ``[ray://]HOST:PORT``: ``ray.init`` would retry
    such an address for minutes without a word."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except (OSError, ValueError) as error:
        raise AuditInputError(
            f"cannot reach the Ray cluster at {address} ({one_line(error)}): is the head node up (ray start --head), "
            "and is that its address (HOST:6379, or ray://HOST:10001 for Ray Client)?"
        ) from None
