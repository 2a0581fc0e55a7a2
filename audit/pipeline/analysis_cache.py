"""A regime's analysis (every attack's leave-one-out scores, the pooled metrics with their
bootstrap intervals, the one-run epsilon bound), kept beside the trained models so that an
audit re-run on cached models does not compute it again.

The analysis is a deterministic function of its inputs, so it is keyed by a digest of all of
them, by value (:func:`analysis_key`): the pool's and the audit model's logits, snapshot
logits and training histories, the keep matrix and audit coins, which examples the
candidates and test examples are (the split's identity and the data fingerprint), the
regime, attacks, seed and delta; and of the code that computes it (every module of
``attacks``, ``audit.analysis`` and ``results``, and this one) with the versions of numpy,
scipy and scikit-learn. Any change to any of them is another key, so an entry is never
used for other inputs; an entry that cannot be read is computed again.

A hit gives back what the computation returns, bit for bit: the record goes through JSON
that keeps NaN and infinities (``results.serialization`` with ``strict=False``), the scores
through ``.npz``. What describes this run rather than the analysis (whether each model was
trained now or loaded, its training time: :func:`audit.analysis.summary.model_summaries`)
is rebuilt by the caller on every run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

import attacks
import audit.analysis
import results
from audit.data import ArrayDataset, AuditSplit
from audit.pool import PoolSignals
from audit.training import Regime
from results.files import digest_sources, write_npz, write_text
from results.records import RegimeResult
from results.serialization import from_json_dict, to_json_dict

ANALYSIS_FORMAT = 1
LIBRARIES = ("numpy", "scipy", "scikit-learn")


@functools.cache
def analysis_code_version() -> str:
    """A digest of the source of every module the analysis runs (``attacks``,
    ``audit.analysis``, ``results``, this module) and of the numeric libraries' versions."""
    digest = hashlib.sha256(str(ANALYSIS_FORMAT).encode())
    digest_sources(digest, (attacks, audit.analysis, results))
    digest.update(Path(__file__).read_bytes())
    for library in LIBRARIES:
        digest.update(f"{library}=={importlib.metadata.version(library)}".encode())
    return digest.hexdigest()[:16]


def analysis_key(
    *,
    regime: Regime,
    pool: PoolSignals,
    audit_model: PoolSignals,
    keep: np.ndarray,
    coins: np.ndarray,
    split: AuditSplit,
    dataset: ArrayDataset,
    attack_names: list[str],
    main_attack: str,
    seed: int,
    delta: float,
) -> str:
    """The digest of every input of a regime's analysis (module docstring)."""
    digest = hashlib.sha256()
    settings = {
        "code": analysis_code_version(),
        "regime": [regime.spec, regime.label, to_json_dict(regime.params())],
        "attacks": list(attack_names),
        "main_attack": main_attack,
        "seed": int(seed),
        "delta": float(delta),
        "data": [dataset.fingerprint, dataset.name, list(dataset.class_names), bool(dataset.is_image)],
        "split": [split.identity(), split.canary_kind],
        "snapshot_epochs": [list(pool.snapshot_epochs), list(audit_model.snapshot_epochs)],
        # What the analysis reads of each model besides its logits; not whether this run
        # trained or loaded it, nor how long it took (rebuilt on every run).
        "models": [
            [m.index, m.epsilon, to_json_dict(m.history, strict=False)] for m in [*pool.models, *audit_model.models]
        ],
    }
    digest.update(json.dumps(settings, sort_keys=True, allow_nan=True, default=str).encode())
    for array in (
        pool.logits,
        pool.snapshot_logits,
        audit_model.logits,
        keep,
        coins,
        split.pool_y,
        split.test_y,
        split.canary_mask,
    ):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:24]


def cached_analysis(
    cache_dir: Path,
    key: str,
    compute: Callable[[], tuple[RegimeResult, dict[str, np.ndarray]]],
) -> tuple[RegimeResult, dict[str, np.ndarray], bool]:
    """The analysis stored under ``key`` in ``cache_dir/analysis``, or ``compute()``'s,
    stored there; with True when it was read from the cache."""
    stored = load_analysis(cache_dir, key)
    if stored is not None:
        return *stored, True
    result, scores = compute()
    save_analysis(cache_dir, key, result, scores)
    return result, scores, False


def load_analysis(cache_dir: Path, key: str) -> tuple[RegimeResult, dict[str, np.ndarray]] | None:
    """The entry ``key``, None when there is none or it cannot be read as one."""
    record_path, scores_path = _paths(cache_dir, key)
    if not record_path.exists() or not scores_path.exists():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("format") != ANALYSIS_FORMAT or record.get("key") != key:
            return None
        with np.load(scores_path, allow_pickle=False) as stored:
            scores = {name: stored[name] for name in record["attacks"]}
        return from_json_dict(RegimeResult, record["result"]), scores
    except (OSError, ValueError, KeyError, TypeError, AttributeError, EOFError, zipfile.BadZipFile):
        return None  # damaged or from another version: computed again and overwritten


def save_analysis(cache_dir: Path, key: str, result: RegimeResult, scores: dict[str, np.ndarray]) -> None:
    """Store an analysis; the record is written last, so a complete record means a complete entry."""
    record_path, scores_path = _paths(cache_dir, key)
    write_npz(scores_path, **scores)
    record = {"format": ANALYSIS_FORMAT, "key": key, "attacks": list(scores), "result": to_json_dict(result, strict=False)}
    write_text(record_path, json.dumps(record, allow_nan=True) + "\n")


def _paths(cache_dir: Path, key: str) -> tuple[Path, Path]:
    folder = Path(cache_dir) / "analysis"
    return folder / f"{key}.json", folder / f"{key}.npz"
