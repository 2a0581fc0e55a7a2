"""Membership-inference attacks and their metrics: pure numpy / scipy / scikit-learn.

Layer: a leaf. It imports only :mod:`results` (the shared vocabularies) of flood-audit, never
torch, ``models``, ``reports`` or ``audit``, and does no file I/O. Inside the package the
imports run one way: ``registry`` -> attack modules -> ``base`` and ``signals``; ``metrics``
and ``evaluation`` sit beside them.

Every attack maps logits ``[M, n, A, C]`` of reference models plus their keep rows to
calibration, and a target's logits ``[n, A, C]`` to float64 scores ``[n]``, higher =
member. :func:`leave_one_out_scores` attacks every model of a pool in turn;
:mod:`attacks.metrics` turns scores into AUC and TPR at low FPR (ROC counts defined once in
:mod:`attacks.roc`), :mod:`attacks.intervals` gives their intervals over target models and
candidates (resamples computed by :mod:`attacks.bootstrap`), and :mod:`attacks.privacy_audit` a valid one-run epsilon lower bound.
"""

import importlib
from typing import TYPE_CHECKING, Any

# Names resolve on first use (PEP 562): the report needs only the metric formulas, and
# importing every attack would pull scipy.special in (about 0.3 s of a report's start-up).
_HOMES = {
    "AttackInputError": "attacks.base",
    "MembershipAttack": "attacks.base",
    "leave_one_out_scores": "attacks.evaluation",
    "AttackMetrics": "attacks.metrics",
    "ClassMetrics": "attacks.metrics",
    "PooledMetrics": "attacks.metrics",
    "dp_tpr_bound": "attacks.metrics",
    "evaluate": "attacks.metrics",
    "evaluate_pooled": "attacks.metrics",
    "per_class_metrics": "attacks.metrics",
    "ppv": "attacks.metrics",
    "vulnerability": "attacks.metrics",
    "AttackInfo": "attacks.registry",
    "available_attacks": "attacks.registry",
    "create_attack": "attacks.registry",
}

if TYPE_CHECKING:
    from attacks.base import AttackInputError, MembershipAttack
    from attacks.evaluation import leave_one_out_scores
    from attacks.metrics import (
        AttackMetrics,
        ClassMetrics,
        PooledMetrics,
        dp_tpr_bound,
        evaluate,
        evaluate_pooled,
        per_class_metrics,
        ppv,
        vulnerability,
    )
    from attacks.registry import AttackInfo, available_attacks, create_attack

    DEFAULT_ATTACKS: tuple[str, ...]


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_ATTACKS":
        # Every registered attack: even the shadow attack (16 logistic fits) and RMIA (an
        # 11-point grid for a) take about a second on a 16-model pool of 10,000 candidates.
        value: Any = tuple(importlib.import_module("attacks.registry").available_attacks())
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'attacks' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

__all__ = [
    "DEFAULT_ATTACKS",
    "AttackInfo",
    "AttackInputError",
    "AttackMetrics",
    "ClassMetrics",
    "MembershipAttack",
    "PooledMetrics",
    "available_attacks",
    "create_attack",
    "dp_tpr_bound",
    "evaluate",
    "evaluate_pooled",
    "leave_one_out_scores",
    "per_class_metrics",
    "ppv",
    "vulnerability",
]
