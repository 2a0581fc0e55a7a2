"""The per-step work of an ensemble of M models (see :mod:`audit.training.ensemble`): each
model's batches, its regime's objective on them, its (private) gradient and its optimiser
step, all vectorised over the model axis.

Flooding (Ishida et al., ICML 2020) acts on each model's batch mean, iFlood (Xie et al.,
ICLR 2022) on each example; DP-SGD (Abadi et al., CCS 2016) clips each model's per-example
gradients, adds that model's noise and counts its steps for Opacus' PRV accountant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from audit.training.accounting import prv_epsilon
from audit.training.dp_vectorised import (
    check_private,
    clip_and_sum,
    clipped_gradient_sums,
    layerwise_supported,
    opacus_noise_multipliers,
    per_example_gradients,
    privatise,
    seed_for_noise,
)
from audit.training.ensemble_batches import (
    ModelRows,
    Step,
    poisson_epoch,
    poisson_sample_rate,
    shuffled_epoch,
)
from audit.training.functional_optim import stacked_optimizer
from audit.training.recipe import TrainRecipe
from audit.training.regimes import Regime
from audit.training.stacked_forward import StackedModel, choose_vectorise

CHUNK_ELEMENTS = 2**22  # per-example values (float32: 16 MB) of the models clipped together on a CPU


@dataclass(frozen=True)
class EnsembleData:
    """Tensors on the training device: candidates ``x [n, ...]``, ``y [n]``; ``keep`` bool
    ``[M, n]`` (model m trains on the candidates ``keep[m]`` selects; rows may differ in
    size); the test part ``x_test [t, ...]``, ``y_test [t]``."""

    x: torch.Tensor
    y: torch.Tensor
    keep: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


class EnsembleTrainer:
    """M models of one regime mid-training: stacked parameters (``stacked``), optimiser state,
    each model's batch generator and steps taken and, under DP-SGD, its sample rate, noise
    multiplier and noise generator, and whether the layer-by-layer clipping route applies
    (``layerwise``). :func:`train_ensemble` drives it epoch by epoch.

    ``noise_multipliers``: None for what Opacus' ``make_private`` would pick for each model's
    sample rate and the regime's target epsilon; given explicitly (one per model; 0 turns
    the noise off), e.g. to check a step against Opacus with the same setting.
    """

    def __init__(
        self,
        models: Sequence[nn.Module],
        data: EnsembleData,
        recipe: TrainRecipe,
        *,
        seeds: Sequence[int],
        vectorise: str = "auto",
        noise_multipliers: Sequence[float] | None = None,
    ):
        keep = torch.as_tensor(data.keep, dtype=torch.bool)
        if not len(models) == len(seeds) == keep.shape[0]:
            raise ValueError(
                f"got {len(models)} models, {len(seeds)} seeds and {keep.shape[0]} keep rows: they must match"
            )
        device = data.x.device
        self.stacked = stacked = StackedModel(models, vectorise=choose_vectorise(vectorise, device, models[0]))
        self.model_rows = model_rows = ModelRows.from_keep(keep)
        self.data, self.recipe, self.regime = data, recipe, recipe.regime
        self.optimizer = stacked_optimizer(recipe)
        self.batch_generators = [torch.Generator().manual_seed(seed) for seed in seeds]
        self.steps_taken = [0] * len(seeds)
        if self.regime.is_private:
            check_private(stacked.skeleton, recipe, sizes=model_rows.sizes)
            self.sample_rates = [poisson_sample_rate(n, recipe.batch_size) for n in model_rows.sizes]
            if noise_multipliers is None:
                noise_multipliers = opacus_noise_multipliers(recipe, sample_rates=self.sample_rates)
            self.noise_multipliers = [float(sigma) for sigma in noise_multipliers]
            # Opacus divides by int(n * sample_rate), its "expected batch size".
            expected = [int(n * q) for n, q in zip(model_rows.sizes, self.sample_rates)]
            self.expected_batch_size = torch.tensor(expected, device=device)
            self.noise_generators = [torch.Generator(device).manual_seed(seed_for_noise(seed)) for seed in seeds]
            self.shapes = stacked.layer_shapes(data.x[:1])
            self.layerwise = layerwise_supported(stacked.layers, self.shapes)
            # What one example costs the clipping in memory: its layer inputs and outputs, or
            # (vmap over examples) a whole per-example gradient.
            if self.layerwise:
                self.elements_per_example = sum(math.prod(i) + math.prod(o) for i, o in self.shapes.values())
            else:
                self.elements_per_example = sum(p[0].numel() for p in stacked.params.values())

    def epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Train one epoch; returns per-model cross-entropy sums and example counts ``[M]``."""
        make = poisson_epoch if self.regime.is_private else shuffled_epoch
        steps = make(
            self.model_rows, self.batch_generators, batch_size=self.recipe.batch_size, device=self.data.x.device
        )
        loss_sum = torch.zeros(len(self.batch_generators), device=self.data.x.device)
        seen = torch.zeros_like(loss_sum)
        for step in steps:
            if not any(step.active):  # every model's Poisson batch is empty
                continue
            ce = self.step(step)
            loss_sum += torch.where(step.valid, ce, 0).sum(1)
            seen += step.valid.sum(1)
        return loss_sum.cpu(), seen.cpu()

    def step(self, step: Step) -> torch.Tensor:
        """One optimiser step of every model whose batch is not empty (the sequential loop
        skips an empty one: no step, no noise, nothing for the accountant). Returns the
        cross-entropy ``[M, b]`` (detached; meaningless where ``step.valid`` is False)."""
        grads, ce = self._gradients(step)
        self.optimizer.step(self.stacked.params, grads, active=step.active)
        self.steps_taken = [taken + active for taken, active in zip(self.steps_taken, step.active)]
        return ce.detach()

    def _gradients(self, step: Step) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Each model's gradient, name -> ``[M, *shape]``, and the cross-entropy ``[M, b]``."""
        x, y = self.data.x[step.rows], self.data.y[step.rows]
        if self.regime.is_private:
            return self._private_gradients(x, y, step)
        params = {name: p.detach().requires_grad_() for name, p in self.stacked.params.items()}
        ce = cross_entropy(self.stacked.logits(params, x), y)
        # The models are independent, so the gradient of the sum of their objectives with
        # respect to the stacked parameters holds each model's own gradient.
        objective = batch_objective(self.regime, ce, step.valid).sum()
        return dict(zip(params, torch.autograd.grad(objective, list(params.values())))), ce

    def _private_gradients(self, x, y, step: Step) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """DP-SGD's noisy mean of clipped per-example gradients (see :mod:`audit.training.dp_vectorised`).

        The clipped sums are formed for all models at once under ``vmap``, and under ``loop``
        for as many models at a time as keep their per-example values within
        ``CHUNK_ELEMENTS``: on a CPU the small CNN's per-example tensors of all 8 models at
        once (over 100 MB) made a step 2-3 times slower than model by model, while the MLP's
        (under 3 MB) are fastest all at once.
        """
        models = self.stacked.num_models
        per_model = step.valid.shape[1] * self.elements_per_example
        size = models if self.stacked.vectorise == "vmap" else max(1, CHUNK_ELEMENTS // per_model)
        chunks = [slice(first, min(first + size, models)) for first in range(0, models, size)]
        parts = [self._clipped_sums(chunk, x[chunk], y[chunk], step.valid[chunk]) for chunk in chunks]
        summed = {name: torch.cat([part[name] for part, _ in parts]) for name in parts[0][0]}
        grads = privatise(
            summed,
            noise_std=[sigma * self.regime.max_grad_norm for sigma in self.noise_multipliers],
            expected_batch_size=self.expected_batch_size,
            generators=self.noise_generators,
            draw=step.active,
        )
        return grads, torch.cat([ce for _, ce in parts])

    def _clipped_sums(self, models: slice, x, y, valid) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """``sum_i clip(g_i)`` for the models in ``models`` (name -> ``[m, *shape]``) and their
        cross-entropy ``[m, b]``; ``x``, ``y``, ``valid`` are those models' batches."""
        params = {name: p[models] for name, p in self.stacked.params.items()}
        clip = self.regime.max_grad_norm
        if not self.layerwise:
            objective = lambda loss: example_objective(self.regime, loss)
            per_example, ce = per_example_gradients(self.stacked.skeleton, params, x, y, objective)
            return clip_and_sum(per_example, valid=valid, max_grad_norm=clip), ce
        shape = valid.shape
        taps = {
            name: torch.zeros(*shape, *out, device=x.device, requires_grad=True)
            for name, (_, out) in self.shapes.items()
        }
        logits, inputs = self.stacked.logits_with_taps(params, x, taps)
        ce = cross_entropy(logits, y)
        objective = torch.where(valid, example_objective(self.regime, ce), 0).sum()
        output_grads = dict(zip(taps, torch.autograd.grad(objective, list(taps.values()))))
        return clipped_gradient_sums(self.stacked.layers, inputs, output_grads, valid=valid, max_grad_norm=clip), ce

    def epsilons(self) -> list[float | None]:
        """Each model's epsilon for the steps it took (None when non-private)."""
        if not self.regime.is_private:
            return [None] * len(self.batch_generators)
        cache: dict[tuple, float] = {}
        out = []
        for sigma, rate, steps in zip(self.noise_multipliers, self.sample_rates, self.steps_taken):
            key = (sigma, rate, steps)
            if key not in cache:
                cache[key] = prv_epsilon(noise_multiplier=sigma, sample_rate=rate, steps=steps, delta=self.regime.delta)
            out.append(cache[key])
        return out


def batch_objective(regime: Regime, ce: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Each model's objective on its batch, ``[M]``, from cross-entropy ``[M, B]`` over the
    ``valid`` examples: ``Regime.objective_loss`` (mean; flooding's ``|mean - b| + b``;
    iFlood's ``mean(|l - b| + b)``) with padding left out."""
    count = valid.sum(1).clamp(min=1)
    if regime.objective == "flood":
        mean = torch.where(valid, ce, 0).sum(1) / count
        return (mean - regime.flood_level).abs() + regime.flood_level
    return torch.where(valid, example_objective(regime, ce), 0).sum(1) / count


def example_objective(regime: Regime, ce: torch.Tensor) -> torch.Tensor:
    """Per-example objective (the loss DP-SGD differentiates per example): ``l`` or iFlood's
    ``|l - b| + b``. Batch flooding has none: it is refused with DP."""
    if regime.objective == "iflood":
        return (ce - regime.flood_level).abs() + regime.flood_level
    return ce


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy ``[M, B]`` from logits ``[M, B, C]`` and labels ``[M, B]``."""
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape)
