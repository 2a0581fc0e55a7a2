"""The data one model trains on, and its shuffled mini-batches (non-private training).

Data stay in memory as tensors and are subset with index arrays (a keep row selects a model's
training half), as airbench does: no ``DataLoader`` workers for data that fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TrainData:
    """Tensors on the training device: the model's training half and the test part."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def shuffled_batches(data: TrainData, batch_size: int, *, seed: int):
    """A callable yielding one epoch of shuffled mini-batches (the last one may be short)."""
    generator = torch.Generator().manual_seed(seed)
    n = len(data.y_train)

    def epoch():
        order = torch.randperm(n, generator=generator).to(data.y_train.device)
        for i in range(0, n, batch_size):
            index = order[i : i + batch_size]
            yield data.x_train[index], data.y_train[index]

    return epoch
