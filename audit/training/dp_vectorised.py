"""DP-SGD (Abadi et al., CCS 2016) for a stack of M models: per-example gradients, clipping,
Gaussian noise and the privacy spent, each model with its own settings.

One private step of model ``m`` on its Poisson batch ``B_m``, as Opacus performs it:

    g_i = grad of the per-example objective o_i            (i in B_m)
    g   = (sum_i g_i * min(1, C / (||g_i|| + 1e-6)) + N(0, (sigma_m C)^2 I)) / E_m

with ``C`` the clipping norm, ``sigma_m`` the noise multiplier Opacus would choose for model
m's sample rate, and ``E_m`` its expected batch size. Two routes to the clipped sum:

- layer by layer (:func:`clipped_gradient_sums`), for models whose parameters all belong to
  ``Linear`` (per-example input a vector), ``Conv2d`` and ``GroupNorm`` layers: the
  per-example norm of a linear layer's weight gradient is ``||a_i|| ||g_i||`` (Goodfellow,
  2015; "ghost norm", Li et al., ICLR 2022), so no per-example weight gradient is ever
  formed for it and the clipped sum is one matmul, ``(c * G)^T A`` (the book-keeping trick
  of Bu et al., ICML 2023). Convolutions and GroupNorm form their (small) per-example
  gradients as Opacus' hooks do;
- any other architecture (:func:`per_example_gradients`): ``vmap`` over examples inside the
  model axis, forming every per-example gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad

from audit.training.accounting import noise_multiplier
from audit.training.private import check_trainable_privately
from audit.training.recipe import TrainRecipe

CLIP_STABILITY = 1e-6  # Opacus adds it to the norm before dividing: C / (||g|| + 1e-6)

LayerParts = tuple[torch.Tensor, Callable[[torch.Tensor], dict[str, torch.Tensor]]]


def check_private(model: nn.Module, recipe: TrainRecipe, *, sizes: Sequence[int]) -> None:
    """Refuse what :func:`audit.training.private.make_private` refuses, with its messages
    (:func:`~audit.training.private.check_trainable_privately`)."""
    check_trainable_privately(model, recipe, sizes=sizes)


def opacus_noise_multipliers(recipe: TrainRecipe, *, sample_rates: Sequence[float]) -> list[float]:
    """Per model, the noise multiplier Opacus' ``make_private`` picks for its sample rate:
    the smallest whose PRV-accounted epsilon after ``recipe.epochs`` stays below the target."""
    regime = recipe.regime
    return [
        noise_multiplier(epsilon=regime.epsilon, delta=regime.delta, sample_rate=rate, epochs=recipe.epochs)
        for rate in sample_rates
    ]


def layerwise_supported(layers: dict[str, nn.Module], shapes: dict[str, tuple[torch.Size, torch.Size] | None]) -> bool:
    """True when every parametrised layer has a layer-by-layer rule (see the module doc) and
    runs exactly once per forward pass (``shapes[name]`` from
    :meth:`~audit.training.stacked_forward.StackedModel.layer_shapes`; None for a layer
    called twice, whose per-example gradient sums over both calls)."""

    def supported(name: str, layer: nn.Module) -> bool:
        if shapes.get(name) is None:
            return False
        # Exact types: a subclass may change what its forward computes.
        if type(layer) is nn.Linear:
            return len(shapes[name][0]) == 1
        if type(layer) is nn.Conv2d:
            return layer.groups == 1 and layer.padding_mode == "zeros" and not isinstance(layer.padding, str)
        return type(layer) is nn.GroupNorm and layer.affine

    return all(supported(name, layer) for name, layer in layers.items())


def clipped_gradient_sums(
    layers: dict[str, nn.Module],
    inputs: dict[str, torch.Tensor],
    output_grads: dict[str, torch.Tensor],
    *,
    valid: torch.Tensor,
    max_grad_norm: float,
) -> dict[str, torch.Tensor]:
    """``sum_i clip(g_i)`` per model, name -> ``[M, *shape]``, from each layer's input
    ``[M, B, *in]`` and the gradient of ``sum_i o_i`` w.r.t. its output ``[M, B, *out]``.

    ``valid`` (bool ``[M, B]``) marks real examples; padding gets a clip factor of 0.
    """
    parts = {name: _RULES[type(layer)](layer, inputs[name], output_grads[name]) for name, layer in layers.items()}
    norms = torch.stack([sq for sq, _ in parts.values()]).sum(0).sqrt()
    factor = clip_factors(norms, valid=valid, max_grad_norm=max_grad_norm)
    return {f"{name}.{p}": g for name, (_, clipped) in parts.items() for p, g in clipped(factor).items()}


def per_example_gradients(
    skeleton: nn.Module,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    objective: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Every per-example gradient, name -> ``[M, B, *shape]``, and the cross-entropy ``[M, B]``.

    ``x``: ``[M, B, ...]``, ``y``: ``[M, B]``; ``objective`` maps per-example cross-entropy to
    the per-example objective (identity, or iflood's ``|l - b| + b``).
    """

    def one_example(p, x1, y1):
        ce = F.cross_entropy(functional_call(skeleton, p, (x1.unsqueeze(0),)), y1.unsqueeze(0), reduction="none")
        return objective(ce).sum(), ce.squeeze(0)

    per_model = torch.vmap(grad(one_example, has_aux=True), in_dims=(None, 0, 0))
    return torch.vmap(per_model)(params, x, y)


def clip_and_sum(
    per_example: dict[str, torch.Tensor], *, valid: torch.Tensor, max_grad_norm: float
) -> dict[str, torch.Tensor]:
    """``sum_i clip(g_i)`` per model from per-example gradients ``[M, B, *shape]``."""
    norms = torch.stack([g.flatten(2).square().sum(-1) for g in per_example.values()]).sum(0).sqrt()
    factor = clip_factors(norms, valid=valid, max_grad_norm=max_grad_norm)
    return {name: torch.einsum("mb,mb...->m...", factor, g) for name, g in per_example.items()}


def clip_factors(norms: torch.Tensor, *, valid: torch.Tensor, max_grad_norm: float) -> torch.Tensor:
    """``min(1, C / (||g_i|| + 1e-6))`` as Opacus computes it, 0 for padding; ``[M, B]``."""
    factor = (max_grad_norm / (norms + CLIP_STABILITY)).clamp(max=1.0)
    return torch.where(valid, factor, torch.zeros_like(factor))


def privatise(
    summed: dict[str, torch.Tensor],
    *,
    noise_std: Sequence[float],
    expected_batch_size: torch.Tensor,
    generators: Sequence[torch.Generator],
    draw: Sequence[bool],
) -> dict[str, torch.Tensor]:
    """Add ``N(0, noise_std[m]^2)`` to model m's clipped sum and divide by its expected batch
    size (Opacus' ``loss_reduction="mean"``); name -> ``[M, *shape]``.

    Each model draws from its own generator, and only at the steps it takes (``draw[m]``),
    so its noise depends on its own seed and batches, not on the other models.
    """
    first = next(iter(summed.values()))
    sizes = [g[0].numel() for g in summed.values()]
    options = {"device": first.device, "dtype": first.dtype}
    noise = [
        torch.randn(sum(sizes), generator=generator, **options) * std
        if take and std > 0
        else torch.zeros(sum(sizes), **options)
        for generator, std, take in zip(generators, noise_std, draw)
    ]
    chunks = dict(zip(summed, torch.stack(noise).split(sizes, dim=1)))
    divisor = expected_batch_size.to(first.dtype)
    return {
        name: (g + chunks[name].view_as(g)) / divisor.view((-1,) + (1,) * (g.dim() - 1)) for name, g in summed.items()
    }


def seed_for_noise(seed: int) -> int:
    """A noise seed derived from a model's seed, independent of the stream its Poisson
    sampling draws from the same seed (two generators seeded alike would reuse one stream)."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


def _linear(layer: nn.Linear, a: torch.Tensor, g: torch.Tensor) -> LayerParts:
    g_sq = g.square().sum(-1)
    sq = a.square().sum(-1) * g_sq + (g_sq if layer.bias is not None else 0)

    def clipped(factor: torch.Tensor) -> dict[str, torch.Tensor]:
        weighted = g * factor.unsqueeze(-1)
        out = {"weight": torch.bmm(weighted.transpose(1, 2), a)}
        if layer.bias is not None:
            out["bias"] = weighted.sum(1)
        return out

    return sq, clipped


def _conv2d(layer: nn.Conv2d, a: torch.Tensor, g: torch.Tensor) -> LayerParts:
    m, b = a.shape[:2]
    unfold = {"dilation": layer.dilation, "padding": layer.padding, "stride": layer.stride}
    columns = F.unfold(a.flatten(0, 1), layer.kernel_size, **unfold)  # [M * B, in channels * kernel, output pixels]
    g_flat = g.flatten(3)  # [M, B, out channels, output pixels]
    per_example = {"weight": torch.einsum("not,nkt->nok", g_flat.flatten(0, 1), columns).view(m, b, -1)}
    if layer.bias is not None:
        per_example["bias"] = g_flat.sum(-1)
    return _materialised(layer, per_example)


def _group_norm(layer: nn.GroupNorm, a: torch.Tensor, g: torch.Tensor) -> LayerParts:
    normalised = F.group_norm(a.flatten(0, 1), layer.num_groups, eps=layer.eps).view_as(a)
    spatial = lambda t: t.flatten(3).sum(-1) if t.dim() > 3 else t  # [M, B, C, ...] -> [M, B, C]
    return _materialised(layer, {"weight": spatial(g * normalised), "bias": spatial(g)})


def _materialised(layer: nn.Module, per_example: dict[str, torch.Tensor]) -> LayerParts:
    """Parts from explicit per-example gradients ``[M, B, k]`` (small for conv and norm layers)."""
    sq = sum(g.square().sum(-1) for g in per_example.values())

    def clipped(factor: torch.Tensor) -> dict[str, torch.Tensor]:
        return {
            name: torch.bmm(factor.unsqueeze(1), g).squeeze(1).view(-1, *getattr(layer, name).shape)
            for name, g in per_example.items()
        }

    return sq, clipped


_RULES = {nn.Linear: _linear, nn.Conv2d: _conv2d, nn.GroupNorm: _group_norm}
