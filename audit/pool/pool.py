"""A pool of M models per regime, each trained on the half of the audit pool its keep row
selects, and their outputs (signals) on every candidate.

Every model is cached (:mod:`audit.pool.cache`) as soon as it is trained: a re-run, or a
run resumed after an interruption, retrains nothing that is already on disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from audit.data.queries import query_variants
from audit.data.split import AuditSplit
from audit.events import ModelDone
from audit.pool.cache import (
    CachedModel,
    DamagedEntry,
    cache_key,
    load_entry,
    quarantine,
    save_entry,
)
from audit.training import TrainData, TrainRecipe, predict_logits, train
from models import create_model
from results.files import stable_hash
from results.records import EpochRecord


@dataclass
class TrainedModel:
    """What is kept of one trained model of a pool."""

    index: int
    history: list[EpochRecord]
    epsilon: float | None
    seconds: float
    cached: bool
    directory: Path


@dataclass
class PoolSignals:
    """Outputs of the M models of one regime on the n audit candidates.

    ``logits``: float32 ``[M, n, A, C]`` (A query variants, variant 0 = the example itself).
    ``snapshot_logits``: float32 ``[S, M, n, A, C]`` at ``snapshot_epochs`` (S may be 0).
    ``substitutions``: the layers DP-SGD replaced to train the architecture (the same for
    every model of the pool; empty when none).
    """

    recipe: TrainRecipe
    logits: np.ndarray
    snapshot_epochs: list[int]
    snapshot_logits: np.ndarray
    models: list[TrainedModel]
    substitutions: list[str] = field(default_factory=list)


ProgressCallback = Callable[[TrainedModel, int], None]


def done_event(model: TrainedModel, *, total: int, regime: str, role: str = "model") -> ModelDone:
    """The progress event of ``model``, one of ``total`` in its pool."""
    last = model.history[-1]
    return ModelDone(
        regime=regime,
        index=model.index,
        total=total,
        cached=model.cached,
        seconds=model.seconds,
        train_loss=last.eval_train_loss,
        train_accuracy=last.train_accuracy,
        test_accuracy=last.test_accuracy,
        epsilon=model.epsilon,
        role=role,
    )
# Told about every damaged cache entry that was moved aside (one line each).
WarningCallback = Callable[[str], None]


def train_pool(
    *,
    split: AuditSplit,
    keep: np.ndarray,
    recipe: TrainRecipe,
    num_classes: int,
    is_image: bool,
    data_fingerprint: str,
    architecture: dict,
    seed: int,
    device: torch.device,
    cache_dir: Path,
    query_set: str = "identity",
    snapshot_epochs: tuple[int, ...] = (),
    on_model_done: ProgressCallback | None = None,
    on_warning: WarningCallback | None = None,
) -> PoolSignals:
    """Train (or load from cache) the ``keep.shape[0]`` models of one regime.

    Model ``m`` trains on ``split.pool_x[keep[m]]`` with seed ``seed + m``; the same seed
    and keep row are used in every regime, so regimes are compared on paired models.
    ``architecture`` is the architecture's identity (name, options, parameter shapes, code
    version), part of every model's cache key. ``on_model_done(model, num_models)`` is called
    after each model (for progress output).
    """
    pool_x = torch.from_numpy(split.pool_x).to(device)
    pool_y = torch.from_numpy(split.pool_y).to(device)
    test_x = torch.from_numpy(split.test_x).to(device)
    test_y = torch.from_numpy(split.test_y).to(device)
    queries = query_variants(pool_x, query_set, is_image=is_image)
    snapshot_epochs = tuple(sorted(e for e in set(snapshot_epochs) if 1 <= e <= recipe.epochs))
    common = {
        "data": data_fingerprint,
        "architecture": architecture,
        **split.identity(),
        "recipe": recipe.to_dict(),
        "queries": query_set,
        "snapshots": list(snapshot_epochs),
    }

    models, logits, snapshots, substitutions = [], [], [], []
    for m, keep_row in enumerate(keep):
        material = {**common, "members": _digest_indices(split.pool_indices[keep_row]), "seed": seed + m}
        directory = cache_dir / cache_key(material)
        entry = _load_or_none(directory, material=material, on_warning=on_warning)
        cached = entry is not None
        if entry is None:
            entry = _train_one(
                directory=directory,
                material=material,
                data=TrainData(pool_x[keep_row], pool_y[keep_row], test_x, test_y),
                recipe=recipe,
                queries=queries,
                input_shape=split.pool_x.shape[1:],
                num_classes=num_classes,
                seed=seed + m,
                device=device,
                snapshot_epochs=snapshot_epochs,
            )
        trained = TrainedModel(m, entry.history, entry.epsilon, entry.seconds, cached=cached, directory=directory)
        models.append(trained)
        logits.append(entry.logits)
        snapshots.append(entry.snapshot_logits)
        substitutions = entry.substitutions
        if on_model_done is not None:
            on_model_done(trained, len(keep))
    return PoolSignals(
        recipe=recipe,
        logits=np.stack(logits),
        snapshot_epochs=list(snapshot_epochs),
        snapshot_logits=np.stack(snapshots, axis=1),
        models=models,
        substitutions=substitutions,
    )


def _load_or_none(directory: Path, *, material: dict, on_warning: WarningCallback | None) -> CachedModel | None:
    """The cached entry, or None (absent, or damaged and moved aside with a warning)."""
    try:
        return load_entry(directory, material=material)
    except DamagedEntry as damage:
        moved = quarantine(directory)
        if on_warning is not None:
            on_warning(f"cache entry {directory} is damaged ({damage}); moved it to {moved} and retraining that model")
        return None


def _digest_indices(indices: np.ndarray) -> str:
    """A digest of data-set indices, so the cache key does not hold n numbers."""
    return stable_hash(np.asarray(indices).tolist())


def _query_logits(model: torch.nn.Module, queries: list[torch.Tensor]) -> np.ndarray:
    """Logits of every query variant, ``[n, A, C]`` float32."""
    return torch.stack([predict_logits(model, q) for q in queries], dim=1).float().cpu().numpy()


def _train_one(
    *, directory, material, data, recipe, queries, input_shape, num_classes, seed, device, snapshot_epochs
) -> CachedModel:
    torch.manual_seed(seed)
    model = create_model(
        recipe.architecture, input_shape=tuple(input_shape), num_classes=num_classes, options=recipe.architecture_options
    ).to(device)
    snapshots: list[np.ndarray] = []

    def record_snapshot(epoch: int, current: torch.nn.Module) -> None:
        if epoch in snapshot_epochs:
            snapshots.append(_query_logits(current, queries))

    outcome = train(model, data, recipe, seed=seed, on_epoch_end=record_snapshot)
    logits = _query_logits(outcome.model, queries)
    entry = CachedModel(
        history=outcome.history,
        epsilon=outcome.epsilon,
        seconds=outcome.seconds,
        logits=logits,
        snapshot_logits=np.stack(snapshots) if snapshots else np.zeros((0, *logits.shape), np.float32),
        substitutions=outcome.substitutions,
    )
    save_entry(directory, outcome.model, material=material, entry=entry)
    return entry
