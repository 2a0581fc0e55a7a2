"""Summaries of models and regimes, on handmade logits whose figures can be read off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from audit.analysis.summary import model_summary, summarise_targets
from audit.data import ArrayDataset, Normalisation, make_split
from audit.training import parse_regime
from results.records import EpochRecord
from results.vocabulary import FPR_TARGETS, RegimeKind

# Two classes, four candidates; logits [n, A=1, C=2]. Candidates 0 and 1 are members.
LOGITS = np.array([[[0.0, math.log(3.0)]], [[math.log(3.0), 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]])
LABELS = np.array([1, 1, 0, 1])
KEEP = np.array([True, True, False, False])


def test_a_user_model_summary_is_computed_from_its_logits_on_members():
    summary = model_summary(index=0, logits=LOGITS, keep_row=KEEP, labels=LABELS, test_accuracy=0.5, epsilon=2.0)
    # p_y: 3/4 (right), 1/4 (wrong) for the members; 1/2 and 1/2 for the non-members.
    assert summary.train_loss == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2)
    assert summary.train_accuracy == 0.5
    assert summary.member_confidence == pytest.approx(0.5)
    assert summary.non_member_confidence == pytest.approx(0.5)
    assert (summary.test_accuracy, summary.epsilon, summary.history) == (0.5, 2.0, [])


def test_a_pool_model_summary_takes_training_figures_from_its_last_epoch():
    history = [
        EpochRecord(epoch=1, train_loss=1.0, eval_train_loss=0.9, train_accuracy=0.6, test_accuracy=0.5),
        EpochRecord(epoch=2, train_loss=0.3, eval_train_loss=0.2, train_accuracy=0.95, test_accuracy=0.7),
    ]
    summary = model_summary(
        index=3, logits=LOGITS, keep_row=KEEP, labels=LABELS, test_accuracy=0.7, epsilon=None, history=history
    )
    assert (summary.index, summary.train_loss, summary.train_accuracy) == (3, 0.2, 0.95)


def test_regime_summary_pools_targets_and_keeps_fpr_targets_as_numbers():
    rng = np.random.default_rng(0)
    n, targets = 400, 4
    dataset = ArrayDataset(name="t", x=rng.random((n + 10, 3), dtype=np.float32), y=rng.integers(0, 2, n + 10), num_classes=2, is_image=False)
    split = make_split(dataset, pool=np.arange(n), test=np.arange(n, n + 10), normalisation=Normalisation.of(dataset, np.arange(n)))
    keep = rng.random((targets, n)) < 0.5
    logits = rng.normal(size=(targets, n, 1, 2))
    scores = {"loss": keep + rng.normal(size=(targets, n))}  # higher = member
    result = summarise_targets(
        regime=parse_regime("flood:0.3"),
        label="flood(b=0.3)",
        target_logits=logits,
        target_keep=keep,
        scores=scores,
        models=[],
        snapshots=[],
        split=split,
        dataset=dataset,
        main_attack="loss",
        seed=0,
    )
    attack = result.attacks["loss"]
    assert result.regime is RegimeKind.FLOOD and result.params.flood_level == 0.3 and result.params.epsilon is None
    assert [t.fpr for t in attack.tpr_at_fpr] == list(FPR_TARGETS)
    assert attack.n_members == int(keep.sum()) and attack.n_non_members == int((~keep).sum())
    assert attack.n_targets == targets and len(attack.auc_per_target) == targets
    assert 0.6 < attack.auc < 0.85  # a unit shift between unit-variance normals: AUC about 0.76
    confidence = next(h for h in result.histograms if h.quantity == "confidence")
    assert sum(confidence.members) == keep.sum() and sum(confidence.non_members) == (~keep).sum()
    assert len(result.vulnerable_examples) == 8 and result.vulnerable_examples[0].features is not None
    assert [c.label for c in result.per_class] == [0, 1]
