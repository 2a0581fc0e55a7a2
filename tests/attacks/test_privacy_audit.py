"""The one-run audit (Steinke, Nasr, Jagielski, NeurIPS 2023): its p-value against a direct
loop, its bound on a leaky model, its validity on an epsilon-DP mechanism, its silence on
null scores, and the choice of guesses on reference models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from attacks import AttackInputError
from attacks.privacy_audit import (
    _correct,
    _correct_counts,
    audit_p_value,
    choose_guesses,
    count_guesses,
    epsilon_from_guesses,
    guess_grid,
    one_run_audit,
)


def slow_p_value(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """The paper's formula term by term: P[Bin(r, q) >= v] + 2 m delta max_i P[v - i <= Bin < v] / i."""
    q = math.exp(epsilon) / (1 + math.exp(epsilon))
    pmf = [math.comb(r, k) * q**k * (1 - q) ** (r - k) for k in range(r + 1)]
    tail = sum(pmf[v:])
    worst = max((sum(pmf[v - i : v]) / i for i in range(1, v + 1)), default=0.0)
    return min(1.0, tail + 2 * m * delta * worst)


@pytest.mark.parametrize("seed", range(6))
def test_p_value_matches_the_direct_loop(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 300))
    r = int(rng.integers(0, m + 1))
    v = int(rng.integers(0, r + 1))
    for epsilon in (0.0, 0.7, 3.0):
        for delta in (0.0, 1e-5, 1e-3):
            assert audit_p_value(m=m, r=r, v=v, epsilon=epsilon, delta=delta) == pytest.approx(
                slow_p_value(m, r, v, epsilon, delta), rel=1e-9, abs=1e-300
            )


def slow_p_value_sparse(m: int, r: int, v: int, epsilon: float, delta: float) -> float:
    """:func:`slow_p_value` with scipy's pmf over an array, for r = 100,000."""
    q = math.exp(epsilon) / (1 + math.exp(epsilon))
    running = np.cumsum(stats.binom.pmf(np.arange(v - 1, -1, -1), r, q))
    return min(1.0, stats.binom.sf(v - 1, r, q) + 2 * m * delta * np.max(running / np.arange(1, v + 1)))


def test_p_value_is_stable_for_a_hundred_thousand_guesses():
    # Near q ~ 1 the pmf's log(1 - q) must not round to log(0).
    value = audit_p_value(m=200_000, r=100_000, v=99_990, epsilon=9.0, delta=1e-7)
    assert value == pytest.approx(slow_p_value_sparse(200_000, 100_000, 99_990, 9.0, 1e-7), rel=1e-8)
    assert value > stats.binom.sf(99_989, 100_000, math.exp(9.0) / (1 + math.exp(9.0)))


def test_p_value_is_vectorised_over_epsilon_and_grows_with_it():
    epsilons = np.linspace(0.0, 6.0, 25)
    values = audit_p_value(m=1000, r=400, v=330, epsilon=epsilons, delta=1e-5)
    assert values == pytest.approx([audit_p_value(m=1000, r=400, v=330, epsilon=e, delta=1e-5) for e in epsilons])
    assert np.all(np.diff(values) >= 0)


def test_bound_is_where_the_p_value_crosses_the_level():
    bound = epsilon_from_guesses(m=1000, r=400, v=330, delta=1e-5, confidence=0.95)
    assert audit_p_value(m=1000, r=400, v=330, epsilon=bound, delta=1e-5) < 0.05
    assert audit_p_value(m=1000, r=400, v=330, epsilon=bound + 1e-6, delta=1e-5) >= 0.05
    assert epsilon_from_guesses(m=1000, r=400, v=200) == 0.0  # half right: no evidence


@pytest.mark.parametrize("delta", [0.0, 1e-6])
def test_a_model_that_separates_members_perfectly_gives_a_bound_above_8(delta):
    rng = np.random.default_rng(0)
    coins = rng.random(20_000) < 0.5
    scores = coins + rng.random(20_000) / 2  # every member above every non-member
    # 8,000 guesses per side, fixed before the coins: all right, since ~10,000 are members.
    audit = one_run_audit(scores, coins, k_plus=8000, k_minus=8000, delta=delta)
    assert (audit.r, audit.v) == (16_000, 16_000)
    assert audit.epsilon_lower_bound > 8.0
    assert f"below {audit.epsilon_lower_bound:.2f}" in audit.meaning and "16000" in audit.meaning


def randomized_response_exceedance(epsilon: float, bound, *, runs: int = 300, m: int = 1000) -> float:
    """Fraction of audits of epsilon-DP randomized response (each coin reported right with
    probability e^eps / (1 + e^eps); ties among the 0/1 scores broken at random) whose bound
    ``bound(r, v)`` exceeds the true epsilon. 400 guesses per side, fixed beforehand."""
    rng = np.random.default_rng(int(epsilon * 1000))
    truthful = math.exp(epsilon) / (1 + math.exp(epsilon))
    exceeded = 0
    for run in range(runs):
        coins = rng.random(m) < 0.5
        reported = np.where(rng.random(m) < truthful, coins, ~coins)
        r, v = count_guesses(reported.astype(float), coins, k_plus=400, k_minus=400, seed=run)
        exceeded += bound(r, v) > epsilon
    return exceeded / runs


def valid_bound(r, v):
    return epsilon_from_guesses(m=1000, r=r, v=v)


@pytest.mark.parametrize("epsilon", [1.0, 2.0, 4.0])
def test_bound_exceeds_the_true_epsilon_of_a_dp_mechanism_at_most_five_percent_of_the_time(epsilon):
    """At most 5% in theory; 8% allows for 300 runs (binomial SD 1.3 points)."""
    assert randomized_response_exceedance(epsilon, valid_bound) <= 0.08


@pytest.mark.parametrize(
    "broken",
    [
        lambda r, v: epsilon_from_guesses(m=1000, r=r, v=v, confidence=0.5),  # beta = 0.5
        lambda r, v: math.log(v / (r - v)),  # the point estimate: no binomial tail
    ],
    ids=["beta=0.5", "no-binomial-tail"],
)
def test_the_validity_check_catches_a_broken_bound(broken):
    assert randomized_response_exceedance(2.0, broken) > 0.08


def test_null_scores_give_no_bound():
    rng = np.random.default_rng(1)
    bounds = []
    for run in range(200):
        coins = rng.random(1000) < 0.5
        audit = one_run_audit(rng.normal(size=1000), coins, k_plus=100, k_minus=100, seed=run)
        bounds.append(audit.epsilon_lower_bound)
    assert np.mean(np.array(bounds) == 0.0) >= 0.90
    silent = one_run_audit(np.zeros(4), np.array([True, False] * 2), k_plus=1, k_minus=1)
    assert "No evidence against privacy" in silent.meaning


def test_count_guesses_by_hand():
    scores = np.array([0.9, 0.8, 0.1, 0.2, 0.5])
    coins = np.array([True, False, False, True, False])
    # IN for 0.9 (right) and 0.8 (wrong); OUT for 0.1 (right).
    assert count_guesses(scores, coins, k_plus=2, k_minus=1) == (3, 2)


def test_ties_are_broken_at_random_not_by_position():
    coins = np.r_[np.ones(500, bool), np.zeros(500, bool)]  # members listed first
    r, v = count_guesses(np.zeros(1000), coins, k_plus=100, k_minus=100)
    assert r == 200 and 70 < v < 130  # by position it would be 200


def test_choice_takes_the_leaking_attack_and_the_side_that_leaks():
    """Members of some reference models are exposed (high scores) under one attack; nothing
    marks non-members, so guessing OUT only adds noise."""
    rng = np.random.default_rng(2)
    keep = rng.random((6, 2000)) < 0.5
    exposed = keep & (rng.random(keep.shape) < 0.2)
    leaking = rng.normal(size=keep.shape) + 5 * exposed
    choice = choose_guesses({"noise": rng.normal(size=keep.shape), "leaking": leaking}, keep)
    assert choice.attack == "leaking" and choice.k_minus == 0 and choice.k_plus > 0
    assert choice.mean_bound > 1.0
    assert (choice.k_plus, choice.k_minus) in guess_grid(2000)


def test_errors_name_the_problem():
    with pytest.raises(AttackInputError, match="need 0 <= v <= r <= m"):
        audit_p_value(m=10, r=5, v=6, epsilon=1.0, delta=0.0)
    with pytest.raises(AttackInputError, match="k_plus \\+ k_minus <= m = 4"):
        count_guesses(np.zeros(4), np.zeros(4, bool), k_plus=3, k_minus=2)
    with pytest.raises(AttackInputError, match="confidence must lie in"):
        epsilon_from_guesses(m=10, r=5, v=5, confidence=95)
    with pytest.raises(AttackInputError, match="bool coins"):
        count_guesses(np.zeros(4), np.zeros(4), k_plus=1, k_minus=1)


def test_correct_counts_for_the_whole_grid_match_the_count_for_one_guess():
    """Oracle: the vectorised count over models and grid is the slow one-guess count."""
    rng = np.random.default_rng(3)
    ranked = rng.random((5, 37)) < 0.5
    grid = [*guess_grid(37), (37, 0), (0, 37), (1, 36), (36, 1)]
    fast = _correct_counts(ranked, grid)
    slow = [[_correct(row, k_plus=p, k_minus=n) for p, n in grid] for row in ranked]
    np.testing.assert_array_equal(fast, slow)
