"""RMIA: the sorted-population score against the pairwise definition, and its options."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from attacks import AttackInputError, create_attack, leave_one_out_scores
from attacks.base import reference_mask
from attacks.signals import true_class_log_prob


def pairwise_rmia(ref_logits, ref_keep, target_logits, labels, *, a, gamma, population, use=None):
    """The paper's definition, one (x, z) pair at a time, p(x) from the OUT references where
    ``use [R, n]`` (default: all)."""
    use = np.ones(ref_keep.shape, dtype=bool) if use is None else use
    p_refs = np.exp(true_class_log_prob(ref_logits, labels[:, None]))  # [R, n, A]
    p_target = np.exp(true_class_log_prob(target_logits, labels[:, None]))  # [n, A]
    mean_out = np.array([p_refs[~ref_keep[:, i] & use[:, i], i].mean(axis=0) for i in range(len(labels))])
    ratio = p_target / ((1 + a) / 2 * mean_out + (1 - a) / 2)
    scores = np.zeros(len(labels))
    for x in range(len(labels)):
        per_query = [np.mean([ratio[x, q] / ratio[z, q] >= gamma for z in population]) for q in range(ratio.shape[1])]
        scores[x] = np.mean(per_query)
    return scores


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_sorted_scores_equal_pairwise_definition(gamma, pool_factory):
    pool = pool_factory(separable=False, n_models=7, n=80, n_queries=2, seed=8)
    population = np.arange(0, 80, 3)
    attack = create_attack("rmia", a=0.3, gamma=gamma, population=population).fit(
        pool.logits[1:], pool.keep[1:], pool.labels
    )
    fast = attack.score(pool.logits[0], pool.labels)
    slow = pairwise_rmia(
        pool.logits[1:], pool.keep[1:], pool.logits[0], pool.labels, a=0.3, gamma=gamma, population=population
    )
    # Ratios equal up to rounding can flip a >= comparison; allow one population member.
    np.testing.assert_allclose(fast, slow, atol=1.0 / len(population) + 1e-12)
    assert np.mean(np.isclose(fast, slow)) > 0.95


@pytest.mark.parametrize("n_models", [8, 9])
def test_leave_one_out_equals_pairwise_definition_on_the_masked_references(n_models, pool_factory):
    """OUT sums less the target's and the partner's shares are the used OUT references'."""
    pool = pool_factory(separable=False, n_models=n_models, n=60, n_queries=2, seed=13)
    population = np.arange(0, 60, 2)
    options = {"a": 0.3, "population": population}
    fast = leave_one_out_scores("rmia", logits=pool.logits, keep=pool.keep, labels=pool.labels, options=options)
    for target in range(n_models):
        refs = np.arange(n_models) != target
        slow = pairwise_rmia(
            pool.logits[refs],
            pool.keep[refs],
            pool.logits[target],
            pool.labels,
            a=0.3,
            gamma=1.0,
            population=population,
            use=reference_mask(pool.keep, target),
        )
        np.testing.assert_allclose(fast[target], slow, atol=1.0 / len(population) + 1e-12)
        assert np.mean(np.isclose(fast[target], slow)) > 0.95


def test_leave_one_out_tunes_a_on_the_used_candidates_of_the_first_reference(pool_factory):
    """a maximises the AUC of the first reference (model 1 for target 0), scored pairwise
    with p(x) from the other used OUT references, over the candidates it is used for."""
    pool = pool_factory(separable=False, n_models=6, n=80, seed=15)
    keep = pool.keep.copy()
    # Candidates IN for model 1 only: with target 0 OUT, model 1 is their partner (the only IN).
    keep[:, :20] = False
    keep[1, :20] = True
    # A weak membership signal, so that the AUC depends on a.
    logits = pool.logits.copy()
    logits[:, np.arange(80), 0, pool.labels] += 1.5 * keep
    target, tuning, rest = 0, 1, [2, 3, 4, 5]
    use = reference_mask(keep, target)  # rows: models 1..5
    assert not use[0, :20].any()
    used = np.flatnonzero(use[0])
    attack = create_attack("rmia")
    attack.leave_one_out(logits=logits, keep=keep, labels=pool.labels, targets=[target])

    def best_a(candidates):
        grid = np.linspace(0, 1, 11)
        aucs = []
        for a in grid:
            scores = pairwise_rmia(
                logits[rest],
                keep[rest],
                logits[tuning],
                pool.labels,
                a=a,
                gamma=1.0,
                population=candidates,
                use=use[1:],
            )
            aucs.append(roc_auc_score(keep[tuning, candidates], scores[candidates]))
        return grid[int(np.argmax(aucs))]

    assert attack.a_ == pytest.approx(best_a(used))
    assert attack.a_ != pytest.approx(best_a(np.arange(80)))  # the masked candidates matter here


def test_a_is_tuned_on_a_reference_model(separable_pool):
    pool = separable_pool
    attack = create_attack("rmia").fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert 0.0 <= attack.a_ <= 1.0 and attack.a_ in np.round(np.linspace(0, 1, 11), 12)
    assert create_attack("rmia", a=0.3).fit(pool.logits[1:], pool.keep[1:], pool.labels).a_ == 0.3


def test_population_subsample_is_seeded(separable_pool):
    pool = separable_pool
    fit = lambda seed: create_attack("rmia", population=50, seed=seed).fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert len(fit(0).population_) == 50
    np.testing.assert_array_equal(fit(0).population_, fit(0).population_)
    assert not np.array_equal(fit(0).population_, fit(1).population_)


def test_population_larger_than_the_pool_is_refused(separable_pool):
    pool = separable_pool
    with pytest.raises(AttackInputError, match="population=10000 exceeds the 400 candidates"):
        create_attack("rmia", population=10_000).fit(pool.logits[1:], pool.keep[1:], pool.labels)


def test_needs_an_out_reference(separable_pool):
    pool = separable_pool
    keep = np.ones_like(pool.keep[1:3])
    with pytest.raises(AttackInputError, match="at least 1 OUT reference model per example"):
        create_attack("rmia", a=0.5).fit(pool.logits[1:3], keep, pool.labels)


def test_auto_a_needs_two_references(separable_pool):
    pool = separable_pool
    one_reference = np.zeros_like(pool.keep[:1])  # OUT everywhere, so only a's tuning is missing
    create_attack("rmia", a=0.3).fit(pool.logits[:1], one_reference, pool.labels)
    with pytest.raises(AttackInputError, match="a='auto' needs at least 2 reference models"):
        create_attack("rmia").fit(pool.logits[:1], one_reference, pool.labels)


def test_tuning_a_on_the_ratio_itself_equals_tuning_on_the_scores(pool_factory):
    """With one query, gamma = 1 and every candidate in the population, tuning ranks the
    ratio instead of the population scores (a strictly increasing function of it on the
    scored set): the same a, hence the same scores, as the population search gives."""
    pool = pool_factory(separable=False, n_models=8, n=300, seed=21)
    logits = pool.logits.copy()
    rng = np.random.default_rng(0)
    logits[:, np.arange(300), 0, pool.labels] += rng.uniform(0, 3, size=300) * pool.keep  # a depends on this
    inputs = {"logits": logits, "keep": pool.keep, "labels": pool.labels}
    shortcut, searched = create_attack("rmia"), create_attack("rmia", population=np.arange(300))
    tuned = []
    for target in range(8):
        fast = shortcut.leave_one_out(**inputs, targets=[target])
        slow = searched.leave_one_out(**inputs, targets=[target])
        assert shortcut.a_ == searched.a_
        np.testing.assert_array_equal(fast, slow)
        tuned.append(shortcut.a_)
    assert len(set(tuned)) > 1  # the grid's choice varies between targets: the comparison is not vacuous
