"""The keep matrix is balanced both ways, reproducible from its seed, and otherwise random."""

from __future__ import annotations

import numpy as np
import pytest

from audit.data import make_keep_matrix


@pytest.mark.parametrize(
    ("num_models", "num_examples"), [(2, 7), (3, 10), (4, 50), (8, 1000), (9, 501), (16, 2000), (256, 50_000)]
)
def test_every_example_in_half_the_models_and_every_model_the_same_members(num_models, num_examples):
    keep = make_keep_matrix(num_models=num_models, num_examples=num_examples, seed=5)
    assert keep.shape == (num_models, num_examples) and keep.dtype == bool
    assert (keep.sum(axis=0) == num_models // 2).all()
    total = num_examples * (num_models // 2)
    members = keep.sum(axis=1)
    assert set(members) <= {total // num_models, -(-total // num_models)}
    assert (members > total // num_models).sum() == total % num_models


def test_same_seed_same_matrix_other_seed_other_matrix():
    first = make_keep_matrix(num_models=8, num_examples=1000, seed=1)
    np.testing.assert_array_equal(first, make_keep_matrix(num_models=8, num_examples=1000, seed=1))
    other = make_keep_matrix(num_models=8, num_examples=1000, seed=2)
    # Independent matrices agree on about half the entries, not on nearly all.
    assert 0.4 < (first == other).mean() < 0.6


def test_which_models_get_the_extra_member_is_drawn():
    extra = [make_keep_matrix(num_models=8, num_examples=1001, seed=seed).sum(axis=1) > 500 for seed in range(20)]
    assert all(e.sum() == 4 for e in extra)
    assert len({e.tobytes() for e in extra}) > 10


def test_rows_overlap_like_random_sets():
    """Two models share members as independent random halves would: on average
    n (h / M) ((h - 1) / (M - 1)) with h = M // 2 (about n / 4), give or take sqrt(n) / 4.
    Swaps that favoured some pairs of rows would widen the spread or shift pairs apart."""
    num_models, num_examples = 16, 4000
    keep = make_keep_matrix(num_models=num_models, num_examples=num_examples, seed=3)
    overlap = (keep[:, None, :] & keep[None, :, :]).sum(axis=-1)[np.triu_indices(num_models, k=1)]
    half = num_models // 2
    expected = num_examples * half / num_models * (half - 1) / (num_models - 1)
    spread = np.sqrt(num_examples) / 4
    assert abs(overlap.mean() - expected) < 0.01 * expected
    assert 0.7 * spread < overlap.std() < 1.3 * spread
    assert np.abs(overlap - expected).max() < 5 * spread


def test_no_block_of_examples_favours_a_model():
    """The repair swaps examples drawn at random: a model's members spread evenly over the
    examples (counts per block of 200 within 5 standard deviations of 100), so membership
    carries no trace of an example's position."""
    keep = make_keep_matrix(num_models=16, num_examples=4000, seed=4)
    per_block = keep.reshape(16, 20, 200).sum(axis=-1)
    assert np.abs(per_block - 100).max() < 5 * np.sqrt(200 * 0.25)
