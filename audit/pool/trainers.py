"""How the models of a pool are trained: together, as one vectorised ensemble
(:func:`audit.training.ensemble.train_ensemble`), or one after another with the single
:func:`audit.training.train`.

The choice (``--trainer auto``) is made from measurements, not per run: timing the two paths
at run time would make which models a run trains (DP-SGD draws its noise differently in each)
depend on timing noise. On a 2-core CPU, eight demo MLPs trained together ran 1.3-1.4x
faster than one after another and DP-SGD about 7x faster than through Opacus
(benchmarks/training_speed.py, docs/benchmarks.md); on CUDA the ensemble keeps the device
busy where single small models leave it idle. So ``auto`` trains together whenever the
architecture allows it (no buffers that change while training, no dropout: see
:func:`audit.training.ensemble.supports_ensemble`) and falls back to one at a time otherwise.
The path is part of every model's cache key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from audit.errors import AuditInputError
from audit.pool.cache import CachedModel
from audit.training import TrainData, TrainRecipe, predict_logits, train
from audit.training.ensemble import (
    EnsembleData,
    initial_models,
    train_ensemble,
)
from audit.training.private import make_dp_compatible
from audit.training.stacked_forward import ensemble_refusal

# Models trained together at most: an interruption loses at most one group's work.
GROUP_SIZE = 16


@dataclass(frozen=True)
class PoolData:
    """A pool's tensors on the training device: candidates ``x [n, ...]``, ``y [n]``, the test
    part, and the query variants of the candidates (``[n, ...]`` each)."""

    x: torch.Tensor
    y: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    queries: list[torch.Tensor]


def choose_trainer(requested: str, *, recipe: TrainRecipe, data: PoolData, num_classes: int) -> str:
    """``ensemble`` or ``sequential`` for this recipe: as requested, or for ``auto`` the
    ensemble whenever the architecture (after any DP-SGD substitutions) allows it."""
    if requested == "sequential":
        return "sequential"
    (probe,) = _fresh_models(recipe, seeds=[0], data=data, num_classes=num_classes)
    refusal = ensemble_refusal(probe[0])
    allowed = refusal is None
    if requested == "ensemble" and not allowed:
        raise AuditInputError(
            f"architecture {recipe.architecture!r} cannot train as an ensemble under {recipe.regime.label}: {refusal}; "
            "use --trainer sequential, or --trainer auto (together wherever the architecture allows)"
        )
    return "ensemble" if allowed else "sequential"


def train_models(
    trainer: str,
    *,
    recipe: TrainRecipe,
    keep: np.ndarray,
    seeds: Sequence[int],
    data: PoolData,
    num_classes: int,
    snapshot_epochs: tuple[int, ...],
) -> list[tuple[nn.Module, CachedModel]]:
    """Train the models whose training rows are ``keep [k, n]`` with ``seeds`` (one each),
    with ``trainer``; each as (trained module, what the cache keeps of it)."""
    if trainer == "ensemble":
        return _together(recipe, keep=keep, seeds=seeds, data=data, num_classes=num_classes, snapshot_epochs=snapshot_epochs)
    return [
        _alone(recipe, keep_row=row, seed=seed, data=data, num_classes=num_classes, snapshot_epochs=snapshot_epochs)
        for row, seed in zip(keep, seeds)
    ]


def _fresh_models(recipe: TrainRecipe, *, seeds: Sequence[int], data: PoolData, num_classes: int) -> list[tuple[nn.Module, list[str]]]:
    """Freshly initialised models (seeded as the sequential path seeds them), made
    Opacus-compatible under DP-SGD, each with the substitutions that took."""
    models = initial_models(recipe, input_shape=tuple(data.x.shape[1:]), num_classes=num_classes, seeds=seeds, device=data.x.device)
    if not recipe.regime.is_private:
        return [(model, []) for model in models]
    compatible = [make_dp_compatible(m, architecture=recipe.architecture, example_input=data.x[:2]) for m in models]
    return [(c.model, c.substitutions) for c in compatible]


def _together(recipe, *, keep, seeds, data, num_classes, snapshot_epochs):
    fresh = _fresh_models(recipe, seeds=seeds, data=data, num_classes=num_classes)
    outcome = train_ensemble(
        [model for model, _ in fresh],
        EnsembleData(data.x, data.y, torch.from_numpy(keep).to(data.x.device), data.x_test, data.y_test),
        recipe,
        seeds=list(seeds),
        queries=data.queries,
        snapshot_epochs=snapshot_epochs,
    )
    seconds = outcome.seconds / len(seeds)
    return [
        (
            outcome.models[i],
            CachedModel(
                history=outcome.histories[i],
                epsilon=outcome.epsilons[i],
                seconds=seconds,
                logits=outcome.logits[i],
                snapshot_logits=outcome.snapshot_logits[i],
                substitutions=fresh[i][1],
            ),
        )
        for i in range(len(seeds))
    ]


def _alone(recipe, *, keep_row, seed, data, num_classes, snapshot_epochs):
    (model,) = initial_models(recipe, input_shape=tuple(data.x.shape[1:]), num_classes=num_classes, seeds=[seed], device=data.x.device)
    snapshots: list[np.ndarray] = []

    def record_snapshot(epoch: int, current: nn.Module) -> None:
        if epoch in snapshot_epochs:
            snapshots.append(query_logits(current, data.queries))

    keep_row = torch.from_numpy(keep_row).to(data.x.device)
    training = TrainData(data.x[keep_row], data.y[keep_row], data.x_test, data.y_test)
    outcome = train(model, training, recipe, seed=seed, on_epoch_end=record_snapshot)
    logits = query_logits(outcome.model, data.queries)
    return outcome.model, CachedModel(
        history=outcome.history,
        epsilon=outcome.epsilon,
        seconds=outcome.seconds,
        logits=logits,
        snapshot_logits=np.stack(snapshots) if snapshots else np.zeros((0, *logits.shape), np.float32),
        substitutions=outcome.substitutions,
    )


def query_logits(model: nn.Module, queries: list[torch.Tensor]) -> np.ndarray:
    """Logits of every query variant, ``[n, A, C]`` float32."""
    return torch.stack([predict_logits(model, q) for q in queries], dim=1).float().cpu().numpy()
