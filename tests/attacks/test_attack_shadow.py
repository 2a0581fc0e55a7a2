"""Shadow-model attack: every feature set and classifier separates separable members."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import create_attack, evaluate
from attacks.shadow import CLASSIFIERS, FEATURES


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
    assert attack.classifier_[-1].n_features_in_ == 4
    assert attack.classifier_[0].n_samples_seen_ == 100
