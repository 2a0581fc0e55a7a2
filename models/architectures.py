"""Architectures small enough to train many times on a CPU, all accepted by Opacus.

Normalisation layers are GroupNorm, never BatchNorm: BatchNorm mixes examples of a batch,
which breaks DP-SGD's per-example gradients (Opacus' ``ModuleValidator`` rejects it), and
using the same architecture for every regime keeps the comparison fair.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class MLP(nn.Module):
    """Fully connected classifier: input of any shape -> logits ``[batch, num_classes]``.

    ``hidden`` lists the widths of the hidden layers (ReLU between them).
    """

    def __init__(self, *, input_shape: tuple[int, ...], num_classes: int, hidden: tuple[int, ...] = (256, 256)):
        super().__init__()
        widths = [math.prod(input_shape), *hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class SmallCNN(nn.Module):
    """One to three conv blocks (conv, GroupNorm, ReLU, 2x2 max-pool) then a linear head.

    Input ``[batch, channels, H, W]`` with H, W >= 4 (8x8 digits: two blocks; 32x32 CIFAR:
    three). Output logits ``[batch, num_classes]``.
    """

    def __init__(self, *, input_shape: tuple[int, ...], num_classes: int, width: int = 16):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"SmallCNN needs image input (channels, H, W), got shape {input_shape}")
        channels, height, width_px = input_shape
        if min(height, width_px) < 4:
            raise ValueError(f"SmallCNN needs images of at least 4x4 pixels, got {height}x{width_px}")
        # Halve the resolution while at least 2x2 pixels remain, at most three times.
        blocks = min(3, int(math.log2(min(height, width_px))) - 1)
        layers: list[nn.Module] = []
        c_in = channels
        for i in range(blocks):
            c_out = width * 2**i
            layers += [
                nn.Conv2d(c_in, c_out, kernel_size=3, padding=1),
                nn.GroupNorm(min(8, c_out), c_out),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        out_h, out_w = height >> blocks, width_px >> blocks
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * out_h * out_w, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
