"""Data sets as in-memory arrays, and the split into audit pool and held-out test part.

The *audit pool* holds the candidate members: each model trains on the half of it that its
keep row selects. The *test* part is never trained on; it measures test accuracy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from audit.errors import AuditInputError


@dataclass(frozen=True)
class ArrayDataset:
    """Features ``x`` (float32, ``[N, *input_shape]``, images as ``[N, C, H, W]`` in [0, 1]
    before normalisation) and labels ``y`` (int64 ``[N]``)."""

    name: str
    x: np.ndarray
    y: np.ndarray
    num_classes: int
    is_image: bool

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    def fingerprint(self) -> str:
        """A hash of the arrays: caches keyed on it are invalidated when the data change."""
        digest = hashlib.sha256()
        digest.update(str((self.x.shape, str(self.x.dtype), self.num_classes)).encode())
        digest.update(np.ascontiguousarray(self.x).tobytes())
        digest.update(np.ascontiguousarray(self.y).tobytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class AuditSplit:
    """The audit pool (candidates, ``[n, ...]``) and the held-out test part."""

    pool_x: np.ndarray
    pool_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    pool_indices: np.ndarray


def load_digits_dataset() -> ArrayDataset:
    """scikit-learn's bundled digits (1,797 8x8 grey images, 10 classes): no download."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]  # [N, 1, 8, 8] in [0, 1]
    return ArrayDataset(name="digits", x=x, y=bunch.target.astype(np.int64), num_classes=10, is_image=True)


def split_pool(dataset: ArrayDataset, *, pool_size: int, seed: int, test_size: int = 0) -> AuditSplit:
    """Shuffle deterministically; the first ``pool_size`` examples form the audit pool and
    the next ``test_size`` (0: all the rest) the test part. Features are standardised with
    statistics of the pool only (per channel for images, per feature for tabular data)."""
    n = len(dataset.y)
    if not 2 <= pool_size < n:
        raise AuditInputError(f"pool size must be between 2 and {n - 1} for {dataset.name} ({n} examples), got {pool_size}")
    if test_size < 0:
        raise AuditInputError(f"test size must be >= 0 (0 = every example outside the pool), got {test_size}")
    order = np.random.default_rng(seed).permutation(n)
    pool = order[:pool_size]
    test = order[pool_size : pool_size + test_size] if test_size else order[pool_size:]
    mean, std = normalisation_stats(dataset.x[pool], is_image=dataset.is_image)

    def normalise(indices: np.ndarray) -> np.ndarray:
        return ((dataset.x[indices] - mean) / std).astype(np.float32)

    return AuditSplit(
        pool_x=normalise(pool),
        pool_y=dataset.y[pool],
        test_x=normalise(test),
        test_y=dataset.y[test],
        pool_indices=pool,
    )


def normalisation_stats(x: np.ndarray, *, is_image: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of training inputs ``x [N, ...]``: per channel for images
    (shapes ``[C, 1, 1]``), per feature for tabular data (``[F]``). Computed on training data
    only, so nothing about held-out examples leaks into the inputs."""
    axes = (0, 2, 3) if is_image else (0,)
    return x.mean(axis=axes, keepdims=True)[0], x.std(axis=axes, keepdims=True)[0] + 1e-6


def make_keep_matrix(*, num_models: int, num_examples: int, seed: int) -> np.ndarray:
    """``keep[m, i]`` is True when example ``i`` is in model ``m``'s training set.

    Built as in LiRA (Carlini et al., 2022): per example, a random ranking of the models,
    IN for the first ``num_models // 2``. So every example is IN for exactly half of the
    models, which gives every target the same number of IN and OUT references.
    Returns bool ``[num_models, num_examples]``.
    """
    if num_models < 2:
        raise AuditInputError(f"need at least 2 models per regime (a target and a reference), got {num_models}")
    ranks = np.random.default_rng(seed).random((num_models, num_examples)).argsort(axis=0)
    return ranks < num_models // 2
