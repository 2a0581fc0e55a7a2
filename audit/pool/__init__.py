"""Pools of models: training (or loading from the cache) the M models of a regime, and the
cache that makes every trained model survive interruptions and re-runs.

- :mod:`~audit.pool.pool`: :func:`train_pool`, :class:`PoolSignals`.
- :mod:`~audit.pool.cache`: cache keys, entries, their checksums, damaged-entry handling.
"""

from audit.pool.pool import (
    PoolSignals,
    ProgressCallback,
    TrainedModel,
    done_event,
    train_pool,
)

__all__ = ["PoolSignals", "ProgressCallback", "TrainedModel", "done_event", "train_pool"]
