"""A pool of M models per regime, each trained on the half of the audit pool its keep row
selects, and their outputs (signals) on every candidate.

Every model is cached (:mod:`audit.pool.cache`) as soon as it is trained: a re-run, or a
run resumed after an interruption, retrains nothing that is already on disk. The models
that are not cached train where an executor (:mod:`audit.pool.executors`) trains them: in
this process, or as Ray tasks on a cluster; this process writes every cache entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

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
from audit.pool.executors import Executor, LocalExecutor, PoolArrays, PoolJob, pool_data
from audit.pool.trainers import PoolData, choose_trainer
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

    def take(self, rows: slice) -> PoolSignals:
        """The models ``rows`` of the pool (e.g. a pool trained together with its audit model)."""
        return dataclasses.replace(
            self, logits=self.logits[rows], snapshot_logits=self.snapshot_logits[:, rows], models=self.models[rows]
        )


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
    executor: Executor | None = None,
) -> PoolSignals:
    """Train (or load from cache) the ``keep.shape[0]`` models of one regime.

    Model ``m`` trains on ``split.pool_x[keep[m]]`` with seed ``seed + m``; the same seed
    and keep row are used in every regime, so regimes are compared on paired models.
    ``architecture`` is the architecture's identity (name, options, parameter shapes, code
    version), part of every model's cache key. Models already in the cache are loaded here;
    only the others go to ``executor`` (default: a :class:`~audit.pool.executors.LocalExecutor`
    training on ``device`` in groups of up to :data:`~audit.pool.trainers.GROUP_SIZE`; a
    :class:`~audit.pool.executors.RayExecutor` trains each group as a Ray task, on the device
    Ray gives the task), together or one at a time (``trainer``: :mod:`audit.pool.trainers`).
    This process writes each model's cache entry as soon as its group is done, and calls
    ``on_model_done(model, num_models)`` as each model is ready, in the order groups finish.
    """
    arrays = PoolArrays.of(split)
    snapshot_epochs = tuple(sorted(e for e in set(snapshot_epochs) if 1 <= e <= recipe.epochs))
    common = {
        "data": data_fingerprint,
        "architecture": architecture,
        **split.identity(),
        "recipe": recipe.to_dict(),
        "queries": query_set,
        "snapshots": list(snapshot_epochs),
        # The trainer asked for, not the one "auto" resolves to: the resolution depends only on
        # the architecture and the recipe, both in the key, and resolving it builds a model
        # (under DP-SGD, through Opacus), which a run whose models are all cached never needs.
        "trainer": trainer,
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
    if missing:
        probe = _probe(arrays, query_set=query_set, is_image=is_image)
        engine = choose_trainer(trainer, recipe=recipe, data=probe, num_classes=num_classes)
        job = PoolJob(
            recipe=recipe,
            trainer=engine,
            keep=keep,
            seeds=tuple(seed + m for m in range(len(keep))),
            num_classes=num_classes,
            is_image=is_image,
            query_set=query_set,
            snapshot_epochs=snapshot_epochs,
        )
        # closing(): an error here (a full disk) also stops the executor's queued work.
        with closing((executor or LocalExecutor()).train(arrays, job, indices=missing, device=device)) as groups:
            for group in groups:
                for trained in group:
                    m = trained.index
                    save_entry(directories[m], _Weights(trained.weights), material=materials[m], entry=trained.entry)
                    ready(m, trained.entry, cached=False)
    ordered = [entries[m] for m in range(len(keep))]
    return PoolSignals(
        recipe=recipe,
        logits=np.stack([entry.logits for entry, _ in ordered]),
        snapshot_epochs=list(snapshot_epochs),
        snapshot_logits=np.stack([entry.snapshot_logits for entry, _ in ordered], axis=1),
        models=[_trained(m, entry, cached=cached, directory=directories[m]) for m, (entry, cached) in enumerate(ordered)],
        substitutions=ordered[0][0].substitutions,
    )


def _probe(arrays: PoolArrays, *, query_set: str, is_image: bool) -> PoolData:
    """The first two candidates as a pool on the CPU: enough for the trainer choice, which
    depends only on the architecture (after any DP-SGD substitutions), not on where or how
    much data the models will train on."""
    head = PoolArrays(arrays.x[:2], arrays.y[:2], arrays.x_test[:2], arrays.y_test[:2])
    return pool_data(head, query_set=query_set, is_image=is_image, device="cpu")


class _Weights(nn.Module):
    """Trained weights that arrived as arrays (``name -> array``), in the form
    :func:`~audit.pool.cache.save_entry` writes (a module's state_dict)."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        super().__init__()
        self.arrays = arrays

    def state_dict(self, *args, **kwargs) -> dict[str, torch.Tensor]:
        # Arrays a Ray task returned are read-only; torch.from_numpy wants writable memory.
        return {name: torch.from_numpy(np.require(array, requirements="W")) for name, array in self.arrays.items()}


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
