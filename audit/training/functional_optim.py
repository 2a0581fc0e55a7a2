"""Adam and SGD with momentum for a stack of M models, vectorised over the model axis.

Every tensor here has the model axis first (``[M, *parameter_shape]``). The update rules are
those of ``torch.optim.Adam`` (Kingma & Ba, ICLR 2015, with L2 weight decay added to the
gradient, not AdamW's decoupled decay) and ``torch.optim.SGD(momentum=0.9)`` (heavy ball,
no dampening, no Nesterov) in their single-tensor form, op for op, so that model ``m`` of
the stack follows the trajectory the sequential ``train()`` gives it (bit for bit when
every model takes every step, as the CPU's single-tensor implementations compute).

``active[m]`` says whether model m takes this step: a model whose epoch has no batch left,
or whose Poisson batch is empty, keeps its parameters and optimiser state (Adam's step
count included) untouched, as the sequential loop does by skipping the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from audit.training.recipe import TrainRecipe

SGD_MOMENTUM = 0.9  # what audit.training.loop._make_optimizer uses
ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam's defaults, as in the sequential path
ADAM_EPS = 1e-8


@dataclass
class StackedOptimizer:
    """Optimiser state for stacked parameters; :meth:`step` updates them in place.

    ``kind``: ``adam`` or ``sgd``; ``state`` holds, per parameter name, Adam's first and
    second moments or SGD's momentum buffer (each ``[M, *shape]``); ``steps``: each model's
    Adam step count (Python ints, so bias corrections are computed in double precision
    as ``torch.optim.Adam`` computes them).
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
            self.steps = [0] * len(active)
            for name, param in params.items():
                self.state[name] = tuple(torch.zeros_like(param) for _ in range(2 if self.kind == "adam" else 1))
        self.steps = [s + bool(a) for s, a in zip(self.steps, active)]
        # Only when some model sits this step out are the updates masked (one more pass each).
        mask = None if all(active) else torch.tensor(list(active), device=next(iter(params.values())).device)
        for name, param in params.items():
            grad = grads[name]
            if self.weight_decay:
                grad = grad.add(param, alpha=self.weight_decay)
            if self.kind == "adam":
                self._adam(param, grad, self.state[name], mask)
            else:
                self._sgd(param, grad, self.state[name], mask)

    def _adam(self, param, grad, state, mask) -> None:
        beta1, beta2 = ADAM_BETAS
        exp_avg, exp_avg_sq = state
        if mask is None:
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        else:
            on = _per_model(mask, param)
            exp_avg.copy_(torch.where(on, exp_avg.lerp(grad, 1 - beta1), exp_avg))
            exp_avg_sq.copy_(torch.where(on, (exp_avg_sq * beta2).addcmul_(grad, grad, value=1 - beta2), exp_avg_sq))
        # Models that have not stepped yet are inactive; max(1, .) only avoids dividing by 0.
        corrections = [
            (self.learning_rate / (1 - beta1**s), (1 - beta2**s) ** 0.5) for s in (max(1, s) for s in self.steps)
        ]
        if mask is None and len(set(corrections)) == 1:
            step_size, bias_correction2_sqrt = corrections[0]
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
            param.addcdiv_(exp_avg, denom, value=-step_size)
            return
        step_size, bias_correction2_sqrt = (
            _per_model(torch.tensor(c, dtype=param.dtype, device=param.device), param) for c in zip(*corrections)
        )
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(ADAM_EPS)
        update = -step_size * exp_avg / denom
        param.copy_(param + update if mask is None else torch.where(_per_model(mask, param), param + update, param))

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
