"""The keep matrix: which candidate is in which model's training set."""

from __future__ import annotations

import numpy as np

from audit.errors import AuditInputError


def make_keep_matrix(*, num_models: int, num_examples: int, seed: int) -> np.ndarray:
    """``keep[m, i]`` is True when example ``i`` is in model ``m``'s training set.

    Balanced both ways: every example is IN for exactly ``num_models // 2`` models, and
    every model has ``num_examples * (num_models // 2) / num_models`` members (when that
    does not divide, the floor, and one more for models drawn at random). Built as in LiRA
    (Carlini et al., 2022): per example, a random ranking of the models, IN for the first
    ``num_models // 2``; then models with too many members hand members to models with too
    few, each on examples IN for the first and OUT for the second, chosen at random: such a
    swap keeps every example's count. Equal member counts keep a target's membership rate
    from telling its references apart (docs/statistics.md, "Calibration"). Seeded and
    deterministic; O(M n log M) for the ranking, then O(M n) for the swaps.
    Returns bool ``[num_models, num_examples]``.
    """
    if num_models < 2:
        raise AuditInputError(f"need at least 2 models per regime (a target and a reference), got {num_models}")
    rng = np.random.default_rng(seed)
    keep = rng.random((num_models, num_examples)).argsort(axis=0) < num_models // 2
    total = num_examples * (num_models // 2)
    wanted = np.full(num_models, total // num_models)
    wanted[rng.permutation(num_models)[: total % num_models]] += 1
    excess = keep.sum(axis=1) - wanted
    givers = [m for m in rng.permutation(num_models) if excess[m] > 0]
    takers = [m for m in rng.permutation(num_models) if excess[m] < 0]
    # Pair givers with takers in turn. A giver g and a taker t always have enough examples to
    # swap: g has at least excess[g] + (-excess[t]) - 1 >= either of them more members than t
    # (their wanted counts differ by at most one), so more examples IN for g and OUT for t.
    while givers and takers:
        giver, taker = givers[-1], takers[-1]
        moves = min(excess[giver], -excess[taker])
        swapped = rng.choice(np.flatnonzero(keep[giver] & ~keep[taker]), size=moves, replace=False)
        keep[giver, swapped], keep[taker, swapped] = False, True
        excess[giver] -= moves
        excess[taker] += moves
        if excess[giver] == 0:
            givers.pop()
        if excess[taker] == 0:
            takers.pop()
    return keep


def make_audit_coins(*, num_examples: int, seed: int) -> np.ndarray:
    """Membership of the held-out *audit model* of a regime: bool ``[num_examples]``, each
    example IN by an independent fair coin, drawn from a stream of its own so that it is
    independent of the keep matrix of the same seed. That independence is what the one-run
    epsilon bound (Steinke et al., NeurIPS 2023) needs: the pool's models serve as the audit
    model's references, and their membership must reveal nothing about its coins."""
    return np.random.default_rng([seed, 0x617564]).random(num_examples) < 0.5
