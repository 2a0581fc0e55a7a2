"""Synthetic pools of logits for attack tests.

A pool is ``logits [M, n, A, C]`` float32, ``keep [M, n]`` built as in LiRA (every
candidate IN for exactly half of the models) and ``labels [n]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass
class Pool:
    logits: np.ndarray
    keep: np.ndarray
    labels: np.ndarray


def lira_keep(rng: np.random.Generator, n_models: int, n: int) -> np.ndarray:
    """Each column has exactly n_models // 2 True entries."""
    return np.argsort(rng.uniform(size=(n_models, n)), axis=0) < n_models // 2


def make_pool(
    *, separable: bool, n_models: int = 8, n: int = 400, n_classes: int = 10, n_queries: int = 1, seed: int = 0
) -> Pool:
    """separable: members get a confident correct prediction (true-class logit +8), non-members
    a flat, wrong one (another class +1 above the true one), so every attack, the label-only
    one included, tells them apart. Otherwise (exchangeable) logits ignore keep entirely:
    each candidate has its own difficulty, seen by every model with noise."""
    rng = np.random.default_rng(seed)
    keep = lira_keep(rng, n_models, n)
    labels = rng.integers(0, n_classes, size=n)
    logits = rng.normal(0.0, 1.0, size=(n_models, n, n_queries, n_classes))
    true_class = np.eye(n_classes)[labels][None, :, None, :]  # [1, n, 1, C]
    if separable:
        wrong = (labels + rng.integers(1, n_classes, size=n)) % n_classes
        wrong_class = np.eye(n_classes)[wrong][None, :, None, :]
        logits += np.where(keep, 8.0, 0.0)[:, :, None, None] * true_class
        logits += np.where(keep, -3.0, 4.0)[:, :, None, None] * wrong_class
    else:
        difficulty = rng.normal(1.0, 2.0, size=n)
        logits += difficulty[None, :, None, None] * true_class
    return Pool(logits.astype(np.float32), keep, labels)


@pytest.fixture(scope="session")
def pool_factory():
    """:func:`make_pool`, for tests that need a pool of another shape."""
    return make_pool


@pytest.fixture(scope="session")
def separable_pool() -> Pool:
    return make_pool(separable=True)
