"""Canaries: audit candidates made deliberately atypical, to measure the worst case.

Population metrics average over typical examples; defences that only floor the training
loss (flooding, RelaxLoss) look safe there and leak on the most exposed points (Aerni, Zhang
and Tramèr, "Evaluations of Machine Learning Privacy Defenses are Misleading", CCS 2024:
RelaxLoss 2.2% TPR at 0.1% FPR on the population, 74.1% on mislabelled canaries). A canary is
a pool candidate like any other: it follows the keep matrix, is IN for the models whose keep
row says so, and is attacked with the rest; only its metrics are reported apart.

Kinds (:data:`CANARY_KINDS`):

- ``mislabelled``: the example keeps its input and gets another class, drawn uniformly from
  the other C - 1 (Aerni et al.'s canaries): a model can only fit it by memorising it.
- ``ood``: the input is replaced by noise from outside the data's distribution (each
  feature uniform over the normalised data's range, independently) with a random label: an
  atypical point that no other example explains.

Canaries are drawn among the pool's candidates with their own seeded stream; the held-out test
part never holds one, so test accuracy is measured on clean examples only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from audit.data.split import AuditSplit
from audit.errors import AuditInputError

CANARY_KINDS = {
    "mislabelled": "the input with another class, drawn at random (Aerni et al., CCS 2024)",
    "ood": "noise from outside the data's distribution with a random class",
}
# Fewest candidates that must stay ordinary: the population's metrics need both members and
# non-members of every target, and the models something typical to learn.
MIN_POPULATION = 20


def check_canaries(*, count: int, kind: str, pool_size: int) -> None:
    """Raise :class:`AuditInputError` for a canary count or kind that cannot be used."""
    if kind not in CANARY_KINDS:
        raise AuditInputError(f"unknown canary kind {kind!r}; choose one of: {', '.join(CANARY_KINDS)}")
    if count < 0:
        raise AuditInputError(f"canaries must be >= 0 (0: none), got {count}")
    if count > pool_size:
        raise AuditInputError(
            f"{count} canaries exceed the pool's {pool_size} candidates (canaries are made from candidates, and at "
            f"least {MIN_POPULATION} must stay ordinary): use at most {max(pool_size - MIN_POPULATION, 0)} canaries "
            "or a larger --pool-size"
        )
    if count > pool_size - MIN_POPULATION:
        raise AuditInputError(
            f"{count} canaries leave {pool_size - count} of the pool's {pool_size} candidates ordinary; at least "
            f"{MIN_POPULATION} must stay: use fewer canaries or a larger --pool-size"
        )


def plant_canaries(split: AuditSplit, *, count: int, kind: str, num_classes: int, seed: int) -> AuditSplit:
    """``split`` with ``count`` of its candidates turned into canaries of ``kind``; the
    returned split's ``canaries`` (bool ``[n]``) marks them. ``count`` 0 returns ``split``."""
    check_canaries(count=count, kind=kind, pool_size=len(split.pool_y))
    if count == 0:
        return split
    rng = np.random.default_rng([seed, 0x63616E])
    chosen = np.sort(rng.choice(len(split.pool_y), size=count, replace=False))
    pool_x, pool_y = split.pool_x.copy(), split.pool_y.copy()
    shift = rng.integers(1, num_classes, size=count)  # never 0: always another class
    if kind == "mislabelled":
        pool_y[chosen] = (pool_y[chosen] + shift) % num_classes
    else:
        low, high = split.pool_x.min(axis=0), split.pool_x.max(axis=0)
        pool_x[chosen] = rng.uniform(low, high, size=(count, *pool_x.shape[1:])).astype(pool_x.dtype)
        pool_y[chosen] = rng.integers(0, num_classes, size=count)
    canaries = np.zeros(len(pool_y), dtype=bool)
    canaries[chosen] = True
    return dataclasses.replace(split, pool_x=pool_x, pool_y=pool_y, canaries=canaries, canary_kind=kind)
