"""LiRA: the vectorized attack against a slow per-example loop, and its reference-count checks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from attacks import AttackInputError, create_attack, leave_one_out_scores
from attacks.base import reference_mask
from attacks.signals import lira_phi


def slow_lira(ref_logits, ref_keep, target_logits, labels, *, online, global_variance, use=None):
    """LiRA written out one example and one query at a time (Carlini et al. 2022, Alg. 1),
    on the references where ``use [R, n]`` (default: all)."""
    use = np.ones(ref_keep.shape, dtype=bool) if use is None else use
    n, n_queries = target_logits.shape[:2]
    phi_refs = np.array(
        [
            [[lira_phi(ref_logits[m, i, q], labels[i]) for q in range(n_queries)] for i in range(n)]
            for m in range(len(ref_keep))
        ]
    )
    phi_target = np.array([[lira_phi(target_logits[i, q], labels[i]) for q in range(n_queries)] for i in range(n)])
    ins, outs = [], []
    for i in range(n):
        in_models = [m for m in range(len(ref_keep)) if use[m, i] and ref_keep[m, i]]
        out_models = [m for m in range(len(ref_keep)) if use[m, i] and not ref_keep[m, i]]
        ins.append(phi_refs[in_models, i])  # [k, A]
        outs.append(phi_refs[out_models, i])

    def variances(groups):
        if not global_variance:
            return [g.var(axis=0, ddof=1) for g in groups]
        pooled = sum(((g - g.mean(axis=0)) ** 2).sum(axis=0) for g in groups) / sum(len(g) - 1 for g in groups)
        return [pooled] * len(groups)

    var_in, var_out = variances(ins), variances(outs)
    scores = np.empty(n)
    for i in range(n):
        per_query = []
        for q in range(n_queries):
            x, mu_out, sd_out = phi_target[i, q], outs[i][:, q].mean(), np.sqrt(var_out[i][q])
            if online:
                mu_in, sd_in = ins[i][:, q].mean(), np.sqrt(var_in[i][q])
                per_query.append(norm.logpdf(x, mu_in, sd_in) - norm.logpdf(x, mu_out, sd_out))
            else:
                per_query.append(-norm.logsf(x, mu_out, sd_out))
        scores[i] = np.mean(per_query)
    return scores


@pytest.mark.parametrize("global_variance", [True, False])
@pytest.mark.parametrize("name", ["lira-online", "lira-offline"])
def test_vectorized_lira_equals_per_example_loop(name, global_variance, pool_factory):
    pool = pool_factory(separable=False, n_models=9, n=60, n_queries=2, seed=4)
    refs, target = np.arange(1, 9), 0
    attack = create_attack(name, global_variance=global_variance).fit(pool.logits[refs], pool.keep[refs], pool.labels)
    fast = attack.score(pool.logits[target], pool.labels)
    slow = slow_lira(
        pool.logits[refs],
        pool.keep[refs],
        pool.logits[target],
        pool.labels,
        online=name == "lira-online",
        global_variance=global_variance,
    )
    np.testing.assert_allclose(fast, slow, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("global_variance", [True, False])
@pytest.mark.parametrize("name", ["lira-online", "lira-offline"])
@pytest.mark.parametrize("n_models", [8, 9])
def test_leave_one_out_equals_per_example_loop(name, global_variance, n_models, pool_factory):
    """Totals less the target's and the partner's shares give the statistics of the
    references that reference_mask keeps (for M = 9, columns of 4 IN and 5 OUT)."""
    pool = pool_factory(separable=True, n_models=n_models, n=40, n_queries=2, seed=5)
    fast = leave_one_out_scores(
        name, logits=pool.logits, keep=pool.keep, labels=pool.labels, options={"global_variance": global_variance}
    )
    for target in range(n_models):
        refs = np.arange(n_models) != target
        slow = slow_lira(
            pool.logits[refs],
            pool.keep[refs],
            pool.logits[target],
            pool.labels,
            online=name == "lira-online",
            global_variance=global_variance,
            use=reference_mask(pool.keep, target),
        )
        np.testing.assert_allclose(fast[target], slow, rtol=1e-7, atol=1e-9)


def test_global_variance_defaults_to_few_references(separable_pool):
    pool = separable_pool
    attack = create_attack("lira-online").fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert attack.global_variance_ and attack.var_in_.shape == (1, 1)
    attack = create_attack("lira-online", global_variance=False).fit(pool.logits[1:], pool.keep[1:], pool.labels)
    assert attack.var_in_.shape == (pool.keep.shape[1], 1)


def test_extreme_confidence_stays_finite(pool_factory):
    pool = pool_factory(separable=True, n_models=8, n=30, seed=6)
    logits = pool.logits * 40.0  # p_y within exp(-300) of 1 for members
    for name in ("lira-online", "lira-offline"):
        scores = leave_one_out_scores(name, logits=logits, keep=pool.keep, labels=pool.labels)
        assert np.isfinite(scores).all()


def test_online_with_too_few_references_names_the_counts(pool_factory):
    pool = pool_factory(separable=True, n_models=4, n=20, seed=7)
    # Each candidate is IN for 2 of the 4 models: leaving the target and its partner out
    # leaves 1 IN and 1 OUT.
    with pytest.raises(
        AttackInputError,
        match=r"model 0 as the target: lira-online needs at least 2 IN and 2 OUT .* calibrated on 1 IN and 1 OUT of 3",
    ):
        leave_one_out_scores("lira-online", logits=pool.logits, keep=pool.keep, labels=pool.labels)
    with pytest.raises(AttackInputError, match=r"(1 IN and 2 OUT|2 IN and 1 OUT) of 3 reference models"):
        create_attack("lira-online").fit(pool.logits[1:], pool.keep[1:], pool.labels)


def test_offline_needs_two_out_references(pool_factory):
    pool = pool_factory(separable=True, n_models=4, n=20, seed=7)
    create_attack("lira-offline").fit(pool.logits, pool.keep, pool.labels)  # 2 OUT each: enough
    # Without model 0, the candidates it did not train on are OUT for only one reference.
    with pytest.raises(
        AttackInputError,
        match=r"lira-offline needs at least 2 OUT reference models per example; example \d+ is calibrated on 2 IN and 1 OUT of 3",
    ):
        create_attack("lira-offline").fit(pool.logits[1:], pool.keep[1:], pool.labels)
