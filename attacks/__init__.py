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
candidates, and :mod:`attacks.privacy_audit` a valid one-run epsilon lower bound.
"""

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

# Every registered attack: even the shadow attack (16 logistic fits) and RMIA (an 11-point
# grid for a) take about a second on a 16-model pool of 10,000 candidates.
DEFAULT_ATTACKS: tuple[str, ...] = tuple(available_attacks())

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
