"""The one-run epsilon audit on real DP-SGD training: sized so that it can fail, and it does
not, across 20 seeds.

The data are 100 candidates with random labels, which a non-private MLP can only memorise:
its audit model's members are then easy to tell apart, and the one-run bound of the same
audit on the standard regime exceeds 1.5 (2.18 with all 28 guesses right; 1.67 with one
wrong). DP-SGD at epsilon = 1.5 must keep the bound below 1.5
for every one of 20 audit models (each with its own coins and seed; the pool's references
are trained once, which the bound allows: their keep rows are independent of every audit
model's coins). A bound above the accountant's epsilon is possible with probability under
5% per seed if everything is right, and far more likely if DP-SGD, the accountant or the
audit were wired wrongly.
"""

from __future__ import annotations

import numpy as np
import pytest

from attacks import leave_one_out_scores
from audit.analysis.privacy import audit_epsilon
from audit.config import AuditConfig, recipe_for
from audit.data import (
    ArrayDataset,
    Normalisation,
    make_audit_coins,
    make_keep_matrix,
    make_split,
)
from audit.pool import train_pool
from audit.training import parse_regime

pytestmark = pytest.mark.slow

TARGET_EPSILON = 1.5
DELTA = 1e-5  # far below 1 / (50 training examples): the delta term 2 m delta stays negligible
ATTACKS = ("loss", "lira-offline")
MODELS = 6


@pytest.fixture(scope="module")
def random_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    y = rng.integers(0, 2, size=300)
    dataset = ArrayDataset(name="random-labels", x=x, y=y, num_classes=2, is_image=False)
    pool, test = np.arange(100), np.arange(100, 300)
    return dataset, make_split(dataset, pool=pool, test=test, normalisation=Normalisation.of(dataset, pool))


def _bounds(regime_text: str, seeds: range, *, dataset, split, cache_dir) -> list[float]:
    regime = parse_regime(regime_text, delta=DELTA)
    config = AuditConfig(epochs=30, batch_size=16, learning_rate=3e-3, dp_learning_rate=3e-2, delta=DELTA)
    common = dict(
        split=split,
        recipe=recipe_for(config, regime),
        num_classes=2,
        is_image=False,
        data_fingerprint=dataset.fingerprint,
        architecture={"name": "mlp"},
        device="cpu",
        cache_dir=cache_dir,
    )
    keep = make_keep_matrix(num_models=MODELS, num_examples=100, seed=0)
    pool = train_pool(keep=keep, seed=0, **common)
    scores = {name: leave_one_out_scores(name, logits=pool.logits, keep=keep, labels=split.pool_y) for name in ATTACKS}
    bounds = []
    for seed in seeds:
        coins = make_audit_coins(num_examples=100, seed=seed)
        audit_model = train_pool(keep=coins[None], seed=1000 + seed, **common)
        audit = audit_epsilon(
            pool_scores=scores,
            pool_logits=pool.logits,
            keep=keep,
            audit_logits=audit_model.logits[0],
            coins=coins,
            labels=split.pool_y,
            delta=DELTA,
            seed=seed,
        )
        bounds.append(audit.epsilon_lower_bound)
    return bounds


def test_the_audit_can_exceed_the_target_epsilon_on_a_model_that_memorises(random_labels, tmp_path):
    dataset, split = random_labels
    bounds = _bounds("standard", range(3), dataset=dataset, split=split, cache_dir=tmp_path)
    assert min(bounds) > TARGET_EPSILON, bounds


def test_dp_sgd_keeps_the_bound_below_its_epsilon_across_20_seeds(random_labels, tmp_path):
    dataset, split = random_labels
    bounds = _bounds(f"dp:{TARGET_EPSILON:g}", range(20), dataset=dataset, split=split, cache_dir=tmp_path)
    assert len(bounds) == 20 and max(bounds) < TARGET_EPSILON, bounds
