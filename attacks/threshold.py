"""Metric (threshold) attacks: one scalar signal per example, thresholded.

Yeom et al., "Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting",
CSF 2018 (loss threshold); Song & Mittal, "Systematic Evaluation of Privacy Risks of Machine
Learning Models", USENIX Security 2021 (confidence, entropy, modified entropy, and
class-conditional thresholds chosen on shadow models to maximise (TPR + TNR) / 2).

Every signal is oriented so that higher = more member-like. The threshold is fitted on the
reference models' signals and keep rows (the (model, candidate) pairs of the ``use`` mask,
see :func:`attacks.base.reference_mask`), and the score is ``signal - threshold[label]``:
continuous, so ROC curves and AUC stay meaningful, and positive exactly where the fitted
rule says "member". With one global threshold the score ranks like the raw signal; with
``per_class=True`` each class's threshold shifts that class's scores.

The un-augmented query (index 0) is the one scored, as in the papers.
"""

from __future__ import annotations

import abc

import numpy as np

from attacks import signals as sig
from attacks.base import AttackInputError, MembershipAttack, small_pool_hint
from attacks.roc import rank


def best_threshold(signal: np.ndarray, is_member: np.ndarray) -> float:
    """The threshold t maximising balanced accuracy (TPR + TNR) / 2 of "member iff signal >= t".

    ``signal`` and ``is_member`` are ``[N]`` with both classes present. t is the midpoint
    between the last signal value predicted member and the next lower one, so that a new
    value equal to a training value is classified as it was in training.
    """
    ranking = rank(signal, is_member)  # a cut can only fall between tie groups: ranking.ends
    ordered = signal[ranking.order]
    true_pos, false_pos = ranking.true_pos, ranking.false_pos
    # (TPR + TNR) / 2 = 1/2 + (TP N_out - FP N_in) / (2 N_in N_out): compared in integers so
    # that equally good cuts tie exactly and the first (highest) one wins.
    gain = true_pos * false_pos[-1] - false_pos * true_pos[-1]
    best = ranking.ends[np.argmax(gain)]
    if best == len(ordered) - 1:
        return float(ordered[best])
    return float((ordered[best] + ordered[best + 1]) / 2.0)


class ThresholdAttack(MembershipAttack):
    """Score = signal - threshold, the threshold fitted on reference models (global or per
    class). Subclasses define ``_metric(logits [M, n, C], labels [n]) -> [M, n]``, higher =
    member.

    Learned attributes: ``threshold_`` (global, float) and ``class_thresholds_`` (``[C]``,
    equal to ``threshold_`` when ``per_class=False`` and for classes whose reference outputs
    lack members or non-members).
    """

    def __init__(self, *, per_class: bool = False):
        self.per_class = per_class

    def _validate_options(self) -> None:
        if not isinstance(self.per_class, (bool, np.bool_)):
            raise AttackInputError(f"per_class must be True or False; got {self.per_class!r}")

    @abc.abstractmethod
    def _metric(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The signal ``[M, n]`` of un-augmented logits ``[M, n, C]``, higher = member."""

    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return self._metric(logits[:, :, 0], labels)

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        members = keep[use]
        if members.all() or not members.any():
            held = "no pairs" if not members.size else "only members" if members.all() else "only non-members"
            raise AttackInputError(
                f"the {self.name} attack needs reference outputs of both members and non-members; "
                f"the reference pairs it calibrates on hold {held}{small_pool_hint(use)}"
            )
        self.threshold_ = best_threshold(signals[use], members)
        self.class_thresholds_ = np.full(self.n_classes_, self.threshold_)
        if self.per_class:
            for label in np.unique(labels):
                in_class = use & (labels == label)
                members = keep[in_class]
                if members.any() and not members.all():
                    self.class_thresholds_[label] = best_threshold(signals[in_class], members)

    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return signal - self.class_thresholds_[labels]


class LossAttack(ThresholdAttack):
    """Loss threshold: signal = -cross-entropy(x, y); members have low loss."""

    name = "loss"
    description = "Loss threshold: score = -cross-entropy, threshold fitted on reference models"
    reference = "Yeom et al., Privacy Risk in Machine Learning, CSF 2018"

    def _metric(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return -sig.cross_entropy(logits, labels)


class ConfidenceAttack(ThresholdAttack):
    """Confidence threshold: signal = p_y, the softmax probability of the true label."""

    name = "confidence"
    description = "Confidence threshold: score = p(true label), threshold fitted on reference models"
    reference = "Song & Mittal, Systematic Evaluation of Privacy Risks of ML Models, USENIX Security 2021"

    def _metric(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return np.exp(sig.true_class_log_prob(logits, labels))


class EntropyAttack(ThresholdAttack):
    """Entropy threshold: signal = -entropy of the prediction (label-free)."""

    name = "entropy"
    description = "Entropy threshold: score = -entropy of the prediction, threshold fitted on reference models"
    reference = "Song & Mittal, Systematic Evaluation of Privacy Risks of ML Models, USENIX Security 2021"

    def _metric(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return -sig.entropy(logits)


class ModifiedEntropyAttack(ThresholdAttack):
    """Modified-entropy threshold: signal = -Mentr (see :func:`attacks.signals.modified_entropy`)."""

    name = "modified-entropy"
    description = "Modified-entropy threshold: score = -Mentr, threshold fitted on reference models"
    reference = "Song & Mittal, Systematic Evaluation of Privacy Risks of ML Models, USENIX Security 2021"

    def _metric(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return -sig.modified_entropy(logits, labels)
