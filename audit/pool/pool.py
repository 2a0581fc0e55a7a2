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
from audit.pool.trainers import GROUP_SIZE, PoolData, choose_trainer, train_models
from audit.training import TrainRecipe
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
    trainer: str = "auto",
    on_model_done: ProgressCallback | None = None,
    on_warning: WarningCallback | None = None,
) -> PoolSignals:
    """Train (or load from cache) the ``keep.shape[0]`` models of one regime.

    Model ``m`` trains on ``split.pool_x[keep[m]]`` with seed ``seed + m``; the same seed
    and keep row are used in every regime, so regimes are compared on paired models.
    ``architecture`` is the architecture's identity (name, options, parameter shapes, code
    version), part of every model's cache key. Models already in the cache are loaded; the
    others train in groups of up to :data:`~audit.pool.trainers.GROUP_SIZE`, together or
    one at a time (``trainer``: :mod:`audit.pool.trainers`), each cached as soon as its group
    is done. ``on_model_done(model, num_models)`` is called as each model is ready.
    """
    pool_x = torch.from_numpy(split.pool_x).to(device)
    data = PoolData(
        x=pool_x,
        y=torch.from_numpy(split.pool_y).to(device),
        x_test=torch.from_numpy(split.test_x).to(device),
        y_test=torch.from_numpy(split.test_y).to(device),
        queries=query_variants(pool_x, query_set, is_image=is_image),
    )
    snapshot_epochs = tuple(sorted(e for e in set(snapshot_epochs) if 1 <= e <= recipe.epochs))
    engine = choose_trainer(trainer, recipe=recipe, data=data, num_classes=num_classes)
    common = {
        "data": data_fingerprint,
        "architecture": architecture,
        **split.identity(),
        "recipe": recipe.to_dict(),
        "queries": query_set,
        "snapshots": list(snapshot_epochs),
        "trainer": engine,
    }
    materials = [
        {**common, "members": _digest_indices(split.pool_indices[row]), "seed": seed + m} for m, row in enumerate(keep)
    ]
    directories = [cache_dir / cache_key(material) for material in materials]
    entries: dict[int, tuple[CachedModel, bool]] = {}

    def ready(m: int, entry: CachedModel, cached: bool) -> None:
        entries[m] = (entry, cached)
        if on_model_done is not None:
            on_model_done(_trained(m, entry, cached=cached, directory=directories[m]), len(keep))

    for m, (directory, material) in enumerate(zip(directories, materials)):
        entry = _load_or_none(directory, material=material, on_warning=on_warning)
        if entry is not None:
            ready(m, entry, cached=True)
    missing = [m for m in range(len(keep)) if m not in entries]
    for start in range(0, len(missing), GROUP_SIZE):
        group = missing[start : start + GROUP_SIZE]
        trained = train_models(
            engine,
            recipe=recipe,
            keep=keep[group],
            seeds=[seed + m for m in group],
            data=data,
            num_classes=num_classes,
            snapshot_epochs=snapshot_epochs,
        )
        for m, (model, entry) in zip(group, trained):
            save_entry(directories[m], model, material=materials[m], entry=entry)
            ready(m, entry, cached=False)
    ordered = [entries[m] for m in range(len(keep))]
    return PoolSignals(
        recipe=recipe,
        logits=np.stack([entry.logits for entry, _ in ordered]),
        snapshot_epochs=list(snapshot_epochs),
        snapshot_logits=np.stack([entry.snapshot_logits for entry, _ in ordered], axis=1),
        models=[_trained(m, entry, cached=cached, directory=directories[m]) for m, (entry, cached) in enumerate(ordered)],
        substitutions=ordered[0][0].substitutions,
    )


def _trained(index: int, entry: CachedModel, *, cached: bool, directory: Path) -> TrainedModel:
    return TrainedModel(index, entry.history, entry.epsilon, entry.seconds, cached=cached, directory=directory)


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
