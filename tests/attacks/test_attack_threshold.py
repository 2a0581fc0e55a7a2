"""Metric attacks: the balanced-accuracy threshold and its class-conditional variant."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import create_attack, leave_one_out_scores
from attacks.base import reference_mask
from attacks.signals import cross_entropy
from attacks.threshold import best_threshold


def test_best_threshold_by_hand():
    signal = np.array([0.9, 0.8, 0.7, 0.4, 0.3, 0.1])
    is_member = np.array([True, True, False, True, False, False])
    # Cutting below 0.8: TPR 2/3, TNR 1 -> 5/6; below 0.4: TPR 1, TNR 2/3 -> 5/6; the first
    # maximum wins and the threshold sits halfway to the next value.
    assert best_threshold(signal, is_member) == pytest.approx(0.75)


def test_best_threshold_never_splits_ties():
    signal = np.array([1.0, 1.0, 0.0, 0.0])
    assert best_threshold(signal, np.array([True, False, True, False])) in (0.5, 0.0)
    assert best_threshold(signal, np.array([True, True, False, False])) == 0.5


def make_two_class_pool(rng, n_models=6, n=300):
    """Class 0 is confident everywhere (members a bit more), class 1 unsure everywhere:
    one global threshold can only serve one of them."""
    keep = np.argsort(rng.random((n_models, n)), axis=0) < n_models // 2
    labels = np.arange(n) % 2
    margin = np.where(labels == 0, 6.0, 0.0) + 1.5 * keep + rng.normal(0, 0.3, size=(n_models, n))
    logits = np.zeros((n_models, n, 1, 2))
    logits[..., 0, 0] = np.where(labels == 0, margin, 0.0)
    logits[..., 0, 1] = np.where(labels == 1, margin, 0.0)
    return logits.astype(np.float32), keep, labels


def test_class_thresholds_adapt_per_class():
    logits, keep, labels = make_two_class_pool(np.random.default_rng(0))
    global_attack = create_attack("loss").fit(logits[1:], keep[1:], labels)
    class_attack = create_attack("loss-class").fit(logits[1:], keep[1:], labels)
    assert np.all(global_attack.class_thresholds_ == global_attack.threshold_)
    # Confident class 0 needs a -loss threshold near 0, unsure class 1 a far lower one.
    assert class_attack.class_thresholds_[0] > -0.01 and class_attack.class_thresholds_[1] < -0.1

    # Decisions (score > 0) of the class-conditional rule are better balanced on the target.
    def balanced_accuracy(scores):
        guess = scores > 0
        return (guess[keep[0]].mean() + (~guess[~keep[0]]).mean()) / 2

    assert (
        balanced_accuracy(class_attack.score(logits[0], labels))
        > balanced_accuracy(global_attack.score(logits[0], labels)) + 0.1
    )


def test_score_is_signal_minus_threshold():
    logits, keep, labels = make_two_class_pool(np.random.default_rng(1))
    attack = create_attack("confidence").fit(logits[1:], keep[1:], labels)
    target = logits[0, :, 0].astype(np.float64)
    p = np.exp(target) / np.exp(target).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        attack.score(logits[0], labels), p[np.arange(len(labels)), labels] - attack.threshold_, rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", ["loss", "loss-class"])
def test_leave_one_out_fits_on_the_masked_references(name, pool_factory):
    """Per target, the thresholds of the (reference, candidate) pairs of reference_mask."""
    pool = pool_factory(separable=False, n_models=8, n=200, n_classes=3, seed=15)
    signal = -cross_entropy(pool.logits[:, :, 0], pool.labels)  # [M, n]
    scores = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels)
    for target in range(8):
        refs = np.arange(8) != target
        use = reference_mask(pool.keep, target)
        ref_signal, ref_keep = signal[refs], pool.keep[refs]
        thresholds = np.full(3, best_threshold(ref_signal[use], ref_keep[use]))
        if name == "loss-class":
            for label in range(3):
                in_class = use & (pool.labels == label)
                thresholds[label] = best_threshold(ref_signal[in_class], ref_keep[in_class])
        np.testing.assert_allclose(scores[target], signal[target] - thresholds[pool.labels], rtol=1e-12, atol=1e-12)
