"""M models of one architecture run as one: stacked parameters and a single module skeleton.

Parameters are stacked along a leading model axis (``torch.func.stack_module_state``) and the
architecture runs on one skeleton module in one of three ways:

- ``vmap``: ``torch.vmap`` over the model axis (one batched matmul / grouped convolution per
  layer): the choice on a GPU, where a prototype measured about 3.6x the images/s of one
  model at a time at M = 16 (ResNet-20, H200; /work/shared/REFERENCES.md);
- ``loop``: one ``functional_call`` per model slice of the same stacked tensors, the choice
  on a CPU. There a grouped convolution over M = 8 models is 1.3-3x slower than 8 plain ones
  (the small CNN's layers at batch 64, torch 2.14, 1 thread), a vmapped small CNN trains at
  half the speed of the loop, and even the MLP's batched matmuls gain nothing (0.38 s
  against 0.34 s for 8 models x 3 epochs on digits). Everything around the forward and
  backward pass (batch assembly, objective, clipping, noise, optimiser, per-epoch figures)
  stays vectorised over the model axis whichever way runs it;
- ``chain``: for architectures that are a plain chain of Linear layers and element-wise
  activations (the MLP), the loop's arithmetic without ``functional_call``: plain
  ``F.linear`` calls on each model's parameter slices (:mod:`audit.training.linear_chain`).
  The choice on a CPU wherever it applies; the same bits as ``loop``.

Architectures whose training updates state other than parameters (BatchNorm running
statistics, any buffer) or draws random numbers (dropout) cannot be stacked this way:
:func:`ensemble_refusal` names the reason, and the caller trains such models one at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from audit.training.linear_chain import chain_logits, linear_chain

VECTORISE = ("auto", "vmap", "loop", "chain")


class EnsembleUnsupported(ValueError):
    """The architecture cannot train as a stacked ensemble; train it with ``train()``."""


def ensemble_refusal(model: nn.Module) -> str | None:
    """Why ``model`` cannot be stacked into an ensemble, or None when it can.

    Cheap and structural: buffers (e.g. BatchNorm running statistics) change during training
    and are not parameters the ensemble carries; dropout draws random numbers per model;
    torch.fx-rewritten models (DP-SGD of architectures with in-place operations) each have
    their own class.
    """
    if isinstance(model, torch.fx.GraphModule):
        # make_dp_compatible's out-of-place rewrite: every traced copy is a class of its own,
        # and torch.func stacks only modules of one class.
        return "DP-SGD's torch.fx rewrite (in-place operations made out-of-place) gives every model a class of its own"
    buffers = [name for name, _ in model.named_buffers()]
    if buffers:
        return (
            f"it has buffers that training may update ({', '.join(buffers[:3])}{', ...' if len(buffers) > 3 else ''}; "
            "e.g. BatchNorm running statistics); use GroupNorm, or train the models one at a time"
        )
    dropout = [name for name, module in model.named_modules() if isinstance(module, nn.modules.dropout._DropoutNd)]
    if dropout:
        return f"it uses dropout ({dropout[0]}), whose random draws the ensemble does not reproduce"
    return None


def supports_ensemble(model: nn.Module) -> bool:
    """True when ``model``'s architecture can train as a stacked ensemble."""
    return ensemble_refusal(model) is None


def choose_vectorise(vectorise: str, device: torch.device, model: nn.Module) -> str:
    """Resolve ``auto`` for ``model``'s architecture: ``vmap`` on a GPU; elsewhere ``chain``
    when the architecture is a chain of Linear layers, else ``loop`` (see the module doc)."""
    if vectorise not in VECTORISE:
        raise ValueError(f"unknown vectorise mode {vectorise!r}; choose one of {', '.join(VECTORISE)}")
    if vectorise == "chain" and linear_chain(model) is None:
        raise ValueError(f"{type(model).__name__} is not a chain of Linear layers and activations; use loop or vmap")
    if vectorise != "auto":
        return vectorise
    if device.type == "cuda":
        return "vmap"
    return "chain" if linear_chain(model) is not None else "loop"


class StackedModel:
    """``M`` models of one architecture: ``params`` name -> ``[M, *shape]`` and a skeleton.

    ``layers``: the modules that own parameters directly, by name (what per-example
    gradient code needs to know about each parameter).
    """

    def __init__(self, models: Sequence[nn.Module], *, vectorise: str):
        reason = ensemble_refusal(models[0])
        if reason is not None:
            raise EnsembleUnsupported(f"{type(models[0]).__name__} cannot train as an ensemble: {reason}")
        shapes = {name: p.shape for name, p in models[0].named_parameters()}
        for model in models[1:]:
            if {name: p.shape for name, p in model.named_parameters()} != shapes:
                raise ValueError("every model of an ensemble must have the same architecture and parameter shapes")
        params, _ = stack_module_state(list(models))
        self.params = {name: p.detach().clone() for name, p in params.items()}
        self.skeleton = copy.deepcopy(models[0]).train()
        self.layers = {
            name: m for name, m in self.skeleton.named_modules() if any(True for _ in m.parameters(recurse=False))
        }
        self.vectorise = vectorise
        self._chain = linear_chain(self.skeleton) if vectorise == "chain" else None
        self._taps: dict[str, torch.Tensor] = {}
        self._inputs: dict[str, torch.Tensor] = {}

    @property
    def num_models(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def logits(self, params: dict[str, torch.Tensor], x: torch.Tensor, *, shared: bool = False) -> torch.Tensor:
        """Logits ``[M, B, C]``; ``x`` is ``[M, B, ...]`` (one batch per model) or, with
        ``shared``, ``[B, ...]`` given to every model."""
        if self.vectorise == "vmap":
            return torch.vmap(self._call, in_dims=(0, None if shared else 0))(params, x)
        if self._chain is not None:
            return chain_logits(self._chain, params, x, shared=shared)
        return torch.stack([self._call(p, x if shared else x[m]) for m, p in enumerate(self._unbind(params))])

    def logits_with_taps(
        self, params: dict[str, torch.Tensor], x: torch.Tensor, taps: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Logits ``[M, B, C]`` with ``taps[layer]`` (zeros ``[M, B, *layer output]``) added
        to each layer's output, so that the gradient of a loss with respect to a tap is its
        gradient with respect to that layer's output; also each layer's input
        ``[M, B, *layer input]`` (detached). Both are what per-example gradients are made of
        (Goodfellow, 2015: the per-example gradient of a linear layer is an outer product of
        the two).
        """
        if self.vectorise == "vmap":
            return torch.vmap(self._call_with_taps)(params, x, taps)
        if self._chain is not None:
            inputs: dict[str, torch.Tensor] = {}
            return chain_logits(self._chain, params, x, shared=False, taps=taps, inputs=inputs), inputs
        outputs = [
            self._call_with_taps(p, x[m], t) for m, (p, t) in enumerate(zip(self._unbind(params), self._unbind(taps)))
        ]
        logits = _stack([logits for logits, _ in outputs])
        return logits, {name: _stack([inputs[name] for _, inputs in outputs]) for name in self.layers}

    def layer_shapes(self, example: torch.Tensor) -> dict[str, tuple[torch.Size, torch.Size] | None]:
        """Per-example (input, output) shapes of every parametrised layer that one forward
        pass of ``example`` (``[1, ...]``) calls, None for a layer it calls more than once."""
        shapes = {}

        def record(name, module, inputs, output):
            shapes[name] = None if name in shapes else (inputs[0].shape[1:], output.shape[1:])

        handles = [layer.register_forward_hook(_named(record, name)) for name, layer in self.layers.items()]
        try:
            with torch.no_grad():
                functional_call(self.skeleton, {k: v[0] for k, v in self.params.items()}, (example,))
        finally:
            for handle in handles:
                handle.remove()
        return shapes

    def modules(self) -> list[nn.Module]:
        """The M models as plain modules in eval mode (``models.save_weights`` works on them)."""
        models = []
        for m in range(self.num_models):
            model = copy.deepcopy(self.skeleton).eval()
            with torch.no_grad():
                for name, param in model.named_parameters():
                    param.copy_(self.params[name][m])
            models.append(model)
        return models

    def _call(self, params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.skeleton, params, (x,))

    def _call_with_taps(self, params, x, taps):
        self._taps, self._inputs = taps, {}
        handles = [layer.register_forward_hook(_named(self._tap, name)) for name, layer in self.layers.items()]
        try:
            logits = functional_call(self.skeleton, params, (x,))
        finally:
            for handle in handles:
                handle.remove()
            self._taps = {}
        return logits, self._inputs

    def _tap(self, name, module, inputs, output):
        self._inputs[name] = inputs[0].detach()
        return output + self._taps[name]

    def _unbind(self, stacked: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Per-model slices of stacked tensors (parameters, taps). ``unbind``, not indexing:
        backward then stacks the M gradients once, where M indexings would each scatter
        into a zero tensor of the full stacked size (M times the memory traffic)."""
        names = list(stacked)
        return [dict(zip(names, slices)) for slices in zip(*(stacked[name].unbind(0) for name in names))]


def _stack(tensors: list[torch.Tensor]) -> torch.Tensor:
    """``torch.stack``, without a copy for a single tensor (the trainer's model-by-model chunks)."""
    return tensors[0].unsqueeze(0) if len(tensors) == 1 else torch.stack(tensors)


def _named(hook, name):
    """A forward hook that also receives the layer's name."""
    return lambda module, inputs, output: hook(name, module, inputs, output)
