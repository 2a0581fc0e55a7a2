"""A pool of M models per regime, each trained on the half of the audit pool its keep row
selects, and their outputs (signals) on every candidate.

Every model is cached under a hash of everything that determines it (data fingerprint,
recipe, keep row, seed, query set, snapshot epochs): a re-run, or a run resumed after an
interruption, retrains nothing that is already on disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from audit.artifacts import stable_hash, write_json, write_npz
from audit.data import AuditSplit
from audit.queries import query_variants
from audit.results import EpochRecord
from audit.training import TrainData, TrainRecipe, predict_logits, train
from models import create_model, save_weights

CACHE_FORMAT = 1


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
    """

    recipe: TrainRecipe
    logits: np.ndarray
    snapshot_epochs: list[int]
    snapshot_logits: np.ndarray
    models: list[TrainedModel]


ProgressCallback = Callable[[TrainedModel, int], None]


def train_pool(
    *,
    split: AuditSplit,
    keep: np.ndarray,
    recipe: TrainRecipe,
    num_classes: int,
    is_image: bool,
    data_fingerprint: str,
    seed: int,
    device: torch.device,
    cache_dir: Path,
    query_set: str = "identity",
    snapshot_epochs: tuple[int, ...] = (),
    on_model_done: ProgressCallback | None = None,
) -> PoolSignals:
    """Train (or load from cache) the ``keep.shape[0]`` models of one regime.

    Model ``m`` trains on ``split.pool_x[keep[m]]`` with seed ``seed + m``; the same seed
    and keep row are used in every regime, so regimes are compared on paired models.
    ``on_model_done(model, num_models)`` is called after each model (for progress output).
    """
    pool_x = torch.from_numpy(split.pool_x).to(device)
    pool_y = torch.from_numpy(split.pool_y).to(device)
    test_x = torch.from_numpy(split.test_x).to(device)
    test_y = torch.from_numpy(split.test_y).to(device)
    queries = query_variants(pool_x, query_set, is_image=is_image)
    snapshot_epochs = tuple(sorted(e for e in set(snapshot_epochs) if 1 <= e <= recipe.epochs))

    models, logits, snapshots = [], [], []
    for m, keep_row in enumerate(keep):
        key = stable_hash(
            {
                "format": CACHE_FORMAT,
                "data": data_fingerprint,
                "recipe": recipe.to_dict(),
                "keep": _keep_digest(keep_row),
                "seed": seed + m,
                "queries": query_set,
                "snapshots": snapshot_epochs,
            }
        )
        directory = cache_dir / key
        if (directory / "record.json").exists():
            trained, model_logits, model_snapshots = _load(directory, index=m)
        else:
            trained, model_logits, model_snapshots = _train_one(
                index=m,
                directory=directory,
                data=TrainData(pool_x[keep_row], pool_y[keep_row], test_x, test_y),
                recipe=recipe,
                queries=queries,
                input_shape=split.pool_x.shape[1:],
                num_classes=num_classes,
                seed=seed + m,
                device=device,
                snapshot_epochs=snapshot_epochs,
            )
        models.append(trained)
        logits.append(model_logits)
        snapshots.append(model_snapshots)
        if on_model_done is not None:
            on_model_done(trained, len(keep))
    return PoolSignals(
        recipe=recipe,
        logits=np.stack(logits),
        snapshot_epochs=list(snapshot_epochs),
        snapshot_logits=np.stack(snapshots, axis=1),
        models=models,
    )


def _keep_digest(keep_row: np.ndarray) -> str:
    """A digest of a keep row, so the cache key does not hold n booleans."""
    return stable_hash(np.flatnonzero(keep_row).tolist())


def _query_logits(model: torch.nn.Module, queries: list[torch.Tensor]) -> np.ndarray:
    """Logits of every query variant, ``[n, A, C]`` float32."""
    return torch.stack([predict_logits(model, q) for q in queries], dim=1).float().cpu().numpy()


def _train_one(*, index, directory, data, recipe, queries, input_shape, num_classes, seed, device, snapshot_epochs):
    torch.manual_seed(seed)
    model = create_model(recipe.architecture, input_shape=tuple(input_shape), num_classes=num_classes).to(device)
    snapshots: list[np.ndarray] = []

    def record_snapshot(epoch: int, current: torch.nn.Module) -> None:
        if epoch in snapshot_epochs:
            snapshots.append(_query_logits(current, queries))

    outcome = train(model, data, recipe, seed=seed, on_epoch_end=record_snapshot)
    logits = _query_logits(outcome.model, queries)
    snapshot_logits = np.stack(snapshots) if snapshots else np.zeros((0, *logits.shape), np.float32)
    save_weights(outcome.model, directory / "weights.npz")
    write_npz(directory / "signals.npz", logits=logits, snapshot_logits=snapshot_logits)
    # record.json is written last: its presence marks the model as complete.
    write_json(
        directory / "record.json",
        {
            "recipe": recipe.to_dict(),
            "seed": seed,
            "epsilon": outcome.epsilon,
            "seconds": outcome.seconds,
            "history": [vars(e) for e in outcome.history],
        },
    )
    trained = TrainedModel(index, outcome.history, outcome.epsilon, outcome.seconds, cached=False, directory=directory)
    return trained, logits, snapshot_logits


def _load(directory: Path, *, index: int):
    record = json.loads((directory / "record.json").read_text())
    with np.load(directory / "signals.npz", allow_pickle=False) as arrays:
        logits, snapshot_logits = arrays["logits"], arrays["snapshot_logits"]
    history = [EpochRecord(**e) for e in record["history"]]
    trained = TrainedModel(index, history, record["epsilon"], record["seconds"], cached=True, directory=directory)
    return trained, logits, snapshot_logits
