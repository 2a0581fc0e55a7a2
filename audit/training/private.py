"""DP-SGD through Opacus: per-example clipping, Gaussian noise, Poisson sampling and the PRV
accountant, wrapped around a model and optimizer for :func:`audit.training.loop.train`.

Opacus needs a real ``DataLoader`` over a map-style dataset to apply Poisson sampling, and
``grad_sample_mode="hooks"``; only that combination matches the privacy analysis.
"""

from __future__ import annotations

import functools
import warnings

import torch

from audit.errors import AuditInputError
from audit.training.batches import TrainData
from audit.training.recipe import TrainRecipe


def make_private(model, optimizer, data: TrainData, recipe: TrainRecipe, *, seed: int):
    """Wrap model and optimizer with Opacus for DP-SGD at the regime's target epsilon.

    Returns the private model and optimizer, a callable yielding one epoch of Poisson-sampled
    batches, and a callable giving the epsilon spent so far (PRV accountant).
    """
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
