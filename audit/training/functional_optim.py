"""Adam and SGD with momentum for a stack of M models, vectorised over the model axis.

Every tensor here has the model axis first (``[M, *parameter_shape]``). The update rules are
those of ``torch.optim.Adam`` (Kingma & Ba, ICLR 2015, with L2 weight decay added to the
gradient, not AdamW's decoupled decay) and ``torch.optim.SGD(momentum=0.9)`` (heavy ball,
no dampening, no Nesterov), so that model ``m`` of the stack follows the trajectory the
sequential ``train()`` gives it. SGD runs op for op as torch's single-tensor form (bit for
bit when every model takes every step). Adam runs torch's fused kernel
(``torch.optim.adam.adam(fused=True)``, one pass over each tensor): on a 2-core CPU the
single-tensor form's seven passes took 4.5 ms per step of 9 demo MLPs against 1.5 ms, the
largest cost of a step; it differs from the single-tensor form by float rounding (about
1e-7 per step), and gives each model the same bits whichever models it is stacked with.

``active[m]`` says whether model m takes this step: a model whose epoch has no batch left,
or whose Poisson batch is empty, keeps its parameters and optimiser state (Adam's step
count included) untouched, as the sequential loop does by skipping the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch.optim.adam import adam as adam_update

from audit.training.recipe import TrainRecipe

SGD_MOMENTUM = 0.9  # what audit.training.loop._make_optimizer uses
ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults, as in the sequential path
ADAM_EPS = 1e-8


@dataclass
class StackedOptimizer:
    """Optimiser state for stacked parameters; :meth:`step` updates them in place.

    ``kind``: ``adam`` or ``sgd``; ``state`` holds, per parameter name, Adam's first and
    second moments or SGD's momentum buffer (each ``[M, *shape]``); ``steps``: each model's
    Adam step count.
    """

    kind: str
    learning_rate: float
    weight_decay: float
    state: dict[str, tuple[torch.Tensor, ...]] = field(default_factory=dict)
    steps: list[int] = field(default_factory=list)

    @torch.no_grad()
    def step(self, params: dict[str, torch.Tensor], grads: dict[str, torch.Tensor], *, active: Sequence[bool]) -> None:
        """One update of every active model. ``params``/``grads``: name -> ``[M, *shape]``."""
        if not self.state:
            for name, param in params.items():
                self.state[name] = tuple(torch.zeros_like(param) for _ in range(2 if self.kind == "adam" else 1))
            self.steps = [0] * len(active)
        if self.kind == "adam":
            self._adam(params, grads, active)
            return
        # Only when some model sits this step out are the updates masked (one more pass each).
        mask = None if all(active) else torch.tensor(list(active), device=next(iter(params.values())).device)
        for name, param in params.items():
            grad = grads[name]
            if self.weight_decay:
                grad = grad.add(param, alpha=self.weight_decay)
            self._sgd(param, grad, self.state[name], mask)

    def _adam(self, params, grads, active) -> None:
        """One fused Adam update of each active model's parameter slices, with its own step
        count. Slices, not the whole stacks: the kernel rounds the last elements of a tensor
        (those past its vector width) on another path than the rest, so a model's bits would
        otherwise depend on how many models share its stack."""
        names = list(params)
        # The fused kernel walks each tensor's memory in order: a gradient autograd left
        # transposed must be laid out as its parameter is.
        grads = {n: grads[n].contiguous() for n in names}
        on = [m for m, a in enumerate(active) if a]
        device = next(iter(params.values())).device
        tensors = [
            [stack[m] for m in on for stack in stacks]
            for stacks in (
                [params[n] for n in names],
                [grads[n] for n in names],
                [self.state[n][0] for n in names],
                [self.state[n][1] for n in names],
            )
        ]
        # The kernel adds this step to its own copy of each count: the counts before it.
        counts = [torch.full((), float(self.steps[m]), device=device) for m in on for _ in names]
        beta1, beta2 = ADAM_BETAS
        adam_update(
            *tensors,
            [],
            counts,
            fused=True,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=self.learning_rate,
            weight_decay=self.weight_decay,
            eps=ADAM_EPS,
            maximize=False,
        )
        self.steps = [s + bool(a) for s, a in zip(self.steps, active)]

    def _sgd(self, param, grad, state, mask) -> None:
        # torch.optim.SGD starts the buffer as a copy of the first gradient, which is exactly
        # ``0.9 * 0 + grad``: a zero buffer needs no first-step special case.
        (buffer,) = state
        if mask is None:
            buffer.mul_(SGD_MOMENTUM).add_(grad)
            param.add_(buffer, alpha=-self.learning_rate)
            return
        on = _per_model(mask, param)
        buffer.copy_(torch.where(on, buffer * SGD_MOMENTUM + grad, buffer))
        param.copy_(torch.where(on, param - self.learning_rate * buffer, param))


def stacked_optimizer(recipe: TrainRecipe) -> StackedOptimizer:
    """The optimiser ``recipe`` names (``adam`` or ``sgd``), with its learning rate and decay."""
    return StackedOptimizer(kind=recipe.optimizer, learning_rate=recipe.learning_rate, weight_decay=recipe.weight_decay)


def _per_model(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``[M]`` values shaped to broadcast over ``[M, *shape]``."""
    return values.view((-1,) + (1,) * (like.dim() - 1))
