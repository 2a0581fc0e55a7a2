"""Atomic writes: a reader sees the old file or the new one, never half of one, and no
temporary file is left behind, whether the write succeeds or fails."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest

from results.files import atomic_path, stable_hash, write_json, write_npz, write_text


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "results.json"
    write_json(path, {"auc": 0.6})
    with pytest.raises(ValueError):
        write_json(path, {"auc": float("nan")})  # strict JSON refuses NaN half-way through
    assert json.loads(path.read_text()) == {"auc": 0.6}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_an_interrupted_write_keeps_the_old_content(tmp_path):
    path = tmp_path / "report.html"
    write_text(path, "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(path) as temporary:
        temporary.write_text("new, half")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_the_file_gets_ordinary_permissions_not_private_ones(tmp_path):
    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "report.html", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "report.html").stat().st_mode) == 0o644


def test_npz_round_trip_without_pickle(tmp_path):
    write_npz(tmp_path / "a.npz", keep=np.array([[True, False]]), scores=np.arange(3.0))
    with np.load(tmp_path / "a.npz", allow_pickle=False) as arrays:
        assert arrays["keep"].tolist() == [[True, False]] and arrays["scores"].tolist() == [0.0, 1.0, 2.0]


def test_missing_folders_are_created(tmp_path):
    write_text(tmp_path / "a" / "b" / "c.txt", "x")
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "x"


def test_stable_hash_ignores_key_order_and_sees_values():
    assert stable_hash({"a": 1, "b": [1, 2]}) == stable_hash({"b": [1, 2], "a": 1})
    assert stable_hash({"a": 1}) != stable_hash({"a": 2})
