"""The model cache: one folder per trained model, named by a hash of everything that
determines the model's outputs, and checked before it is trusted.

An entry ``CACHE/KEY/`` holds ``weights.npz``, ``signals.npz`` (the model's logits on every
candidate, and at the snapshot epochs) and ``record.json``, written last: its presence marks
the entry complete. The record repeats the key's full material and the SHA-256 of both array
files, so an entry is used only if it is the one its key names and its files are the ones
that were written. A damaged entry (truncated, unreadable, edited, or another model's) is
moved aside to ``CACHE/.damaged/`` and the model is trained again; nothing else is lost.

The key covers the candidates' identity (their indices in the data set and the data set's
fingerprint), the test split, the input normalisation, the recipe, the keep row, the seed,
the query set, the snapshot epochs and the source code of the training path, so a change
to any of them can never reuse a model trained under another.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import audit.training
import models
from results.files import digest_sources, stable_hash, write_json, write_npz
from results.records import EpochRecord
from results.serialization import from_json_dict, to_json_dict

CACHE_FORMAT = 2


@dataclass
class CachedModel:
    """What the cache keeps of one trained model besides its weights.

    ``logits``: float32 ``[n, A, C]``; ``snapshot_logits``: float32 ``[S, n, A, C]``;
    ``substitutions``: layers DP-SGD replaced to train the architecture (empty if none).
    """

    history: list[EpochRecord]
    epsilon: float | None
    seconds: float
    logits: np.ndarray
    snapshot_logits: np.ndarray
    substitutions: list[str] = field(default_factory=list)


class DamagedEntry(Exception):
    """A cache entry that exists but cannot be trusted (the message says why)."""


def cache_key(material: dict) -> str:
    """The folder name of the entry for key ``material`` (JSON-serialisable)."""
    return stable_hash({"format": CACHE_FORMAT, "code": training_code_version(), **material})


@functools.cache
def training_code_version() -> str:
    """A digest of the source of every module on the training path (``audit.training``,
    ``models``): a change to how models are built or trained invalidates the cache."""
    digest = hashlib.sha256()
    digest_sources(digest, (audit.training, models))
    return digest.hexdigest()[:16]


def load_entry(directory: Path, *, material: dict) -> CachedModel | None:
    """The entry in ``directory``, None if there is none; raises :class:`DamagedEntry` if it
    is incomplete, unreadable, altered, or was written for other key material."""
    record_path = directory / "record.json"
    if not record_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DamagedEntry(f"record.json is unreadable ({type(error).__name__})") from None
    if not isinstance(record, dict) or record.get("format") != CACHE_FORMAT:
        raise DamagedEntry("record.json is not a cache record of this version")
    if record.get("material") != json.loads(json.dumps(material)):
        raise DamagedEntry("it was written for another model (its key material differs)")
    checksums = record.get("sha256", {})
    for name in ("weights.npz", "signals.npz"):
        path = directory / name
        if not path.is_file() or _sha256(path) != checksums.get(name):
            raise DamagedEntry(f"{name} is missing or does not match its checksum")
    try:
        with np.load(directory / "signals.npz", allow_pickle=False) as arrays:
            logits, snapshot_logits = arrays["logits"], arrays["snapshot_logits"]
        history = [from_json_dict(EpochRecord, e) for e in record["history"]]
        return CachedModel(
            history, record["epsilon"], record["seconds"], logits, snapshot_logits, list(record["substitutions"])
        )
    except (OSError, KeyError, TypeError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DamagedEntry(f"its contents cannot be read ({type(error).__name__})") from None


def save_entry(directory: Path, model, *, material: dict, entry: CachedModel) -> None:
    """Write an entry: weights and signals first, then ``record.json`` with their checksums."""
    models.save_weights(model, directory / "weights.npz")
    write_npz(directory / "signals.npz", logits=entry.logits, snapshot_logits=entry.snapshot_logits)
    write_json(
        directory / "record.json",
        {
            "format": CACHE_FORMAT,
            "material": material,
            "sha256": {name: _sha256(directory / name) for name in ("weights.npz", "signals.npz")},
            "epsilon": entry.epsilon,
            "seconds": entry.seconds,
            "history": [to_json_dict(e) for e in entry.history],
            "substitutions": entry.substitutions,
        },
    )


def quarantine(directory: Path) -> Path:
    """Move a damaged entry to ``CACHE/.damaged/`` (kept for inspection); returns where."""
    target = directory.parent / ".damaged" / f"{directory.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    target.parent.mkdir(parents=True, exist_ok=True)
    directory.rename(target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
