"""A stack of M fully connected models run as batched matrix multiplies, one per layer.

An architecture qualifies when its forward pass is a plain chain of ``nn.Linear`` layers,
``nn.Flatten`` and element-wise activations (the MLP of :mod:`models.architectures`, and any
user model of that form), as ``torch.fx`` traces it. Its M models then need one
``baddbmm`` per layer instead of M ``functional_call``s each dispatching every layer: on a
2-core CPU, a training step (forward and backward) of the demo's 9 MLPs at batch 64 took
5.5 ms against 8.0 ms model by model, the difference being Python and dispatch overhead,
not arithmetic (benchmarks/training_speed.py measures the whole pool).

Shapes: parameters ``[M, *shape]`` as :class:`~audit.training.stacked_forward.StackedModel`
holds them; inputs ``[M, B, ...]`` (a batch per model) or ``[B, ...]`` shared by every
model; outputs ``[M, B, C]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

# Modules applied to each element independently: they act on a stacked tensor as on one model's.
ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.Identity)


@dataclass(frozen=True)
class ChainStep:
    """One module of the chain: its qualified name (as ``named_modules`` gives it) and the module."""

    name: str
    module: nn.Module


def linear_chain(model: nn.Module) -> list[ChainStep] | None:
    """The modules ``model``'s forward pass calls one after another, when it is a chain of
    ``nn.Linear``, ``nn.Flatten`` (from dimension 1) and :data:`ELEMENTWISE` modules each
    feeding the next; None for any other forward (convolutions, branches, functions called
    on tensors, a model ``torch.fx`` cannot trace)."""
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - any tracing failure just means "not a plain chain"
        return None
    modules = dict(model.named_modules())
    steps: list[ChainStep] = []
    previous = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if previous is not None:
                return None  # more than one input
            previous = node
        elif node.op == "call_module":
            module = modules[node.target]
            if node.args != (previous,) or node.kwargs or not _supported(module):
                return None
            steps.append(ChainStep(node.target, module))
            previous = node
        elif node.op == "output":
            if node.args != (previous,):
                return None
        else:
            return None
    if not any(isinstance(step.module, nn.Linear) for step in steps):
        return None
    return steps


def chain_logits(
    steps: list[ChainStep],
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    *,
    shared: bool,
    taps: dict[str, torch.Tensor] | None = None,
    inputs: dict[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Logits ``[M, B, C]`` of the stacked models ``params`` (name -> ``[M, *shape]``) on
    ``x``: ``[M, B, ...]``, or ``[B, ...]`` given to every model with ``shared``.

    With ``taps`` (layer name -> ``[M, B, *output]``), each Linear layer's output has its tap
    added, and its input (detached) is recorded into ``inputs``: what
    :meth:`~audit.training.stacked_forward.StackedModel.logits_with_taps` returns.
    """
    models = next(iter(params.values())).shape[0]
    h = x
    stacked = not shared
    for step in steps:
        module = step.module
        if isinstance(module, nn.Flatten):
            h = h.flatten(2 if stacked else 1)
        elif isinstance(module, nn.Linear):
            if not stacked:
                h, stacked = h.expand(models, *h.shape), True
            if inputs is not None:
                inputs[step.name] = h.detach()
            h = _linear(h, params[f"{step.name}.weight"], params.get(f"{step.name}.bias"))
            if taps is not None:
                h = h + taps[step.name]
        else:
            h = module(h)
    return h if stacked else h.expand(models, *h.shape)


def _linear(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``h [M, B, ..., in]`` times each model's ``weight [M, out, in]`` plus ``bias [M, out]``.

    Computed as ``(weight @ h^T)^T``, not ``h @ weight^T``: autograd then gives the weight's
    gradient laid out as the weight (``grad_out^T @ h``), where the other order leaves it
    transposed and the fused optimiser would need a copy of it at every step."""
    flat = h.reshape(h.shape[0], -1, h.shape[-1]).transpose(1, 2)
    if bias is None:
        out = torch.bmm(weight, flat)
    else:
        out = torch.baddbmm(bias.unsqueeze(2), weight, flat)
    out = out.transpose(1, 2)  # a view: the next layer multiplies it as it lies
    return out if h.dim() == 3 else out.reshape(*h.shape[:-1], weight.shape[1])


def _supported(module: nn.Module) -> bool:
    if isinstance(module, nn.Flatten):
        return module.start_dim == 1 and module.end_dim == -1
    return isinstance(module, (nn.Linear, *ELEMENTWISE)) and not any(True for _ in module.buffers())
