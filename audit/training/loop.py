"""The one ``train`` function for every regime: standard, flooding, iflood and DP-SGD.

Data stay in memory as tensors and are subset with index arrays (a keep row selects a
model's training half). Non-private training shuffles indices itself; DP-SGD goes through
Opacus with a real ``DataLoader`` over a map-style dataset, Poisson sampling and the PRV
accountant, because only that combination matches the privacy analysis.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audit.training.batches import TrainData, shuffled_batches
from audit.training.private import make_dp_compatible, make_private
from audit.training.recipe import TrainRecipe, divergence_error
from models import prepare_for_device, training_autocast, unwrap
from results.records import EpochRecord


@dataclass
class TrainOutcome:
    """The trained model (unwrapped from Opacus), its history, the privacy spent, and the
    layers DP-SGD had to replace to train the architecture (empty when none, or non-private)."""

    model: nn.Module
    history: list[EpochRecord]
    epsilon: float | None
    seconds: float
    substitutions: list[str] = field(default_factory=list)


EpochCallback = Callable[[int, nn.Module], None]


def train(
    model: nn.Module,
    data: TrainData,
    recipe: TrainRecipe,
    *,
    seed: int,
    on_epoch_end: EpochCallback | None = None,
) -> TrainOutcome:
    """Train ``model`` under ``recipe.regime``; returns the outcome.

    Under DP-SGD a model Opacus cannot train as is (BatchNorm, in-place updates) is first
    replaced by a changed copy (:func:`audit.training.private.make_dp_compatible`): then
    ``outcome.model`` is that copy and ``outcome.substitutions`` says what changed; otherwise
    the model is trained in place. On CUDA conv nets go channels-last and non-private steps
    run under bf16 autocast (:mod:`models.device`). ``on_epoch_end(epoch, model)`` is called
    after each epoch with the model in eval mode (e.g. to record outputs on the audit pool for
    snapshots); epochs count from 1.
    """
    start = time.perf_counter()
    regime = recipe.regime
    device = data.x_train.device
    substitutions: list[str] = []
    if regime.is_private:  # before seeding: the probe may draw random numbers (dropout)
        compatible = make_dp_compatible(model, architecture=recipe.architecture, example_input=data.x_train[:2])
        model, substitutions = compatible.model, compatible.substitutions
    model = prepare_for_device(model, device)
    torch.manual_seed(seed)
    optimizer = _make_optimizer(model, recipe)
    if regime.is_private:
        model, optimizer, batches, accountant_epsilon = make_private(model, optimizer, data, recipe, seed=seed)
    else:
        batches, accountant_epsilon = shuffled_batches(data, recipe.batch_size, seed=seed), None

    history = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        loss_sum, seen = 0.0, 0
        for xb, yb in batches():
            if len(yb) == 0:  # Poisson sampling can draw an empty batch; nothing to learn from it
                continue
            with training_autocast(device, private=regime.is_private):
                logits = model(xb)
            per_example = F.cross_entropy(logits.float(), yb, reduction="none")
            optimizer.zero_grad(set_to_none=True)
            regime.objective_loss(per_example).backward()
            optimizer.step()
            loss_sum += per_example.detach().sum().item()
            seen += len(yb)
        model.eval()
        history.append(_epoch_record(model, data, epoch=epoch, train_loss=loss_sum / max(seen, 1)))
        if not np.isfinite(history[-1].eval_train_loss):
            raise divergence_error(recipe, epoch=epoch)
        if on_epoch_end is not None:
            with torch.no_grad():
                on_epoch_end(epoch, unwrap(model))
    epsilon = accountant_epsilon() if accountant_epsilon else None
    return TrainOutcome(
        model=unwrap(model),
        history=history,
        epsilon=epsilon,
        seconds=time.perf_counter() - start,
        substitutions=substitutions,
    )


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """Logits ``[N, num_classes]`` of ``model`` in eval mode, computed in batches."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


HISTORY_EXAMPLES = 1024  # per-epoch accuracies are measured on at most this many examples


def _epoch_record(model: nn.Module, data: TrainData, *, epoch: int, train_loss: float) -> EpochRecord:
    """Accuracy and eval-mode loss after an epoch, on the first ``HISTORY_EXAMPLES`` of the
    training half and of the test part: both are in random order, and a bounded subset keeps
    the per-epoch cost independent of the data-set size (CIFAR-10 would otherwise spend a
    third of its training time here)."""
    k = HISTORY_EXAMPLES
    train_logits = predict_logits(model, data.x_train[:k])
    test_logits = predict_logits(model, data.x_test[:k])
    y_train, y_test = data.y_train[:k], data.y_test[:k]
    return EpochRecord(
        epoch=epoch,
        train_loss=train_loss,
        eval_train_loss=F.cross_entropy(train_logits, y_train).item(),
        train_accuracy=(train_logits.argmax(1) == y_train).float().mean().item(),
        test_accuracy=(test_logits.argmax(1) == y_test).float().mean().item(),
        test_loss=F.cross_entropy(test_logits, y_test).item(),
    )


def _make_optimizer(model: nn.Module, recipe: TrainRecipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=recipe.learning_rate, momentum=0.9, weight_decay=recipe.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)
