"""Pools of models: training (or loading from the cache) the M models of a regime, and the
cache that makes every trained model survive interruptions and re-runs.

- :mod:`~audit.pool.pool`: :func:`train_pool`, :class:`PoolSignals`.
- :mod:`~audit.pool.cache`: cache keys, entries, their checksums, damaged-entry handling.
- :mod:`~audit.pool.executors`: where the models that are not cached train: in this process
  (:class:`LocalExecutor`) or as Ray tasks on a cluster (:class:`RayExecutor`).
"""

from audit.pool.executors import (
    EXECUTORS,
    Executor,
    LocalExecutor,
    RayExecutor,
    create_executor,
)
from audit.pool.pool import (
    PoolSignals,
    ProgressCallback,
    TrainedModel,
    done_event,
    train_pool,
)

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "PoolSignals",
    "ProgressCallback",
    "RayExecutor",
    "TrainedModel",
    "create_executor",
    "done_event",
    "train_pool",
]
