"""A stack of M fully connected models run layer by layer, without ``functional_call``.

An architecture qualifies when its forward pass is a plain chain of ``nn.Linear`` layers,
``nn.Flatten`` and element-wise activations (the MLP of :mod:`models.architectures`, and any
user model of that form), as ``torch.fx`` traces it. Its M models then run as M lists of
plain ``F.linear`` calls on slices of the stacked parameters, instead of M
``functional_call``s that swap every parameter into the module and dispatch each layer
through ``nn.Module.__call__``: on a 2-core CPU the loop's overhead made a training step
of 9 demo MLPs about 1.2 times slower.

Each model's arithmetic is exactly the loop's and the sequential ``train()``'s (the same
``F.linear`` on the same tensors), so the result does not depend on which models train
together: one batched matrix multiply for all models (``baddbmm``) was about 10% faster
still, but its rounding changed with the number of models in the batch, and a model
retrained alone (a Ray task run again) would no longer match its first training bit for bit.

Shapes: parameters ``[M, *shape]`` as :class:`~audit.training.stacked_forward.StackedModel`
holds them; inputs ``[M, B, ...]`` (a batch per model) or ``[B, ...]`` shared by every
model; outputs ``[M, B, C]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
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
    added, and its input ``[M, B, *input]`` (detached) is recorded into ``inputs``: what
    :meth:`~audit.training.stacked_forward.StackedModel.logits_with_taps` returns.
    """
    models = next(iter(params.values())).shape[0]
    # ``unbind``, not indexing: backward then stacks each parameter's M gradients once.
    sliced = {name: p.unbind(0) for name, p in params.items()}
    h = [x] * models if shared else list(x.unbind(0))
    for step in steps:
        module = step.module
        if isinstance(module, nn.Linear):
            if inputs is not None:
                inputs[step.name] = torch.stack([t.detach() for t in h])
            weights, biases = sliced[f"{step.name}.weight"], sliced.get(f"{step.name}.bias")
            h = [F.linear(t, weights[m], None if biases is None else biases[m]) for m, t in enumerate(h)]
            if taps is not None:
                h = [t + tap for t, tap in zip(h, taps[step.name].unbind(0))]
        else:  # Flatten or an element-wise activation, as the module computes it
            h = [module(t) for t in h]
    return torch.stack(h)


def _supported(module: nn.Module) -> bool:
    if isinstance(module, nn.Flatten):
        return module.start_dim == 1 and module.end_dim == -1
    return isinstance(module, (nn.Linear, *ELEMENTWISE)) and not any(True for _ in module.buffers())
