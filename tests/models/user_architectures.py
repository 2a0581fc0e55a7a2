"""Architectures as users write them, built in the tests by spec, e.g.
``tests.models.user_architectures:small_bn_cnn`` (the repository root is on ``sys.path``)."""

from __future__ import annotations

import torch
from torch import nn


def small_bn_cnn(*, num_classes: int, input_shape: tuple[int, ...], width: int = 8) -> nn.Module:
    """Conv, BatchNorm, in-place ReLU, global pooling, linear: ``[B, C, H, W]`` -> ``[B, num_classes]``.
    BatchNorm and the in-place ReLU are what DP-SGD cannot train as they are."""
    return nn.Sequential(
        nn.Conv2d(input_shape[0], width, kernel_size=3, padding=1),
        nn.BatchNorm2d(width),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, num_classes),
    )


class ResidualBN(nn.Module):
    """A residual block written like torchvision's (``out += identity``), for RGB images; its
    constructor takes no ``input_shape``, so it is built as ``ResidualBN(num_classes=N)``."""

    def __init__(self, *, num_classes: int, width: int = 8):
        super().__init__()
        self.stem = nn.Conv2d(3, width, kernel_size=3, padding=1)
        self.conv = nn.Conv2d(width, width, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.stem(x)
        out = self.bn(self.conv(identity))
        out += identity
        return self.head(torch.relu(out))


class BranchingResidual(ResidualBN):
    """Like :class:`ResidualBN`, with control flow on a tensor's value, which ``torch.fx`` cannot trace."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = self.stem(x)
        out = self.bn(self.conv(identity))
        if out.sum() > -1e30:
            out += identity
        return self.head(torch.relu(out))


class WithAuxiliaryHead(nn.Module):
    """Returns ``(logits, auxiliary logits)`` while training, like torchvision's googlenet."""

    def __init__(self, *, num_classes: int, input_shape: tuple[int, ...]):
        super().__init__()
        self.main = nn.Sequential(nn.Flatten(), nn.Linear(int(torch.tensor(input_shape).prod()), num_classes))
        self.aux = nn.Sequential(nn.Flatten(), nn.Linear(int(torch.tensor(input_shape).prod()), num_classes))

    def forward(self, x: torch.Tensor):
        return (self.main(x), self.aux(x)) if self.training else self.main(x)


class KeysStartWithModule(nn.Module):
    """A model whose own attribute is named ``module``, so every state_dict key starts with
    ``module.`` as if DataParallel had wrapped it."""

    def __init__(self, *, num_classes: int, input_shape: tuple[int, ...]):
        super().__init__()
        self.module = nn.Sequential(nn.Flatten(), nn.Linear(int(torch.tensor(input_shape).prod()), num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)


def returns_a_list(*, num_classes: int) -> list:
    return [num_classes]


def fails_to_build(*, num_classes: int) -> nn.Module:
    raise RuntimeError("the GPU kernel this model needs is missing")


def ignores_num_classes(*, num_classes: int, input_shape: tuple[int, ...]) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(int(torch.tensor(input_shape).prod()), 7))


def no_class_count(width: int = 8) -> nn.Module:
    return nn.Linear(width, 2)


NOT_A_FACTORY = 3
