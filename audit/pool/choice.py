"""Which executor an audit's settings name (``--executor``, ``--workers``, ``--threads``,
``--device``): this process, worker processes on this machine, or Ray tasks."""

from __future__ import annotations

import torch

from audit.errors import AuditInputError
from audit.pool.executors import Executor, LocalExecutor, RayExecutor
from audit.pool.processes import ProcessExecutor
from results.machine import usable_cores
from results.vocabulary import EXECUTORS


def create_executor(kind: str, *, ray_address: str = "", device: str = "auto", threads: int = 0, workers: int = 1) -> Executor:
    """The executor an audit's settings name: ``local``, or ``ray`` connected to
    ``ray_address`` (empty: ``RAY_ADDRESS`` or a Ray instance started here), each task with
    ``threads`` CPUs and torch threads (0: one, the local default) and one GPU unless
    ``device`` is ``cpu`` (``auto``: one if the cluster has a GPU). ``local`` with ``workers``
    > 1 trains on the CPU in that many worker processes
    (:class:`~audit.pool.processes.ProcessExecutor`); 0: :func:`local_workers`."""
    if kind == "local":
        workers = local_workers(workers, device=device, threads=threads)
        if workers > 1:
            return ProcessExecutor(workers=workers, threads=threads or 1)
        return LocalExecutor()
    if kind == "ray":
        gpus = {"cpu": 0.0, "auto": None}.get(device, 1.0)
        return RayExecutor(ray_address or None, gpus_per_task=gpus, cpus_per_task=threads or 1)
    raise AuditInputError(f"unknown executor {kind!r}; choose one of: {', '.join(EXECUTORS)}")


def local_workers(requested: int, *, device: str, threads: int) -> int:
    """Worker processes for a local audit: ``requested`` if > 0; for 0, one per ``threads``
    CPU cores available to this process when the models train on the CPU (``device`` cpu,
    or auto without CUDA), else one (a GPU is kept busy by the ensemble in this process)."""
    if requested < 0:
        raise AuditInputError(f"workers must be >= 0 (0: one per CPU core), got {requested}")
    if requested > 0:
        return requested
    on_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    if not on_cpu:
        return 1
    return max(1, usable_cores() // max(1, threads))
