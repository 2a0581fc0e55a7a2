"""The contract every registered attack keeps: shape, dtype, determinism, direction."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import (
    DEFAULT_ATTACKS,
    AttackInputError,
    available_attacks,
    create_attack,
    evaluate_pooled,
    leave_one_out_scores,
)
from attacks.base import _PARTNER_SEED, reference_mask

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
def test_leave_one_out_equals_fit_then_score(name, separable_pool):
    """The shared-signal / subtracted-sums fast path agrees with refitting per target on
    the references, masked by reference_mask. (Chance on null data:
    test_null_calibration.py.)"""
    pool = separable_pool
    targets = [0, 5, 7]
    fast = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels, targets=targets)
    for target in range(len(pool.keep)):
        if target not in targets:
            assert np.isnan(fast[target]).all()
            continue
        refs = np.arange(len(pool.keep)) != target
        attack = create_attack(name).fit(
            pool.logits[refs], pool.keep[refs], pool.labels, use=reference_mask(pool.keep, target)
        )
        np.testing.assert_allclose(fast[target], attack.score(pool.logits[target], pool.labels), rtol=1e-9, atol=1e-9)


def slow_reference_mask(keep, target):
    """reference_mask one candidate at a time, from its definition: drop the opposite-side
    reference that comes first in the candidate's random order of the models."""
    order = np.random.default_rng(_PARTNER_SEED).random(keep.shape)
    refs = [m for m in range(len(keep)) if m != target]
    use = np.ones((len(refs), keep.shape[1]), dtype=bool)
    for i in range(keep.shape[1]):
        opposite = [row for row, m in enumerate(refs) if keep[m, i] != keep[target, i]]
        if opposite:
            use[max(opposite, key=lambda row: order[refs[row], i]), i] = False
    return use


def test_the_partner_is_a_uniformly_random_model_of_the_opposite_side():
    """Which model is dropped is random per candidate, so no model (say one with
    systematically higher confidence) sits only on the target's own side."""
    n_models, n = 8, 20_000
    keep = np.argsort(np.random.default_rng(3).random((n_models, n)), axis=0) < n_models // 2
    dropped = ~reference_mask(keep, 0)  # rows: models 1..7
    counts = dropped.sum(axis=1)
    assert dropped.sum(axis=0).tolist() == [1] * n  # one partner per candidate
    # Each of the 7 references is the partner of about n / 7 candidates (binomial sd ~ 50).
    assert np.all(np.abs(counts - n / 7) < 250), counts


@pytest.mark.parametrize("keep_kind", ["half", "bernoulli"])
def test_reference_mask_gives_every_target_the_same_calibration_counts(keep_kind):
    rng = np.random.default_rng(12)
    n_models, n = 7, 300
    if keep_kind == "half":
        keep = np.argsort(rng.random((n_models, n)), axis=0) < n_models // 2
    else:  # columns of any count, all-IN and all-OUT ones included
        keep = rng.random((n_models, n)) < rng.random(n)
        keep[:, 0], keep[:, 1] = True, False
    count_in = keep.sum(axis=0)
    count_out = n_models - count_in
    for target in range(n_models):
        use = reference_mask(keep, target)
        np.testing.assert_array_equal(use, slow_reference_mask(keep, target))
        refs_keep = np.delete(keep, target, axis=0)
        both_sides = (count_in > 0) & (count_out > 0)
        np.testing.assert_array_equal((refs_keep & use).sum(axis=0)[both_sides], count_in[both_sides] - 1)
        np.testing.assert_array_equal((~refs_keep & use).sum(axis=0)[both_sides], count_out[both_sides] - 1)
        # Where one side is empty the target is on the other, like every model: nothing dropped.
        assert use[:, ~both_sides].all()


def test_fit_defaults_to_every_reference_and_checks_the_mask(separable_pool):
    pool = separable_pool
    every = np.ones_like(pool.keep[1:])
    for name in ("loss", "shadow", "lira-online", "rmia"):
        plain = create_attack(name).fit(pool.logits[1:], pool.keep[1:], pool.labels).score(pool.logits[0], pool.labels)
        masked = create_attack(name).fit(pool.logits[1:], pool.keep[1:], pool.labels, use=every)
        np.testing.assert_array_equal(plain, masked.score(pool.logits[0], pool.labels))
    with pytest.raises(AttackInputError, match=r"use must be bool of shape \(7, 400\)"):
        create_attack("loss").fit(pool.logits[1:], pool.keep[1:], pool.labels, use=every[:, :10])


@pytest.mark.parametrize("name", ATTACKS)
def test_several_queries_per_example(name, pool_factory):
    pool = pool_factory(separable=True, n=200, n_queries=3, seed=3)
    scores = leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels, targets=[2])
    assert evaluate_pooled(scores, pool.keep, bootstrap=0).auc > 0.95
