"""Pools of models: training (or loading from the cache) the M models of a regime, and the
cache that makes every trained model survive interruptions and re-runs.

- :mod:`~audit.pool.pool`: :func:`train_pool`, :class:`PoolSignals`.
- :mod:`~audit.pool.cache`: cache keys, entries, their checksums, damaged-entry handling.
- :mod:`~audit.pool.executors`: where the models that are not cached train: in this process
  (:class:`LocalExecutor`) or as Ray tasks on a cluster (:class:`RayExecutor`).
- :mod:`~audit.pool.processes`: in worker processes on this machine's CPU cores
  (:class:`ProcessExecutor`, ``--workers``).
- :mod:`~audit.pool.choice`: the executor an audit's settings name.
"""

from audit.pool.choice import create_executor, local_workers
from audit.pool.executors import (
    Executor,
    LocalExecutor,
    RayExecutor,
)
from audit.pool.pool import (
    PoolSignals,
    ProgressCallback,
    TrainedModel,
    done_event,
    train_pool,
)
from audit.pool.processes import ProcessExecutor
from results.vocabulary import EXECUTORS

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "PoolSignals",
    "ProcessExecutor",
    "ProgressCallback",
    "RayExecutor",
    "TrainedModel",
    "create_executor",
    "done_event",
    "local_workers",
    "train_pool",
]
