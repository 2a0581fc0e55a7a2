"""Leave-one-out attack runs over a pool of models (the pipeline's entry point)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from attacks.registry import create_attack


def leave_one_out_scores(
    attack_name: str,
    *,
    logits: np.ndarray,
    keep: np.ndarray,
    labels: np.ndarray,
    options: dict[str, Any] | None = None,
    targets: Sequence[int] | None = None,
) -> np.ndarray:
    """Scores of every target model's candidates, each target attacked with the other M-1
    models as references.

    ``logits [M, n, A, C]``, ``keep bool [M, n]``, ``labels [n]``; ``options`` go to
    :func:`attacks.registry.create_attack`; ``targets`` (default: all M) are the model indices
    to attack. Returns float64 ``[M, n]``, higher = member; rows not in ``targets`` are NaN.
    The references' keep rows are the calibration ground truth; the target's is never seen.

    Per-model signals are computed once for the whole pool; LiRA and RMIA reuse sums over
    all models less the target's share, so a full run costs about one fit, not M.
    """
    attack = create_attack(attack_name, **(options or {}))
    return attack.leave_one_out(logits=logits, keep=keep, labels=labels, targets=targets)
