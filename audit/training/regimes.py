"""Training regimes: what a model minimises, and whether it is trained with DP-SGD.

A :class:`Regime` is one option of the single ``train`` function, never a parallel pipeline:

- ``standard``: mean cross-entropy (ERM).
- ``flood:b``: flooding (Ishida et al., ICML 2020) on the mini-batch mean,
  ``|mean_i l_i - b| + b``; below ``b`` the step becomes gradient ascent.
- ``iflood:b``: individual flooding (Xie et al., ICLR 2022), ``mean_i(|l_i - b| + b)``.
- ``dp:eps``: DP-SGD through Opacus at target epsilon (delta and clipping norm from the
  config). ``dp:eps+iflood:b`` combines it with per-example flooding.

Batch flooding with DP-SGD is refused: the sign of each example's gradient would depend on
the rest of the batch, which breaks the per-example sensitivity bound DP-SGD relies on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from audit.errors import AuditInputError
from results.records import RegimeParams
from results.vocabulary import RegimeKind

if TYPE_CHECKING:  # only tensor methods are called, so the module itself needs no torch
    import torch

OBJECTIVES = ("erm", "flood", "iflood")


@dataclass(frozen=True)
class Regime:
    """One training regime. ``epsilon`` None means non-private training."""

    objective: str = "erm"
    flood_level: float = 0.0
    epsilon: float | None = None
    delta: float | None = None
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise AuditInputError(f"unknown objective {self.objective!r}; choose one of {', '.join(OBJECTIVES)}")
        if not (math.isfinite(self.flood_level) and self.flood_level >= 0):
            raise AuditInputError(
                f"flood level must be a finite number >= 0, got {self.flood_level}: it is a training-loss value "
                "(try a value near the test loss of an unregularised model, e.g. 0.1 to 1.0)"
            )
        if self.objective != "erm" and self.flood_level == 0:
            raise AuditInputError(f"{self.objective} needs a flood level > 0 (flood level 0 is standard training)")
        if self.epsilon is not None:
            if not (math.isfinite(self.epsilon) and self.epsilon > 0):
                raise AuditInputError(
                    f"epsilon must be a finite number > 0, got {self.epsilon} (typical values: 1 to 10; "
                    "leave DP-SGD out of --regimes for non-private training)"
                )
            if self.objective == "flood":
                raise AuditInputError(
                    "flood cannot be combined with dp: batch flooding makes each example's gradient "
                    "depend on the whole batch, which breaks DP-SGD's per-example sensitivity; "
                    "use iflood (per-example flooding) with dp instead"
                )
            if not (math.isfinite(self.max_grad_norm) and self.max_grad_norm > 0):
                raise AuditInputError(
                    f"max_grad_norm must be a finite number > 0, got {self.max_grad_norm}: it is DP-SGD's per-example "
                    "clipping norm; set it with --max-grad-norm, e.g. --max-grad-norm 1.0"
                )

    @property
    def kind(self) -> RegimeKind:
        """``standard``, ``flood``, ``iflood`` or ``dp`` (the last wins for dp+iflood)."""
        if self.epsilon is not None:
            return RegimeKind.DP
        return RegimeKind.STANDARD if self.objective == "erm" else RegimeKind(self.objective)

    @property
    def is_private(self) -> bool:
        return self.epsilon is not None

    @property
    def label(self) -> str:
        """A short name used in tables and figures, e.g. ``flood(b=0.3)``, ``dp(eps=8)``."""
        parts = []
        if self.epsilon is not None:
            parts.append(f"dp(eps={self.epsilon:g})")
        if self.objective != "erm":
            parts.append(f"{self.objective}(b={self.flood_level:g})")
        return "+".join(parts) or "standard"

    @property
    def spec(self) -> str:
        """The text :func:`parse_regime` reads back, e.g. ``dp:8+iflood:0.2``."""
        parts = [f"dp:{self.epsilon:g}"] if self.epsilon is not None else []
        if self.objective != "erm":
            parts.append(f"{self.objective}:{self.flood_level:g}")
        return "+".join(parts) or "standard"

    def params(self) -> RegimeParams:
        """The numeric settings that describe this regime (None where they do not apply)."""
        private = self.epsilon is not None
        return RegimeParams(
            flood_level=self.flood_level if self.objective != "erm" else None,
            epsilon=self.epsilon,
            delta=self.delta if private else None,
            max_grad_norm=self.max_grad_norm if private else None,
        )

    def objective_loss(self, per_example_loss: torch.Tensor) -> torch.Tensor:
        """The scalar to minimise, from per-example cross-entropy ``[batch]``."""
        if self.objective == "flood":
            return (per_example_loss.mean() - self.flood_level).abs() + self.flood_level
        if self.objective == "iflood":
            return ((per_example_loss - self.flood_level).abs() + self.flood_level).mean()
        return per_example_loss.mean()


def parse_regime(text: str, *, delta: float | None = None, max_grad_norm: float = 1.0) -> Regime:
    """Parse ``standard``, ``flood:B``, ``iflood:B``, ``dp:EPS`` or ``dp:EPS+iflood:B``."""
    objective, flood_level, epsilon = "erm", 0.0, None
    for part in text.strip().lower().split("+"):
        name, _, value = part.partition(":")
        name = name.strip()
        if name == "standard" and not value:
            continue
        if name not in ("flood", "iflood", "dp"):
            raise AuditInputError(
                f"unknown regime {text!r}; use standard, flood:B, iflood:B, dp:EPS or dp:EPS+iflood:B"
            )
        try:
            number = float(value)
        except ValueError:
            raise AuditInputError(f"regime {text!r} needs a number after '{name}:' (e.g. {name}:0.3)") from None
        if name == "dp":
            epsilon = number
        else:
            objective, flood_level = name, number
    return Regime(
        objective=objective,
        flood_level=flood_level,
        epsilon=epsilon,
        delta=delta if epsilon is not None else None,
        max_grad_norm=max_grad_norm,
    )
