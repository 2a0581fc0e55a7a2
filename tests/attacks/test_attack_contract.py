"""The contract every registered attack keeps: shape, dtype, determinism, direction."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import (
    DEFAULT_ATTACKS,
    available_attacks,
    create_attack,
    evaluate_pooled,
    leave_one_out_scores,
)

ATTACKS = sorted(available_attacks())


def test_default_attacks_are_registered():
    assert set(DEFAULT_ATTACKS) <= set(ATTACKS)
    assert DEFAULT_ATTACKS


def test_registry_lists_global_and_class_conditional_variants():
    for name in ("loss", "confidence", "entropy", "modified-entropy"):
        assert {name, f"{name}-class"} <= set(ATTACKS)
    assert create_attack("confidence", per_class=True).per_class
    assert create_attack("confidence-class").per_class


@pytest.mark.parametrize("name", ATTACKS)
def test_info_is_complete(name):
    info = available_attacks()[name]
    assert info.name == name
    assert info.description and "\n" not in info.description
    assert info.reference


@pytest.mark.parametrize("name", ATTACKS)
def test_fit_score_shape_dtype_and_determinism(name, separable_pool):
    pool = separable_pool
    refs = slice(1, None)

    def run():
        attack = create_attack(name).fit(pool.logits[refs], pool.keep[refs], pool.labels)
        return attack.score(pool.logits[0], pool.labels)

    first, second = run(), run()
    assert first.shape == (pool.logits.shape[1],)
    assert first.dtype == np.float64
    assert not np.isnan(first).any()
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("name", ATTACKS)
def test_separable_members_score_higher(name, separable_pool):
    pool = separable_pool
    scores = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels)
    assert scores.shape == pool.keep.shape and not np.isnan(scores).any()
    assert evaluate_pooled(scores, pool.keep, bootstrap=0).auc > 0.95


@pytest.mark.parametrize("name", ATTACKS)
def test_exchangeable_members_are_chance(name, exchangeable_pool):
    pool = exchangeable_pool
    scores = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels)
    assert abs(evaluate_pooled(scores, pool.keep, bootstrap=0).auc - 0.5) < 0.05


@pytest.mark.parametrize("name", ATTACKS)
def test_leave_one_out_equals_fit_then_score(name, separable_pool):
    """The shared-signal / subtracted-sums fast path agrees with refitting per target."""
    pool = separable_pool
    targets = [0, 5]
    fast = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels, targets=targets)
    for target in range(len(pool.keep)):
        if target not in targets:
            assert np.isnan(fast[target]).all()
            continue
        refs = np.arange(len(pool.keep)) != target
        attack = create_attack(name).fit(pool.logits[refs], pool.keep[refs], pool.labels)
        np.testing.assert_allclose(fast[target], attack.score(pool.logits[target], pool.labels), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ATTACKS)
def test_several_queries_per_example(name, pool_factory):
    pool = pool_factory(separable=True, n=200, n_queries=3, seed=3)
    scores = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels, targets=[2])
    assert evaluate_pooled(scores, pool.keep, bootstrap=0).auc > 0.95
