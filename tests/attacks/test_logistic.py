"""The shadow attack's Newton logistic regression against scikit-learn's standardised
logistic regression, solved to a tight tolerance (the same objective, so the same optimum)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from attacks import AttackInputError
from attacks.logistic import ScaledLogisticRegression


def problem(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features on different scales and offsets, a constant column in some, labels from a
    noisy linear rule: weakly to strongly separable, balanced to imbalanced."""
    rng = np.random.default_rng(seed)
    n, f = int(rng.integers(50, 3000)), int(rng.integers(1, 8))
    X = rng.normal(size=(n, f)) * rng.uniform(0.1, 10, size=f) + rng.uniform(-5, 5, size=f)
    if seed % 3 == 0:
        X[:, 0] = 2.5  # constant: scale 1, coefficient 0
    rule = (X - X.mean(0)) / np.maximum(X.std(0), 1e-12) @ rng.normal(size=f) * rng.uniform(0.2, 3)
    y = rule + rng.logistic(size=n) > rng.uniform(-2, 2)
    y[:2] = [True, False]
    return X, y


@pytest.mark.parametrize("seed", range(12))
def test_equals_scikit_learns_standardised_logistic_regression(seed):
    X, y = problem(seed)
    ours = ScaledLogisticRegression().fit(X, y)
    theirs = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-12, max_iter=100_000)).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.coef_, theirs[-1].coef_[0], rtol=1e-5, atol=1e-5)
    assert ours.n_iter_ < 30


def test_the_penalty_follows_C():
    X, y = problem(4)
    for C in (0.01, 100.0):
        ours = ScaledLogisticRegression(C=C).fit(X, y)
        theirs = make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-12, max_iter=100_000)).fit(X, y)
        np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X), rtol=1e-5, atol=1e-5)


def test_separable_data_stays_finite():
    """The L2 penalty bounds the coefficients even where a threshold separates perfectly."""
    X = np.r_[np.zeros((50, 1)), np.ones((50, 1))]
    y = np.r_[np.zeros(50, bool), np.ones(50, bool)]
    scores = ScaledLogisticRegression().fit(X, y).decision_function(X)
    assert np.all(np.isfinite(scores)) and scores[:50].max() < 0 < scores[50:].min()


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.zeros((4, 2)), np.ones(4, bool), "both classes"),
        (np.zeros(4), np.array([1, 0, 1, 0], bool), r"X \[N, F\]"),
        (np.zeros((4, 2)), np.array([1, 0, 1], bool), r"y \[N\]"),
        (np.array([[0.0], [np.nan], [1.0]]), np.array([1, 0, 1], bool), "finite"),
    ],
)
def test_bad_input_is_named(X, y, message):
    with pytest.raises(AttackInputError, match=message):
        ScaledLogisticRegression().fit(X, y)


def test_a_fit_that_runs_out_of_steps_says_so(monkeypatch):
    monkeypatch.setattr("attacks.logistic._MAX_STEPS", 1)
    X, y = problem(5)
    with pytest.warns(RuntimeWarning, match="before converging"):
        assert ScaledLogisticRegression().fit(X, y).n_iter_ == 1
