"""Training a pool's models in worker processes on this machine's CPU cores
(:class:`ProcessExecutor`, ``--workers N``).

The audit's models are small: torch's intra-op threads gain little on them (a demo MLP's
matrices are 64 x 256), so one process leaves every core but one idle. Here the models that
need training are split into one group per worker, and each worker (a spawned process with
``threads`` torch threads) trains its group with :func:`audit.pool.executors.train_group`,
the function the local and Ray executors run: the same code and seeds give the same models,
and a model's bits depend only on the models it shares a group with (through the padding of
batches), as on Ray. This process writes each cache entry as its group comes back, so an
interruption loses at most the groups in flight.

Workers are started when the first models need training (a re-run on cached models starts
none) and serve every pool of the audit until :meth:`ProcessExecutor.close`.
"""

from __future__ import annotations

import math
import multiprocessing
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

import torch

from audit.errors import AuditInputError
from audit.pool.executors import LocalExecutor, PoolArrays, PoolJob, TrainedEntry, groups_of, pool_data, train_group
from audit.pool.trainers import GROUP_SIZE


class ProcessExecutor:
    """Trains the models of a pool in ``workers`` processes of ``threads`` torch threads each,
    one group of models per worker (at most :data:`~audit.pool.trainers.GROUP_SIZE` models a
    group). Only on the CPU: on a GPU the models train in this process
    (:class:`~audit.pool.executors.LocalExecutor`), where the ensemble keeps the device busy."""

    def __init__(self, *, workers: int, threads: int = 1):
        if workers < 2:
            raise AuditInputError(f"a process executor needs >= 2 workers, got {workers}; use the local executor")
        self.workers, self.threads = workers, max(1, threads)
        self._pool: ProcessPoolExecutor | None = None

    def train(self, arrays: PoolArrays, job: PoolJob, *, indices: Sequence[int], device: torch.device) -> Iterator[list[TrainedEntry]]:
        if device.type != "cpu" or len(indices) < 2:
            yield from LocalExecutor().train(arrays, job, indices=indices, device=device)
            return
        size = min(GROUP_SIZE, math.ceil(len(indices) / self.workers))
        pool = self._started()
        pending: set[Future] = {pool.submit(_train_in_worker, arrays, job, group) for group in groups_of(indices, size)}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            # Interrupted, failed or abandoned: what is still queued is not wanted.
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop the workers (any group still queued is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _started(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(_start_method()),
                initializer=torch.set_num_threads,
                initargs=(self.threads,),
            )
        return self._pool


def _start_method() -> str:
    """``fork`` on Linux when this process runs no other thread: a worker starts at once with
    torch and this package already imported (torch's DataLoader starts its workers so too).
    Otherwise ``spawn``: another thread could hold a lock (stderr's, say) at the moment of
    the fork, which the worker would then wait on forever; and on macOS forking a process
    that has loaded system frameworks is unsafe, and Windows cannot fork."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _train_in_worker(arrays: PoolArrays, job: PoolJob, group: list[int]) -> list[TrainedEntry]:
    """The body of a worker's task: ``group``'s models, trained on this worker's CPU."""
    data = pool_data(arrays, query_set=job.query_set, is_image=job.is_image, device="cpu")
    return train_group(data, job, group=group)
