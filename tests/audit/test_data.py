import numpy as np
import pytest

from audit.data import load_digits_dataset, make_keep_matrix, split_pool
from audit.errors import AuditInputError


@pytest.mark.parametrize("num_models", [2, 4, 8, 16])
def test_keep_matrix_puts_every_example_in_exactly_half_the_models(num_models):
    keep = make_keep_matrix(num_models=num_models, num_examples=500, seed=3)
    assert keep.shape == (num_models, 500) and keep.dtype == bool
    assert (keep.sum(axis=0) == num_models // 2).all()
    # Each model trains on about half of the pool, and the rows differ.
    assert np.allclose(keep.mean(axis=1), 0.5, atol=0.1)
    assert len({row.tobytes() for row in keep}) == num_models


def test_keep_matrix_is_reproducible_from_its_seed():
    a = make_keep_matrix(num_models=4, num_examples=50, seed=1)
    assert (a == make_keep_matrix(num_models=4, num_examples=50, seed=1)).all()
    assert (a != make_keep_matrix(num_models=4, num_examples=50, seed=2)).any()


def test_keep_matrix_needs_two_models():
    with pytest.raises(AuditInputError, match="at least 2 models"):
        make_keep_matrix(num_models=1, num_examples=10, seed=0)


def test_digits_split_is_deterministic_disjoint_and_normalised_on_the_pool():
    digits = load_digits_dataset()
    assert digits.x.shape == (1797, 1, 8, 8) and digits.num_classes == 10
    split = split_pool(digits, pool_size=1000, seed=0)
    again = split_pool(digits, pool_size=1000, seed=0)
    assert (split.pool_indices == again.pool_indices).all()
    assert len(split.pool_y) == 1000 and len(split.test_y) == 797
    assert abs(split.pool_x.mean()) < 1e-4 and abs(split.pool_x.std() - 1) < 1e-3
    test_indices = np.setdiff1d(np.arange(1797), split.pool_indices)
    assert len(np.intersect1d(split.pool_indices, test_indices)) == 0


def test_fingerprint_changes_with_the_data():
    digits = load_digits_dataset()
    same = type(digits)(name="digits", x=digits.x.copy(), y=digits.y.copy(), num_classes=10, is_image=True)
    assert same.fingerprint == digits.fingerprint
    x = digits.x.copy()
    x[0, 0, 0, 0] += 1
    changed = type(digits)(name="digits", x=x, y=digits.y.copy(), num_classes=10, is_image=True)
    assert changed.fingerprint != digits.fingerprint
