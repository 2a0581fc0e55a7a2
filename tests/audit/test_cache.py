"""The model cache: an entry is used only if it is the one its key names and its files are
the ones written; anything else is moved aside, never trusted, never fatal."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from audit.pool.cache import (
    CachedModel,
    DamagedEntry,
    cache_key,
    load_entry,
    quarantine,
    save_entry,
)
from models import create_model
from results.records import EpochRecord

MATERIAL = {"data": "abc", "members": "m1", "seed": 3}


def _entry(value: float = 1.0) -> CachedModel:
    return CachedModel(
        history=[EpochRecord(epoch=1, train_loss=0.5, eval_train_loss=0.4, train_accuracy=0.9, test_accuracy=0.8)],
        epsilon=None,
        seconds=1.5,
        logits=np.full((4, 1, 3), value, np.float32),
        snapshot_logits=np.zeros((0, 4, 1, 3), np.float32),
    )


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    directory = tmp_path / cache_key(MATERIAL)
    save_entry(directory, create_model("mlp", input_shape=(2,), num_classes=3), material=MATERIAL, entry=_entry())
    return directory


def test_a_saved_entry_loads_back(saved):
    entry = load_entry(saved, material=MATERIAL)
    assert entry.history == _entry().history and entry.seconds == 1.5 and entry.epsilon is None
    assert np.array_equal(entry.logits, _entry().logits)


def test_an_absent_entry_is_none(tmp_path):
    assert load_entry(tmp_path / "nothing", material=MATERIAL) is None


def test_the_key_changes_with_every_part_of_the_material():
    keys = {cache_key({**MATERIAL, part: "other"}) for part in MATERIAL}
    assert len(keys) == len(MATERIAL) and cache_key(MATERIAL) not in keys


def test_an_entry_written_for_other_material_is_refused(saved):
    with pytest.raises(DamagedEntry, match="written for another model"):
        load_entry(saved, material={**MATERIAL, "seed": 4})


def test_a_valid_file_with_other_contents_fails_its_checksum(saved, tmp_path):
    other = tmp_path / "other"
    save_entry(other, create_model("mlp", input_shape=(2,), num_classes=3), material=MATERIAL, entry=_entry(2.0))
    (saved / "signals.npz").write_bytes((other / "signals.npz").read_bytes())
    with pytest.raises(DamagedEntry, match="signals.npz is missing or does not match its checksum"):
        load_entry(saved, material=MATERIAL)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda d: (d / "record.json").write_text(""), "record.json is unreadable"),
        (lambda d: (d / "record.json").write_text("[1]"), "not a cache record"),
        (lambda d: (d / "signals.npz").write_bytes((d / "signals.npz").read_bytes()[:50]), "signals.npz"),
        (lambda d: (d / "weights.npz").unlink(), "weights.npz"),
    ],
)
def test_damaged_entries_say_why(saved, damage, reason):
    damage(saved)
    with pytest.raises(DamagedEntry, match=reason):
        load_entry(saved, material=MATERIAL)


def test_quarantine_moves_the_entry_aside(saved):
    moved = quarantine(saved)
    assert not saved.exists() and moved.parent.name == ".damaged" and (moved / "record.json").exists()
    assert json.loads((moved / "record.json").read_text())["material"] == MATERIAL
