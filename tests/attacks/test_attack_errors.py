"""Bad names, options and inputs raise AttackInputError with a message that names them."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from attacks import (
    AttackInputError,
    available_attacks,
    create_attack,
    leave_one_out_scores,
)


def test_attack_input_error_is_a_value_error():
    assert issubclass(AttackInputError, ValueError)


def test_unknown_attack_lists_the_valid_names():
    with pytest.raises(AttackInputError) as raised:
        create_attack("lira")
    message = str(raised.value)
    assert "'lira'" in message and "\n" not in message
    for name in available_attacks():
        assert name in message


def test_unknown_option_lists_the_options():
    with pytest.raises(AttackInputError, match=r"no option\(s\) per_klass; its options: per_class"):
        create_attack("loss", per_klass=True)


@pytest.mark.parametrize(
    ("name", "options", "named"),
    [
        ("shadow", {"classifier": "svm"}, "'svm'"),
        ("shadow", {"features": "top5"}, "'top5'"),
        ("shadow", {"max_rows": 0}, "0"),
        ("rmia", {"a": 1.5}, "1.5"),
        ("rmia", {"gamma": -1}, "-1"),
        ("rmia", {"population": "half"}, "'half'"),
        ("lira-online", {"global_variance": "yes"}, "'yes'"),
        ("loss", {"per_class": "yes"}, "'yes'"),
    ],
)
def test_bad_option_values_are_named(name, options, named):
    with pytest.raises(AttackInputError, match=named):
        create_attack(name, **options)


def test_class_variant_refuses_to_unfix_its_option():
    with pytest.raises(AttackInputError, match="use 'loss' instead"):
        create_attack("loss-class", per_class=False)
    assert create_attack("loss-class", per_class=True).per_class


def test_score_before_fit():
    with pytest.raises(NotFittedError):
        create_attack("loss").score(np.zeros((3, 1, 2), np.float32), np.zeros(3, np.int64))


def test_shapes_are_checked(separable_pool):
    pool = separable_pool
    with pytest.raises(AttackInputError, match=r"\[models, n, queries, classes\]"):
        leave_one_out_scores("loss", logits=pool.logits[:, :, 0], keep=pool.keep, labels=pool.labels)
    with pytest.raises(AttackInputError, match="keep must be bool"):
        leave_one_out_scores("loss", logits=pool.logits, keep=pool.keep[:, :-1], labels=pool.labels)
    with pytest.raises(AttackInputError, match=r"labels must lie in \[0, 10\)"):
        leave_one_out_scores("loss", logits=pool.logits, keep=pool.keep, labels=pool.labels + 10)
    with pytest.raises(AttackInputError, match="targets \\[8\\] are not model indices"):
        leave_one_out_scores("loss", logits=pool.logits, keep=pool.keep, labels=pool.labels, targets=[0, 8])
    attack = create_attack("loss").fit(pool.logits[1:], pool.keep[1:], pool.labels)
    with pytest.raises(AttackInputError, match="fitted on candidates of shape"):
        attack.score(pool.logits[0, :10], pool.labels[:10])


def test_non_finite_logits_are_refused(separable_pool):
    logits = separable_pool.logits.copy()
    logits[0, 0, 0, 0] = np.nan
    with pytest.raises(AttackInputError, match="1 non-finite values"):
        leave_one_out_scores("loss", logits=logits, keep=separable_pool.keep, labels=separable_pool.labels)


@pytest.mark.parametrize("name", ["loss", "confidence-class", "shadow"])
def test_too_small_a_pool_for_the_balanced_calibration_names_the_fix(name, pool_factory):
    """With 3 models every candidate is IN for one: leaving out the target and its partner
    leaves no member to calibrate on, for every target."""
    pool = pool_factory(separable=True, n_models=3, n=40, seed=17)
    with pytest.raises(AttackInputError, match="train at least 4 models"):
        leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels)
    pool = pool_factory(separable=True, n_models=4, n=40, seed=17)
    assert np.isfinite(leave_one_out_scores(name, logits=pool.logits, keep=pool.keep, labels=pool.labels)).all()
