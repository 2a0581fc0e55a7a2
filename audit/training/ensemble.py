"""Train the M models of one regime together, as one stacked ensemble, instead of one after
another with :func:`audit.training.loop.train`.

Model ``m`` sees exactly what the sequential path would give it: the candidate rows its keep
row selects, batches drawn from its own seed (:mod:`audit.training.ensemble_batches`), its
regime's objective on its own batch (flooding, Ishida et al., ICML 2020, on the batch mean;
iFlood, Xie et al., ICLR 2022, per example), DP-SGD (Abadi et al., CCS 2016) with its own
clipping, noise and accountant (:mod:`audit.training.dp_vectorised`), and the update rule of
``torch.optim.Adam`` / ``SGD`` (:mod:`audit.training.functional_optim`). Its per-epoch
records, final and snapshot logits and epsilon are those ``audit.pool`` stores per model.

    >>> import torch
    >>> from audit.training import TrainRecipe
    >>> _ = torch.manual_seed(0)
    >>> recipe = TrainRecipe(architecture="mlp", epochs=1, batch_size=8, learning_rate=1e-3)
    >>> x, y = torch.randn(20, 4), torch.randint(0, 3, (20,))
    >>> keep = torch.rand(2, 20) < 0.5
    >>> models = initial_models(recipe, input_shape=(4,), num_classes=3, seeds=[0, 1])
    >>> out = train_ensemble(models, EnsembleData(x, y, keep, x[:5], y[:5]), recipe, seeds=[0, 1], queries=[x])
    >>> out.logits.shape, len(out.histories[1])
    ((2, 20, 1, 3), 1)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from audit.training.ensemble_batches import ModelRows
from audit.training.ensemble_trainer import EnsembleData, EnsembleTrainer, cross_entropy
from audit.training.loop import HISTORY_EXAMPLES
from audit.training.recipe import TrainRecipe, divergence_error
from audit.training.stacked_forward import (
    EnsembleUnsupported,
    StackedModel,
    supports_ensemble,
)
from models import create_model
from results.records import EpochRecord

__all__ = [
    "EnsembleData",
    "EnsembleOutcome",
    "EnsembleUnsupported",
    "initial_models",
    "supports_ensemble",
    "train_ensemble",
]

EXAMPLES_PER_FORWARD = 4096  # examples of all models together in one no-grad forward (bounds memory)


@dataclass
class EnsembleOutcome:
    """What the sequential path gives per model, for all M models at once.

    ``models``: trained weights as plain modules (eval mode); ``histories[m]``: one
    :class:`EpochRecord` per epoch; ``logits``: float32 ``[M, n, A, C]`` on the A query
    variants; ``snapshot_logits``: float32 ``[M, S, n, A, C]`` after each of
    ``snapshot_epochs``; ``epsilons[m]``: the PRV accountant's epsilon (None when
    non-private); ``seconds``: wall-clock seconds of the whole ensemble (per model:
    ``seconds / M``); ``vectorise``: ``vmap``, ``loop`` or ``chain`` (see
    :mod:`audit.training.stacked_forward`).
    """

    models: list[nn.Module]
    histories: list[list[EpochRecord]]
    logits: np.ndarray
    snapshot_epochs: list[int]
    snapshot_logits: np.ndarray
    epsilons: list[float | None]
    seconds: float
    vectorise: str


def initial_models(
    recipe: TrainRecipe,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    seeds: Sequence[int],
    device: torch.device | str = "cpu",
) -> list[nn.Module]:
    """Fresh models initialised as ``audit.pool`` initialises them: ``torch.manual_seed(seed)``
    then ``create_model``, one per seed."""
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(
            create_model(
                recipe.architecture,
                input_shape=tuple(input_shape),
                num_classes=num_classes,
                options=recipe.architecture_options,
            ).to(device)
        )
    return models


def train_ensemble(
    models: Sequence[nn.Module],
    data: EnsembleData,
    recipe: TrainRecipe,
    *,
    seeds: Sequence[int],
    queries: Sequence[torch.Tensor] = (),
    snapshot_epochs: Sequence[int] = (),
    vectorise: str = "auto",
) -> EnsembleOutcome:
    """Train ``models`` (M initial models of one architecture, e.g. from
    :func:`initial_models`) together under ``recipe``; model m on ``data.keep[m]`` with seed
    ``seeds[m]``. ``queries``: A tensors ``[n, ...]`` to record logits on (variant 0 = the
    candidates themselves). ``vectorise``: ``auto``, ``vmap``, ``loop`` or ``chain``.

    Raises :class:`~audit.training.stacked_forward.EnsembleUnsupported` for an architecture
    that cannot be stacked (train it with ``train()``), ``AuditInputError`` for DP settings
    the sequential path refuses too, and when a model diverges (its loss not finite).
    """
    start = time.perf_counter()
    snapshot_epochs = sorted(set(snapshot_epochs))
    if any(not 1 <= e <= recipe.epochs for e in snapshot_epochs):
        raise ValueError(f"snapshot epochs must lie in 1..{recipe.epochs}, got {snapshot_epochs}")
    trainer = EnsembleTrainer(models, data, recipe, seeds=seeds, vectorise=vectorise)
    stacked, model_rows = trainer.stacked, trainer.model_rows

    histories: list[list[EpochRecord]] = [[] for _ in models]
    snapshots = []
    for epoch in range(1, recipe.epochs + 1):
        loss_sum, seen = trainer.epoch()
        for m, record in enumerate(
            _epoch_records(stacked, data, model_rows, epoch=epoch, train_loss=loss_sum / seen.clamp(min=1))
        ):
            histories[m].append(record)
        diverged = [m for m, h in enumerate(histories) if not np.isfinite(h[-1].eval_train_loss)]
        if diverged:
            raise divergence_error(recipe, epoch=epoch, models=diverged)
        if epoch in snapshot_epochs:
            snapshots.append(_query_logits(stacked, queries))
    logits = _query_logits(stacked, queries)
    if snapshots:
        snapshot_logits = np.stack(snapshots, axis=1)
    else:
        snapshot_logits = np.zeros((len(models), 0, *logits.shape[1:]), np.float32)
    return EnsembleOutcome(
        models=stacked.modules(),
        histories=histories,
        logits=logits,
        snapshot_epochs=snapshot_epochs,
        snapshot_logits=snapshot_logits,
        epsilons=trainer.epsilons(),
        seconds=time.perf_counter() - start,
        vectorise=stacked.vectorise,
    )


@torch.no_grad()
def _logits(stacked: StackedModel, x: torch.Tensor, *, shared: bool) -> torch.Tensor:
    """Logits ``[M, N, C]`` on ``x`` (``[N, ...]`` shared, or ``[M, N, ...]``), in chunks.

    The skeleton stays in training mode: for the architectures an ensemble accepts (no
    dropout, no batch statistics) it computes what eval mode computes."""
    chunk = max(1, EXAMPLES_PER_FORWARD // stacked.num_models)
    n = x.shape[0 if shared else 1]
    parts = [
        stacked.logits(stacked.params, x[i : i + chunk] if shared else x[:, i : i + chunk], shared=shared)
        for i in range(0, n, chunk)
    ]
    return torch.cat(parts, dim=1)


def _query_logits(stacked: StackedModel, queries: Sequence[torch.Tensor]) -> np.ndarray:
    """Logits of every query variant, float32 ``[M, n, A, C]``."""
    if not queries:
        return np.zeros((stacked.num_models, 0, 0, 0), np.float32)
    return torch.stack([_logits(stacked, q, shared=True) for q in queries], dim=2).float().cpu().numpy()


def _epoch_records(
    stacked: StackedModel, data: EnsembleData, model_rows: ModelRows, *, epoch: int, train_loss: torch.Tensor
):
    """One :class:`EpochRecord` per model, as ``audit.training.loop._epoch_record`` measures
    it: eval-mode loss and accuracy on the first ``HISTORY_EXAMPLES`` of the model's training
    rows (candidate order) and of the test part."""
    k = HISTORY_EXAMPLES
    rows = model_rows.rows[:, :k].to(data.x.device)
    valid = (torch.arange(rows.shape[1]) < torch.tensor(model_rows.sizes).unsqueeze(1)).to(data.x.device)
    train_logits = _logits(stacked, data.x[rows], shared=False)
    y_train = data.y[rows]
    test_logits = _logits(stacked, data.x_test[:k], shared=True)
    count = valid.sum(1)
    figures = torch.stack(
        [
            torch.where(valid, cross_entropy(train_logits, y_train), 0).sum(1) / count,
            torch.where(valid, train_logits.argmax(-1) == y_train, False).sum(1) / count,
            (test_logits.argmax(-1) == data.y_test[:k]).float().mean(1),
            cross_entropy(test_logits, data.y_test[:k].expand(len(test_logits), -1)).mean(1),
        ],
        dim=1,
    ).cpu()
    return [
        EpochRecord(
            epoch=epoch,
            train_loss=float(train_loss[m]),
            eval_train_loss=float(eval_loss),
            train_accuracy=float(train_acc),
            test_accuracy=float(test_acc),
            test_loss=float(test_loss),
        )
        for m, (eval_loss, train_acc, test_acc, test_loss) in enumerate(figures.tolist())
    ]
