"""Label-only gap attack (Yeom et al., "Privacy Risk in Machine Learning: Analyzing the
Connection to Overfitting", CSF 2018): guess "member" iff the model classifies the example
correctly. Its advantage equals the train-test accuracy gap, the baseline every other attack
should beat.
"""

from __future__ import annotations

import numpy as np

from attacks import signals as sig
from attacks.base import MembershipAttack


class LabelOnlyAttack(MembershipAttack):
    """Score = 1.0 if arg-max of the un-augmented query equals the label, else 0.0.

    Needs nothing from the reference models (``fit`` only checks shapes). The scores take
    two values, so the ROC has a single corner and the AUC is 1/2 + advantage/2.
    """

    name = "label-only"
    description = "Label-only gap attack: score = 1 if the prediction is correct, else 0"
    reference = "Yeom et al., Privacy Risk in Machine Learning, CSF 2018"

    def __init__(self) -> None:
        """No settings: the decision rule is fixed (an explicit ``__init__`` so that
        ``create_attack`` reports "no options" for this attack)."""

    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return sig.predicted_correctly(logits[:, :, 0], labels).astype(np.float64)

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        """Nothing to calibrate: the decision rule is fixed."""

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return signal
