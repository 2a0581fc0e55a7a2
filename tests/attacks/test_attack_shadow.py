"""Shadow-model attack: every feature set and classifier separates separable members."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import create_attack, evaluate, leave_one_out_scores
from attacks import signals as sig
from attacks.base import reference_mask
from attacks.shadow import CLASSIFIERS, FEATURES, make_classifier


@pytest.mark.parametrize("classifier", CLASSIFIERS)
@pytest.mark.parametrize("features", FEATURES)
def test_options_separate_members(features, classifier, pool_factory):
    pool = pool_factory(separable=True, n_models=4, n=150, seed=9)
    attack = create_attack("shadow", features=features, classifier=classifier).fit(
        pool.logits[1:], pool.keep[1:], pool.labels
    )
    scores = attack.score(pool.logits[0], pool.labels)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()
    assert evaluate(scores, pool.keep[0]).auc > 0.95


def test_per_class_models(pool_factory):
    pool = pool_factory(separable=True, n_models=4, n=200, n_classes=3, seed=10)
    attack = create_attack("shadow", per_class=True).fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert sorted(attack.class_classifiers_) == [0, 1, 2]
    assert evaluate(attack.score(pool.logits[0], pool.labels), pool.keep[0]).auc > 0.95


def test_training_rows_are_subsampled(pool_factory):
    pool = pool_factory(separable=True, n_models=4, n=150, seed=11)
    attack = create_attack("shadow", max_rows=100).fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert attack.classifier_.n_features_in_ == 4
    assert attack.classifier_.n_samples_seen_ == 100


def test_leave_one_out_trains_on_the_masked_references(pool_factory):
    """Per target, a classifier trained on the (reference, candidate) pairs of reference_mask."""
    pool = pool_factory(separable=False, n_models=6, n=150, seed=16)
    log_odds = sig.log_odds(pool.logits[:, :, 0])
    top3 = -np.sort(-log_odds, axis=-1)[..., :3]
    features = np.concatenate([top3, sig.take_label(log_odds, pool.labels)[..., None]], axis=-1)  # [M, n, 4]
    scores = leave_one_out_scores("shadow", logits=pool.logits, keep=pool.keep, labels=pool.labels)
    for target in range(6):
        refs = np.arange(6) != target
        use = reference_mask(pool.keep, target)
        classifier = make_classifier("logistic", seed=0).fit(features[refs][use], pool.keep[refs][use])
        np.testing.assert_allclose(scores[target], classifier.decision_function(features[target]), rtol=1e-6, atol=1e-9)
