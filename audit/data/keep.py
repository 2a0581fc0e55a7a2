"""The keep matrix: which candidate is in which model's training set."""

from __future__ import annotations

import numpy as np

from audit.errors import AuditInputError


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
