"""The analysis cache: an entry is used only for the very inputs it was computed from, gives
back exactly what the computation gave, and a damaged one is computed again."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from audit.data import ArrayDataset, AuditSplit, Normalisation
from audit.pipeline.analysis_cache import analysis_key, cached_analysis, load_analysis, save_analysis
from audit.pool import PoolSignals, TrainedModel
from audit.training import TrainRecipe, parse_regime
from results.records import EpochRecord, PrivacyAudit, RegimeResult
from results.serialization import to_json_dict
from results.vocabulary import RegimeKind

M, N, T = 4, 12, 5


def _history(loss):
    return [EpochRecord(epoch=1, train_loss=loss, eval_train_loss=loss, train_accuracy=0.5, test_accuracy=0.4, test_loss=1.0)]


def _inputs():
    rng = np.random.default_rng(0)
    recipe = TrainRecipe(architecture="mlp", epochs=1, batch_size=4, learning_rate=1e-3)

    def pool(models, first):
        return PoolSignals(
            recipe=recipe,
            logits=rng.normal(size=(models, N, 1, 3)).astype(np.float32),
            snapshot_epochs=[1],
            snapshot_logits=rng.normal(size=(1, models, N, 1, 3)).astype(np.float32),
            models=[TrainedModel(first + m, _history(0.1 * m), None, 1.5, False, None) for m in range(models)],
        )

    dataset = ArrayDataset("toy", rng.random((N + T, 4)).astype(np.float32), np.arange(N + T) % 3, 3, False, ("a", "b", "c"))
    split = AuditSplit(
        pool_x=dataset.x[:N],
        pool_y=dataset.y[:N],
        test_x=dataset.x[N:],
        test_y=dataset.y[N:],
        pool_indices=np.arange(N),
        test_indices=np.arange(N, N + T),
        normalisation=Normalisation(np.zeros(4, np.float32), np.ones(4, np.float32)),
    )
    return dict(
        regime=parse_regime("flood:0.1", delta=1e-5),
        pool=pool(M, 0),
        audit_model=pool(1, M),
        keep=rng.random((M, N)) < 0.5,
        coins=rng.random(N) < 0.5,
        split=split,
        dataset=dataset,
        attack_names=["loss", "lira-offline"],
        main_attack="lira-offline",
        seed=0,
        delta=1e-5,
    )


def _first_logit_raised(pool):
    logits = pool.logits.copy()
    logits[0, 0, 0, 0] += 1e-3
    return dataclasses.replace(pool, logits=logits)


def _flipped(array):
    array = array.copy()
    array.flat[0] = not array.flat[0]
    return array


CHANGES = {
    "a logit": lambda i: {"pool": _first_logit_raised(i["pool"])},
    "a snapshot logit": lambda i: {
        "pool": dataclasses.replace(i["pool"], snapshot_logits=i["pool"].snapshot_logits + 1e-3)
    },
    "the audit model's logits": lambda i: {"audit_model": _first_logit_raised(i["audit_model"])},
    "a training history": lambda i: {
        "pool": dataclasses.replace(
            i["pool"], models=[dataclasses.replace(i["pool"].models[0], history=_history(0.7)), *i["pool"].models[1:]]
        )
    },
    "an epsilon": lambda i: {
        "pool": dataclasses.replace(i["pool"], models=[dataclasses.replace(m, epsilon=8.0) for m in i["pool"].models])
    },
    "the keep matrix": lambda i: {"keep": _flipped(i["keep"])},
    "the audit coins": lambda i: {"coins": _flipped(i["coins"])},
    "a label": lambda i: {"split": dataclasses.replace(i["split"], pool_y=(i["split"].pool_y + 1) % 3)},
    "the candidates": lambda i: {"split": dataclasses.replace(i["split"], pool_indices=i["split"].pool_indices[::-1].copy())},
    "the canaries": lambda i: {"split": dataclasses.replace(i["split"], canaries=np.arange(N) < 2, canary_kind="mislabel")},
    "the data": lambda i: {"dataset": dataclasses.replace(i["dataset"], x=i["dataset"].x + 1)},
    "the class names": lambda i: {"dataset": dataclasses.replace(i["dataset"], class_names=("x", "y", "z"))},
    "the regime": lambda i: {"regime": parse_regime("flood:0.2", delta=1e-5)},
    "the attacks": lambda i: {"attack_names": ["loss"]},
    "the main attack": lambda i: {"main_attack": "loss"},
    "the seed": lambda i: {"seed": 1},
    "delta": lambda i: {"delta": 1e-6},
}


def test_the_key_is_the_same_for_the_same_inputs_whether_models_were_trained_now_or_loaded():
    inputs = _inputs()
    loaded = dataclasses.replace(
        inputs["pool"], models=[dataclasses.replace(m, cached=True, seconds=0.0) for m in inputs["pool"].models]
    )
    assert analysis_key(**inputs) == analysis_key(**_inputs()) == analysis_key(**{**inputs, "pool": loaded})


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_any_change_to_an_input_of_the_analysis_is_another_key(change):
    inputs = _inputs()
    assert analysis_key(**{**inputs, **CHANGES[change](inputs)}) != analysis_key(**inputs)


def test_other_analysis_code_is_another_key(monkeypatch):
    from audit.pipeline import analysis_cache

    inputs = _inputs()
    before = analysis_key(**inputs)
    monkeypatch.setattr(analysis_cache, "analysis_code_version", lambda: "other code")
    assert analysis_key(**inputs) != before


def _result():
    """A record with what strict JSON would lose: NaN in a plain float, NaN and infinity in
    an optional one."""
    return RegimeResult(
        label="flood(b=0.1)",
        regime=RegimeKind.FLOOD,
        params=parse_regime("flood:0.1").params(),
        models=[],
        attacks={},
        privacy_audit=PrivacyAudit(
            epsilon_lower_bound=math.nan, confidence=0.95, delta=math.inf, m=10, r=2, v=1, k_plus=1, k_minus=1,
            attack="loss", meaning="",
        ),
    )


def _as_text(result):
    return json.dumps(to_json_dict(result, strict=False), allow_nan=True, sort_keys=True)


def test_an_entry_gives_back_exactly_what_was_computed(tmp_path):
    scores = {"loss": np.array([[0.5, np.nan], [-1.0, 2.0]]), "lira-offline": np.arange(4.0).reshape(2, 2)}
    save_analysis(tmp_path, "k1", _result(), scores)
    result, loaded = load_analysis(tmp_path, "k1")
    assert _as_text(result) == _as_text(_result())
    assert math.isnan(result.privacy_audit.epsilon_lower_bound) and result.privacy_audit.delta == math.inf
    assert list(loaded) == list(scores)
    for name in scores:
        np.testing.assert_array_equal(loaded[name], scores[name])


def test_cached_analysis_computes_once_then_reads(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return _result(), {"loss": np.ones((2, 3))}

    first = cached_analysis(tmp_path, "k2", compute)
    second = cached_analysis(tmp_path, "k2", compute)
    assert len(calls) == 1 and (first[2], second[2]) == (False, True)
    assert _as_text(first[0]) == _as_text(second[0])


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / "k3.json").write_text("{"),
        lambda folder: (folder / "k3.npz").write_bytes(b"PK\x03\x04"),
        lambda folder: (folder / "k3.npz").unlink(),
        lambda folder: (folder / "k3.json").write_text(json.dumps({"format": 1, "key": "other"})),
    ],
    ids=["truncated-record", "truncated-scores", "missing-scores", "another-key"],
)
def test_a_damaged_entry_is_computed_again_and_replaced(tmp_path, damage):
    cached_analysis(tmp_path, "k3", lambda: (_result(), {"loss": np.ones((2, 3))}))
    damage(tmp_path / "analysis")
    calls = []

    def compute():
        calls.append(1)
        return _result(), {"loss": np.ones((2, 3))}

    assert cached_analysis(tmp_path, "k3", compute)[2] is False and calls == [1]
    assert cached_analysis(tmp_path, "k3", compute)[2] is True and calls == [1]
