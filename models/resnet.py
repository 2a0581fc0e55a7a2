"""A CIFAR-sized residual network (He et al., CVPR 2016, section 4.2) with GroupNorm.

The CIFAR ResNets of the paper have three stages of basic blocks at widths 16/32/64, the
last two halving the resolution, then global average pooling and one linear layer; depth
``6n + 2`` gives ``n`` blocks per stage (ResNet-20: n = 3). Two changes make it usable with
DP-SGD, following the DP literature (e.g. De et al., 2022):

- GroupNorm replaces BatchNorm, whose batch statistics mix examples and so break the
  per-example gradients DP-SGD clips (Opacus' ``ModuleValidator`` rejects BatchNorm).
- The shortcut that changes width or resolution is a 1x1 convolution plus GroupNorm
  (the paper's option B), a layer Opacus computes per-example gradients for.

ReLUs are not in-place: Opacus' backward hooks fail on tensors modified in place.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _group_norm(channels: int, max_groups: int) -> nn.GroupNorm:
    """GroupNorm with the largest group count <= ``max_groups`` that divides ``channels``."""
    return nn.GroupNorm(math.gcd(channels, max_groups), channels)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection: ``[B, c_in, H, W]`` ->
    ``[B, c_out, H / stride, W / stride]`` (rounded up)."""

    def __init__(self, c_in: int, c_out: int, *, stride: int, max_groups: int):
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(c_in, c_out, kernel_size=3, stride=stride, padding=1, bias=False),
            _group_norm(c_out, max_groups),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, kernel_size=3, padding=1, bias=False),
            _group_norm(c_out, max_groups),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, bias=False),
                _group_norm(c_out, max_groups),
            )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.branch(x) + self.shortcut(x))


class ResNet(nn.Module):
    """Residual CNN for small images: ``[B, C, H, W]`` -> logits ``[B, num_classes]``.

    Any channel count and size work; stages 2 and 3 each halve the resolution, so 8x8 digits
    end at 2x2 and 32x32 CIFAR images at 8x8 before the global average pooling.

    ``depth`` must be ``6n + 2`` (20 = ResNet-20, the default; 8 is the smallest, one block
    per stage). ``widths`` are the channel counts of the three stages; ``max_groups`` caps
    the GroupNorm group count (the largest divisor of each width up to it is used).

        >>> model = ResNet(input_shape=(3, 32, 32), num_classes=10)
        >>> model(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        *,
        input_shape: tuple[int, ...],
        num_classes: int,
        depth: int = 20,
        widths: tuple[int, int, int] = (16, 32, 64),
        max_groups: int = 8,
    ):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"ResNet needs image input (channels, H, W), got shape {tuple(input_shape)}")
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"ResNet depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, ...), got {depth}")
        if len(widths) != 3:
            raise ValueError(f"ResNet needs three stage widths, got {tuple(widths)}")
        blocks_per_stage = (depth - 2) // 6
        self.stem = nn.Sequential(
            nn.Conv2d(input_shape[0], widths[0], kernel_size=3, padding=1, bias=False),
            _group_norm(widths[0], max_groups),
            nn.ReLU(),
        )
        stages: list[nn.Module] = []
        c_in = widths[0]
        for stage, c_out in enumerate(widths):
            for block in range(blocks_per_stage):
                # The first block of stages 2 and 3 halves the resolution.
                stride = 2 if stage > 0 and block == 0 else 1
                stages.append(BasicBlock(c_in, c_out, stride=stride, max_groups=max_groups))
                c_in = c_out
        self.stages = nn.Sequential(*stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(self.stem(x)))
