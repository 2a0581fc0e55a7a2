"""A regime's valid empirical epsilon lower bound: the one-run audit (Steinke, Nasr and
Jagielski, "Privacy Auditing with One (1) Training Run", NeurIPS 2023) of a held-out audit
model, with the attack and the number of guesses chosen on the pool beforehand.

Why a held-out model: the bound needs the audited model's membership to be independent fair
coins, and the attacker's calibration to be independent of them. The pool's keep matrix
gives neither (each candidate is IN for exactly half of the models, so the other rows fix a
target's row); an extra model per regime whose coins are drawn on their own
(:func:`audit.data.make_audit_coins`) gives both, with the pool's M models as its references.
"""

from __future__ import annotations

import numpy as np

from attacks import create_attack
from attacks.privacy_audit import choose_guesses, one_run_audit
from results.claims import PrivacyAudit
from results.vocabulary import CI_LEVEL


def audit_epsilon(
    *,
    pool_scores: dict[str, np.ndarray],
    pool_logits: np.ndarray,
    keep: np.ndarray,
    audit_logits: np.ndarray,
    coins: np.ndarray,
    labels: np.ndarray,
    delta: float,
    seed: int,
) -> PrivacyAudit:
    """The one-run bound of the audit model.

    ``pool_scores``: attack name -> leave-one-out scores ``[M, n]`` of the pool's models
    (higher = member) with their membership ``keep [M, n]``: the choice of attack and guess
    counts is made on them alone. ``pool_logits [M, n, A, C]`` calibrate the chosen attack,
    which then scores the audit model's ``audit_logits [n, A, C]`` against its ``coins [n]``.
    """
    choice = choose_guesses(pool_scores, keep, delta=delta, confidence=CI_LEVEL, seed=seed)
    attack = create_attack(choice.attack).fit(pool_logits, keep, labels)
    audit = one_run_audit(
        attack.score(audit_logits, labels),
        coins,
        k_plus=choice.k_plus,
        k_minus=choice.k_minus,
        delta=delta,
        confidence=CI_LEVEL,
        attack=choice.attack,
        seed=seed,
    )
    return PrivacyAudit(
        epsilon_lower_bound=audit.epsilon_lower_bound,
        confidence=audit.confidence,
        delta=audit.delta,
        m=audit.m,
        r=audit.r,
        v=audit.v,
        k_plus=audit.k_plus,
        k_minus=audit.k_minus,
        attack=choice.attack,
        meaning=audit.meaning,
    )
