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
from collections.abc import Iterator

import numpy as np

from attacks import signals as sig
from attacks.base import AttackInputError, MembershipAttack, calibration_partners, small_pool_hint


def best_threshold(signal: np.ndarray, is_member: np.ndarray) -> float:
    """The threshold t maximising balanced accuracy (TPR + TNR) / 2 of "member iff signal >= t".

    ``signal`` and ``is_member`` are ``[N]`` with both classes present. t is the midpoint
    between the last signal value predicted member and the next lower one, so that a new
    value equal to a training value is classified as it was in training.
    """
    order = np.argsort(-signal, kind="stable")
    return _best_threshold_sorted(signal[order], is_member[order])


def _best_threshold_sorted(ordered: np.ndarray, is_member: np.ndarray) -> float:
    """:func:`best_threshold` of a signal already sorted highest first (``ordered [N]``,
    ``is_member [N]`` in the same order): O(N), so leave-one-out can sort all pairs once and
    take each target's pairs out of that order."""
    ends = np.flatnonzero(np.r_[ordered[1:] != ordered[:-1], True])  # a cut falls between tie groups
    true_pos = np.cumsum(is_member, dtype=np.int64)[ends]
    false_pos = ends + 1 - true_pos
    # (TPR + TNR) / 2 = 1/2 + (TP N_out - FP N_in) / (2 N_in N_out): compared in integers so
    # that equally good cuts tie exactly and the first (highest) one wins.
    gain = true_pos * false_pos[-1] - false_pos * true_pos[-1]
    best = ends[np.argmax(gain)]
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

    def _fit_each_target(
        self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: list[int]
    ) -> Iterator[int]:
        """Leave-one-out with one sort: every (model, candidate) signal is sorted once (and
        once per class), and each target's calibration pairs, those of
        :func:`~attacks.base.reference_mask`, are taken out of that order in O(M n) instead
        of sorted again. Thresholds equal those of :meth:`_fit_signals` on the same pairs:
        a stable sort restricted to a subset is the subset's stable sort."""
        flat, members = signals.reshape(-1), keep.reshape(-1)
        order = np.argsort(-flat, kind="stable")
        ordered, ordered_members = flat[order], members[order]
        columns = np.tile(np.arange(keep.shape[1]), keep.shape[0])
        classes = {}
        if self.per_class:
            for label in np.unique(labels):
                in_class = order[labels[columns[order]] == label]
                classes[int(label)] = (in_class, flat[in_class], members[in_class])
        for target, partners in calibration_partners(keep, targets):
            use = np.ones(keep.shape, dtype=bool)
            use[target] = False
            has_partner = partners >= 0
            use[partners[has_partner], np.flatnonzero(has_partner)] = False
            use = use.reshape(-1)
            chosen = use[order]
            chosen_members = ordered_members[chosen]
            if chosen_members.all() or not chosen_members.any():
                self._check_both_sides(chosen_members, use=np.delete(use.reshape(keep.shape), target, axis=0))
            self.threshold_ = _best_threshold_sorted(ordered[chosen], chosen_members)
            self.class_thresholds_ = np.full(self.n_classes_, self.threshold_)
            for label, (positions, values, class_members) in classes.items():
                picked = use[positions]
                picked_members = class_members[picked]
                if picked_members.any() and not picked_members.all():
                    self.class_thresholds_[label] = _best_threshold_sorted(values[picked], picked_members)
            yield target

    def _check_both_sides(self, members: np.ndarray, *, use: np.ndarray) -> None:
        if members.all() or not members.any():
            held = "no pairs" if not members.size else "only members" if members.all() else "only non-members"
            raise AttackInputError(
                f"the {self.name} attack needs reference outputs of both members and non-members; "
                f"the reference pairs it calibrates on hold {held}{small_pool_hint(use)}"
            )

    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        members = keep[use]
        self._check_both_sides(members, use=use)
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
