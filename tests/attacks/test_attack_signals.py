"""Signals: stable formulas agree with the naive ones where those are accurate."""

from __future__ import annotations

import numpy as np
import pytest

from attacks import signals as sig

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(0, 2, size=(50, 7))
LABELS = RNG.integers(0, 7, size=50)


def naive_probs():
    e = np.exp(LOGITS - LOGITS.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_log1m_softmax_and_log_odds_match_naive():
    p = naive_probs()
    np.testing.assert_allclose(sig.log1m_softmax(LOGITS), np.log1p(-p), rtol=1e-10)
    np.testing.assert_allclose(sig.log_odds(LOGITS), np.log(p / (1 - p)), rtol=1e-9)


def test_phi_entropy_and_losses_match_naive():
    p = naive_probs()
    p_y = p[np.arange(50), LABELS]
    np.testing.assert_allclose(sig.lira_phi(LOGITS, LABELS), np.log(p_y / (1 - p_y)), rtol=1e-9)
    np.testing.assert_allclose(sig.cross_entropy(LOGITS, LABELS), -np.log(p_y))
    np.testing.assert_allclose(sig.entropy(LOGITS), -(p * np.log(p)).sum(axis=1))
    others = np.where(np.arange(7) == LABELS[:, None], 0.0, p * np.log(1 - p)).sum(axis=1)
    np.testing.assert_allclose(sig.modified_entropy(LOGITS, LABELS), -(1 - p_y) * np.log(p_y) - others)


def test_extreme_logits_stay_finite_and_ordered():
    logits = np.array([[0.0, 50.0, 0.0], [0.0, 500.0, 0.0], [0.0, 0.0, 900.0]])
    labels = np.array([1, 1, 1])
    phi = sig.lira_phi(logits, labels)
    # log(p / (1 - p)) = 50 - log 2 when the other two logits are 0.
    assert phi[:2] == pytest.approx([50 - np.log(2), 500 - np.log(2)])
    assert phi[2] == pytest.approx(-900.0)
    for values in (sig.log1m_softmax(logits), sig.modified_entropy(logits, labels), sig.entropy(logits)):
        assert np.isfinite(values).all()
    assert sig.log1m_softmax(logits)[1, 1] == pytest.approx(np.log(2) - 500)


def test_labels_broadcast_over_queries():
    logits = RNG.normal(size=(3, 4, 2, 5))  # [M, n, A, C]
    labels = np.array([0, 1, 2, 3])
    phi = sig.lira_phi(logits, labels[:, None])
    assert phi.shape == (3, 4, 2)
    assert phi[1, 2, 1] == pytest.approx(sig.lira_phi(logits[1, 2, 1], labels[2]))
