"""The split of a data set into the audit pool and the held-out test part, and the input
normalisation every model of an audit sees.

The *audit pool* holds the candidate members: each model trains on the half of it that its
keep row selects. The *test* part is never trained on; it measures test accuracy.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from audit.data.arrays import ArrayDataset
from audit.errors import AuditInputError

# Fewest test examples when test accuracy is measured on "every example outside the pool".
MIN_TEST_SIZE = 50
# Fewest candidates: each model then trains on 10 and is attacked on 10 members and 10
# non-members; fewer leave classes without members, which some attacks cannot calibrate.
MIN_POOL_SIZE = 20


@dataclass(frozen=True)
class AuditSplit:
    """The audit pool (candidates, normalised ``pool_x [n, ...]``, labels ``pool_y [n]``) and
    the held-out test part, with the indices of both in the data set and the normalisation
    applied to them. ``canaries`` (bool ``[n]``, empty when there are none) marks candidates
    made atypical on purpose (:mod:`audit.data.canaries`, of ``canary_kind``)."""

    pool_x: np.ndarray
    pool_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    pool_indices: np.ndarray
    test_indices: np.ndarray
    normalisation: Normalisation
    canaries: np.ndarray | None = None
    canary_kind: str = ""
    reserved_indices: np.ndarray | None = None

    @property
    def canary_mask(self) -> np.ndarray:
        """Bool ``[n]``: True for canaries (all False without any)."""
        return self.canaries if self.canaries is not None else np.zeros(len(self.pool_y), dtype=bool)

    def identity(self) -> dict[str, str]:
        """Digests of which examples the candidates and test examples are, how they are
        normalised, and which were turned into canaries: what, besides the data fingerprint,
        makes two splits the same."""
        identity = {
            "candidates": _digest(self.pool_indices),
            "test": _digest(self.test_indices),
            "normalisation": _digest(self.normalisation.mean, self.normalisation.std),
        }
        if self.canaries is not None and self.canaries.any():
            identity["canaries"] = _digest(self.canaries, self.pool_y, self.pool_x[self.canaries]) + self.canary_kind
        return identity


def split_pool(
    dataset: ArrayDataset, *, pool_size: int, seed: int, test_size: int = 0, reserved_size: int = 0
) -> AuditSplit:
    """Shuffle deterministically; the first ``pool_size`` examples form the audit pool, the
    next ``reserved_size`` are set aside (``reserved_indices``: DP-SGD's hyper-parameter search
    trains and validates on them, never on candidates or test examples) and the next
    ``test_size`` (0: all the rest) the test part. Features are standardised with statistics of
    the pool (the candidates, from which every model's training set is drawn; per channel for
    images, per feature for tabular data)."""
    n = len(dataset.y)
    if not MIN_POOL_SIZE <= pool_size < n:
        raise AuditInputError(
            f"pool size must be between {MIN_POOL_SIZE} and {n - 1} for {dataset.name} ({n} examples; each model "
            f"trains on half of the pool, the rest measures test accuracy), got {pool_size}"
        )
    if test_size < 0:
        raise AuditInputError(f"test size must be >= 0 (0 = every example outside the pool), got {test_size}")
    left = n - pool_size - reserved_size - (test_size or MIN_TEST_SIZE)
    if left < 0:
        raise AuditInputError(
            f"{dataset.name} has {n} examples: too few for a pool of {pool_size}, {reserved_size} set aside for "
            f"DP-SGD's hyper-parameter search and {test_size or f'at least {MIN_TEST_SIZE}'} test examples; use a "
            "smaller --pool-size, a smaller --validation-size, or --no-dp-tuning"
        )
    order = np.random.default_rng(seed).permutation(n)
    pool = order[:pool_size]
    reserved = order[pool_size : pool_size + reserved_size]
    rest = order[pool_size + reserved_size :]
    test = rest[:test_size] if test_size else rest
    split = make_split(dataset, pool=pool, test=test, normalisation=Normalisation.of(dataset, pool))
    return dataclasses.replace(split, reserved_indices=reserved)


def make_split(dataset: ArrayDataset, *, pool: np.ndarray, test: np.ndarray, normalisation: Normalisation) -> AuditSplit:
    """The split with candidates ``dataset[pool]`` and test examples ``dataset[test]`` (index
    arrays into the data set), both normalised by ``normalisation``."""
    return AuditSplit(
        pool_x=normalisation.apply(dataset.x[pool]),
        pool_y=dataset.y[pool],
        test_x=normalisation.apply(dataset.x[test]),
        test_y=dataset.y[test],
        pool_indices=np.asarray(pool),
        test_indices=np.asarray(test),
        normalisation=normalisation,
    )


@dataclass(frozen=True)
class Normalisation:
    """Input standardisation ``(x - mean) / std``: ``mean`` and ``std`` are ``[C, 1, 1]`` for
    images (per channel), ``[F]`` for tabular data (per feature)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, dataset: ArrayDataset, indices: np.ndarray) -> Normalisation:
        """Statistics of the training inputs ``dataset.x[indices]`` only, so that nothing
        about held-out examples leaks into the inputs."""
        x = dataset.x[indices]
        axes = (0, 2, 3) if dataset.is_image else (0,)
        return cls(mean=x.mean(axis=axes, keepdims=True)[0], std=x.std(axis=axes, keepdims=True)[0] + 1e-6)

    @classmethod
    def from_lists(cls, mean: list, std: list) -> Normalisation:
        """From the nested lists a checkpoint's manifest stores."""
        return cls(mean=np.asarray(mean, np.float32), std=np.asarray(std, np.float32))

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Standardised float32 copy of raw inputs ``x [N, ...]``."""
        return ((x - self.mean) / self.std).astype(np.float32)

    def to_lists(self) -> dict[str, list]:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:20]
