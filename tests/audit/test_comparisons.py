"""Paired comparisons with the standard regime: the claim follows the interval, and the level
is corrected for every interval the verdict reports."""

from __future__ import annotations

import numpy as np
import pytest

from audit.analysis.comparisons import compare_with_standard
from audit.analysis.summary import summarise_targets
from audit.data import ArrayDataset, Normalisation, make_keep_matrix, make_split
from audit.training import parse_regime
from results.records import ModelSummary

T, N = 8, 1000


@pytest.fixture(scope="module")
def setting():
    rng = np.random.default_rng(0)
    dataset = ArrayDataset(name="t", x=rng.random((N + 10, 2), dtype=np.float32), y=rng.integers(0, 2, N + 10), num_classes=2, is_image=False)
    split = make_split(dataset, pool=np.arange(N), test=np.arange(N, N + 10), normalisation=Normalisation.of(dataset, np.arange(N)))
    keep = make_keep_matrix(num_models=T, num_examples=N, seed=0)
    difficulty = rng.normal(size=N)  # shared by every regime's models: what pairing cancels
    return dataset, split, keep, difficulty, rng


def _regime(text, effect, accuracy, *, setting):
    dataset, split, keep, difficulty, rng = setting
    scores = difficulty + effect * keep + rng.normal(scale=0.5, size=keep.shape)
    models = [
        ModelSummary(index=m, train_loss=0.1, train_accuracy=1.0, test_accuracy=accuracy + 0.002 * rng.normal(),
                     member_confidence=0.9, non_member_confidence=0.8, epsilon=None, history=[], seconds=0.0)
        for m in range(T)
    ]
    regime = parse_regime(text)
    result = summarise_targets(
        regime=regime, label=regime.label, target_logits=rng.normal(size=(T, N, 1, 2)), target_keep=keep,
        scores={"loss": scores}, models=models, snapshots=[], split=split, dataset=dataset, main_attack="loss", seed=0,
    )
    return result, scores


def test_a_smaller_effect_is_a_cut_an_equal_one_no_change_and_the_level_is_corrected(setting):
    standard, s0 = _regime("standard", 1.5, 0.90, setting=setting)
    weaker, s1 = _regime("flood:0.3", 0.3, 0.85, setting=setting)
    same, s2 = _regime("flood:0.1", 1.5, 0.90, setting=setting)
    regimes = [standard, weaker, same]
    compare_with_standard(
        regimes,
        scores={"standard": s0, "flood(b=0.3)": s1, "flood(b=0.1)": s2},
        keep=setting[2],
        canaries=np.zeros(N, dtype=bool),
        main_attack="loss",
        seed=0,
    )
    assert standard.versus_standard is None
    cut, unchanged = weaker.versus_standard, same.versus_standard
    assert cut.verdict == "cut" and cut.leak.high < 0 and cut.metric == "tpr"
    assert cut.test_accuracy.high < 0 < -cut.test_accuracy.low  # about 5 points lost
    assert unchanged.verdict == "no clear change" and unchanged.leak.low < 0 < unchanged.leak.high
    assert cut.n_comparisons == 4 and cut.level == pytest.approx(1 - 0.05 / 4)
    # The estimate is the difference of the regimes' pooled TPRs at 1% FPR.
    assert cut.leak.estimate == pytest.approx(weaker.attacks["loss"].at(0.01).tpr - standard.attacks["loss"].at(0.01).tpr)


def test_without_a_standard_regime_nothing_is_compared(setting):
    weaker, s1 = _regime("flood:0.3", 0.3, 0.85, setting=setting)
    compare_with_standard(
        [weaker], scores={"flood(b=0.3)": s1}, keep=setting[2], canaries=np.zeros(N, dtype=bool), main_attack="loss", seed=0
    )
    assert weaker.versus_standard is None
