"""Architectures by name: ``create_model(name, input_shape=..., num_classes=...)``."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from models.architectures import MLP, SmallCNN
from models.resnet import ResNet

_ARCHITECTURES: dict[str, tuple[Callable[..., nn.Module], str]] = {
    "mlp": (MLP, "fully connected, two hidden layers of 256 (tabular data, small images)"),
    "cnn": (SmallCNN, "small CNN with GroupNorm (images)"),
    "resnet": (ResNet, "ResNet-20-style residual CNN with GroupNorm (images, e.g. CIFAR-10)"),
}


def available_architectures() -> dict[str, str]:
    """Registered architecture names with a one-line description each."""
    return {name: description for name, (_, description) in _ARCHITECTURES.items()}


def create_model(name: str, *, input_shape: tuple[int, ...], num_classes: int, **options) -> nn.Module:
    """Build a freshly initialised model; the caller seeds torch for reproducibility.

    Raises ``ValueError`` naming the valid choices for an unknown ``name``.
    """
    if name not in _ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of: {', '.join(_ARCHITECTURES)}")
    factory, _ = _ARCHITECTURES[name]
    return factory(input_shape=tuple(input_shape), num_classes=num_classes, **options)
