"""DP-SGD's hyper-parameter search: within its budget, around the configured recipe, and on
data set aside that never includes an audit candidate or a test example."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

import audit.tuning.dp_search as dp_search
from audit.config import AuditConfig, recipe_for
from audit.data import load_digits_dataset, split_pool
from audit.errors import AuditInputError
from audit.events import Events
from audit.training import parse_regime
from results.records import EpochRecord


def _recipe():
    return recipe_for(AuditConfig(), parse_regime("dp:8", delta=1e-5))


def test_the_budget_holds_the_configured_recipe_first_then_distinct_grid_points():
    recipe = _recipe()
    chosen = dp_search.candidates(recipe, budget=8, seed=0, train_size=400)
    assert len(chosen) == 8 and chosen[0] == recipe
    keys = {(c.learning_rate, c.batch_size, c.epochs, c.regime.max_grad_norm) for c in chosen}
    assert len(keys) == 8
    for c in chosen[1:]:
        assert c.learning_rate / recipe.learning_rate in dp_search.LEARNING_RATE_FACTORS
        assert c.batch_size // recipe.batch_size in dp_search.BATCH_FACTORS and c.batch_size <= 200
        assert c.regime.epsilon == 8 and c.regime.max_grad_norm / recipe.regime.max_grad_norm in dp_search.CLIP_FACTORS
    assert dp_search.candidates(recipe, budget=8, seed=0, train_size=400) == chosen  # seeded
    assert dp_search.candidates(recipe, budget=1, seed=0, train_size=400) == [recipe]


def test_the_search_never_touches_audit_candidates_or_test_examples(monkeypatch):
    dataset = load_digits_dataset()
    split = split_pool(dataset, pool_size=600, seed=0, reserved_size=300 + 200)
    seen, accuracies = [], iter([0.5, 0.8, 0.8, 0.6])

    def fake_train_pool(*, split, keep, recipe, **kwargs):
        seen.append((split.pool_indices[keep[0]], split.test_indices))
        record = EpochRecord(epoch=1, train_loss=0.1, eval_train_loss=0.1, train_accuracy=1.0, test_accuracy=next(accuracies))
        model = SimpleNamespace(index=0, history=[record], epsilon=8.0, seconds=0.0, cached=False)
        return SimpleNamespace(models=[model])

    monkeypatch.setattr(dp_search, "train_pool", fake_train_pool)
    recipe, record = dp_search.tune_dp(
        _recipe(), budget=4, dataset=dataset, split=split, train_size=300, architecture={}, seed=0,
        device="cpu", cache_dir=None, events=Events(),
    )
    audit_examples = np.concatenate([split.pool_indices, split.test_indices])
    for trained_on, validated_on in seen:
        assert not np.intersect1d(trained_on, audit_examples).size and not np.intersect1d(validated_on, audit_examples).size
        assert len(trained_on) == 300 and len(validated_on) == 200 and not np.intersect1d(trained_on, validated_on).size
    assert record.chosen == 1 and [t.validation_accuracy for t in record.trials] == [0.5, 0.8, 0.8, 0.6]
    assert recipe == dp_search.candidates(_recipe(), budget=4, seed=0, train_size=300)[1]  # the first of two equals
    assert (record.train_size, record.validation_size, record.budget) == (300, 200, 4)


def test_validation_size_defaults_to_a_tenth_of_the_data_within_bounds():
    assert dp_search.validation_size(0, num_examples=1797) == 179
    assert dp_search.validation_size(0, num_examples=500) == 100
    assert dp_search.validation_size(0, num_examples=60_000) == 1000
    assert dp_search.validation_size(321, num_examples=60_000) == 321


def test_too_little_data_for_the_search_is_refused_with_the_fixes():
    with pytest.raises(AuditInputError, match="--no-dp-tuning"):
        split_pool(load_digits_dataset(), pool_size=1500, seed=0, reserved_size=900)


def test_a_budget_below_one_is_refused():
    from audit.config import validate

    with pytest.raises(AuditInputError, match="DP search budget must be >= 1"):
        validate(dataclasses.replace(AuditConfig(), dp_search_budget=0))
