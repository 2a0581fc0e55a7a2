"""One ``train`` function for every regime: standard, flooding, iflood and DP-SGD.

Data stay in memory as tensors and are subset with index arrays (a keep row selects a
model's training half). Non-private training shuffles indices itself; DP-SGD goes through
Opacus with a real ``DataLoader`` over a map-style dataset, Poisson sampling and the PRV
accountant, because only that combination matches the privacy analysis.
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from audit.errors import AuditInputError
from audit.regimes import Regime
from audit.results import EpochRecord

OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainRecipe:
    """Everything that determines how one model is trained, besides its data and seed.

    Reference models copy the target's recipe field for field; it is stored with every
    model, so a mismatch is visible rather than silent.
    """

    architecture: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    regime: Regime = Regime()

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise AuditInputError(f"epochs must be >= 1, got {self.epochs}")
        if self.batch_size < 1:
            raise AuditInputError(f"batch size must be >= 1, got {self.batch_size}")
        if not self.learning_rate > 0:
            raise AuditInputError(f"learning rate must be > 0, got {self.learning_rate}")
        if self.optimizer not in OPTIMIZERS:
            raise AuditInputError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainData:
    """Tensors on the training device: the model's training half and the test part."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


@dataclass
class TrainOutcome:
    """The trained model (unwrapped from Opacus), its history and the privacy spent."""

    model: nn.Module
    history: list[EpochRecord]
    epsilon: float | None
    seconds: float


EpochCallback = Callable[[int, nn.Module], None]


def train(
    model: nn.Module,
    data: TrainData,
    recipe: TrainRecipe,
    *,
    seed: int,
    on_epoch_end: EpochCallback | None = None,
) -> TrainOutcome:
    """Train ``model`` in place under ``recipe.regime``; returns the outcome.

    ``on_epoch_end(epoch, model)`` is called after each epoch with the model in eval mode
    (e.g. to record outputs on the audit pool for snapshots); epochs count from 1.
    """
    torch.manual_seed(seed)
    start = time.perf_counter()
    regime = recipe.regime
    optimizer = _make_optimizer(model, recipe)
    if regime.is_private:
        model, optimizer, batches, accountant_epsilon = _make_private(model, optimizer, data, recipe, seed=seed)
    else:
        batches, accountant_epsilon = _shuffled_batches(data, recipe.batch_size, seed=seed), None

    history = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        loss_sum, seen = 0.0, 0
        for xb, yb in batches():
            if len(yb) == 0:  # Poisson sampling can draw an empty batch; nothing to learn from it
                continue
            per_example = F.cross_entropy(model(xb), yb, reduction="none")
            optimizer.zero_grad(set_to_none=True)
            regime.objective_loss(per_example).backward()
            optimizer.step()
            loss_sum += per_example.detach().sum().item()
            seen += len(yb)
        model.eval()
        history.append(_epoch_record(model, data, epoch=epoch, train_loss=loss_sum / max(seen, 1)))
        if not np.isfinite(history[-1].eval_train_loss):
            raise FloatingPointError(
                f"training diverged at epoch {epoch} (loss is not finite): lower the learning rate "
                f"(now {recipe.learning_rate})"
            )
        if on_epoch_end is not None:
            with torch.no_grad():
                on_epoch_end(epoch, _plain(model))
    epsilon = accountant_epsilon() if accountant_epsilon else None
    return TrainOutcome(model=_plain(model), history=history, epsilon=epsilon, seconds=time.perf_counter() - start)


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
    )


def _make_optimizer(model: nn.Module, recipe: TrainRecipe) -> torch.optim.Optimizer:
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=recipe.learning_rate, momentum=0.9, weight_decay=recipe.weight_decay)
    return torch.optim.Adam(model.parameters(), lr=recipe.learning_rate, weight_decay=recipe.weight_decay)


def _shuffled_batches(data: TrainData, batch_size: int, *, seed: int):
    """A callable yielding one epoch of shuffled mini-batches (the last one may be short)."""
    generator = torch.Generator().manual_seed(seed)
    n = len(data.y_train)

    def epoch():
        order = torch.randperm(n, generator=generator).to(data.y_train.device)
        for i in range(0, n, batch_size):
            index = order[i : i + batch_size]
            yield data.x_train[index], data.y_train[index]

    return epoch


def _make_private(model, optimizer, data: TrainData, recipe: TrainRecipe, *, seed: int):
    """Wrap model and optimizer with Opacus for DP-SGD at the regime's target epsilon."""
    from opacus import PrivacyEngine
    from opacus.validators import ModuleValidator

    regime = recipe.regime
    errors = ModuleValidator.validate(model, strict=False)
    if errors:
        raise AuditInputError(
            f"architecture {recipe.architecture!r} cannot be trained with DP-SGD: {errors[0]} "
            "(use GroupNorm instead of BatchNorm)"
        )
    n = len(data.y_train)
    if regime.delta is None or not 0 < regime.delta < 1 / n:
        raise AuditInputError(f"delta must be in (0, 1/n) = (0, {1 / n:.2g}) for {n} training examples, got {regime.delta}")
    dataset = torch.utils.data.TensorDataset(data.x_train, data.y_train)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=recipe.batch_size, generator=torch.Generator().manual_seed(seed)
    )
    noise_multiplier = _noise_multiplier(
        epsilon=regime.epsilon, delta=regime.delta, sample_rate=1 / len(loader), epochs=recipe.epochs
    )
    with warnings.catch_warnings():
        # Opacus warns that secure_mode is off (fine for an audit) and about full backward hooks.
        warnings.simplefilter("ignore")
        engine = PrivacyEngine(accountant="prv", secure_mode=False)
        private_model, private_optimizer, private_loader = engine.make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=noise_multiplier,
            max_grad_norm=regime.max_grad_norm,
            poisson_sampling=True,
            grad_sample_mode="hooks",
        )

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from private_loader

    return private_model, private_optimizer, epoch, lambda: float(engine.get_epsilon(regime.delta))


@functools.lru_cache(maxsize=32)
def _noise_multiplier(*, epsilon: float, delta: float, sample_rate: float, epochs: int) -> float:
    """The smallest noise multiplier whose PRV-accounted epsilon stays below ``epsilon``.

    Cached because the search costs over a second and every model of a DP pool shares it.
    """
    from opacus.accountants.utils import get_noise_multiplier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RDP order-range hints from the PRV domain estimate
        return get_noise_multiplier(
            target_epsilon=epsilon, target_delta=delta, sample_rate=sample_rate, epochs=epochs, accountant="prv"
        )


def _plain(model: nn.Module) -> nn.Module:
    return getattr(model, "_module", model)
