"""Canaries: planted among the candidates, following the keep matrix, kept out of the test
part, measured apart from the population, and refused when they cannot be used."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audit.data import (
    load_digits_dataset,
    make_keep_matrix,
    plant_canaries,
    split_pool,
)
from audit.errors import AuditInputError
from audit.run import main as run_main


@pytest.fixture(scope="module")
def digits_split():
    return split_pool(load_digits_dataset(), pool_size=200, test_size=100, seed=0)


@pytest.mark.parametrize("kind", ["mislabelled", "ood"])
def test_canaries_are_candidates_whose_data_the_keep_matrix_hands_to_the_models(digits_split, kind):
    planted = plant_canaries(digits_split, count=20, kind=kind, num_classes=10, seed=0)
    canaries = planted.canary_mask
    assert canaries.sum() == 20 and np.array_equal(planted.pool_indices, digits_split.pool_indices)
    changed = (planted.pool_y != digits_split.pool_y) | (planted.pool_x != digits_split.pool_x).any(axis=(1, 2, 3))
    if kind == "mislabelled":
        assert np.array_equal(changed, canaries)  # every canary, and nothing else, got another class
    else:
        assert not changed[~canaries].any() and changed[canaries].all()
    keep = make_keep_matrix(num_models=8, num_examples=200, seed=0)
    for row in keep:  # model m trains on pool_x[keep[m]]: the canaries IN for it, as planted
        trained_on = np.flatnonzero(row)
        assert np.array_equal(np.flatnonzero(row & canaries), trained_on[canaries[trained_on]])
        assert np.array_equal(planted.pool_y[row & canaries], planted.pool_y[canaries][row[canaries]])


def test_the_test_part_holds_no_canary_and_is_untouched(digits_split):
    planted = plant_canaries(digits_split, count=30, kind="mislabelled", num_classes=10, seed=1)
    assert not np.intersect1d(planted.pool_indices[planted.canary_mask], planted.test_indices).size
    assert np.array_equal(planted.test_y, digits_split.test_y) and np.array_equal(planted.test_x, digits_split.test_x)


def test_canaries_change_the_split_identity_so_the_cache_never_mixes_them_up(digits_split):
    a = plant_canaries(digits_split, count=20, kind="mislabelled", num_classes=10, seed=0)
    b = plant_canaries(digits_split, count=20, kind="ood", num_classes=10, seed=0)
    assert len({str(s.identity()) for s in (digits_split, a, b)}) == 3


@pytest.mark.parametrize(
    "count, kind, words",
    [
        (500, "mislabelled", "500 canaries exceed the pool's 200 candidates"),
        (500, "mislabelled", "use at most 180 canaries or a larger --pool-size"),
        (190, "mislabelled", "at least 20 must stay"),
        (-1, "mislabelled", "canaries must be >= 0"),
        (5, "poisoned", "unknown canary kind 'poisoned'; choose one of: mislabelled, ood"),
    ],
)
def test_unusable_canaries_are_refused(digits_split, count, kind, words):
    with pytest.raises(AuditInputError, match=words):
        plant_canaries(digits_split, count=count, kind=kind, num_classes=10, seed=0)


@pytest.mark.parametrize(
    "args, words",
    [
        (["--canaries", "2000"], "2000 canaries exceed the pool"),
        (["--canaries", "-3"], "canaries must be >= 0"),
        (["--pool-size", "40", "--canaries", "30"], "at least 20 must stay"),
        (["--canary-kind", "poisoned"], "invalid choice: 'poisoned'"),
    ],
)
def test_bad_canary_options_are_one_line_and_exit_2_before_training(tmp_path, capsys, args, words):
    try:
        code = run_main([*args, "--output-dir", str(tmp_path / "out")])
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())


@pytest.mark.slow
def test_on_a_model_that_memorises_mislabelled_canaries_leak_far_more_than_the_population(tmp_path, capsys):
    """Would fail if the canary figures were computed on the population (ratio about 1)."""
    args = [
        "--pool-size", "300", "--canaries", "20", "--models-per-regime", "6", "--epochs", "20", "--snapshots", "0",
        "--regimes", "standard", "--attacks", "loss", "lira-online", "--output-dir", str(tmp_path), "--quiet",
    ]
    assert run_main(args) == 0
    (regime,) = json.loads((tmp_path / "results.json").read_text())["regimes"]
    worst, lira = regime["worst_case"], regime["attacks"]["lira-online"]
    assert worst["count"] == 20 and worst["kind"] == "mislabelled"
    assert worst["canary_tpr"] >= 2 * worst["population_tpr"] > 0
    assert regime["canary_attacks"]["lira-online"]["auc"] > lira["auc"] + 0.2
    assert lira["n_members"] + lira["n_non_members"] == 6 * 280  # the population excludes the canaries
