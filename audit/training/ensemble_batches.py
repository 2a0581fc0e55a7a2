"""Each model's own mini-batches for an ensemble, padded to one shape per step.

Model ``m`` trains on the candidate rows ``keep[m]`` selects (``n_m`` of them, in candidate
order, as ``split.pool_x[keep_row]`` gives the sequential path) and draws its batches from a
generator seeded with its own seed, with exactly the draws the sequential path makes:

- non-private: one ``torch.randperm(n_m)`` per epoch, cut into batches of ``batch_size``
  with a short last batch (:func:`audit.training.batches.shuffled_batches`);
- DP-SGD: Opacus' Poisson sampling, ``ceil(n_m / batch_size)`` steps per epoch, each taking
  every row with probability ``1 / ceil(n_m / batch_size)``
  (``UniformWithReplacementSampler`` behind the ``DataLoader`` that ``make_private`` wraps,
  which also draws one int64 worker seed from the same generator at the start of an epoch).

A model's batches therefore depend on its seed and keep row only, never on the other models.
Each :class:`Step` holds ``rows [M, b]`` (candidate indices) and ``valid [M, b]`` (False for
padding), ``b`` the largest batch of any model at that step, on the training device, and
``active`` (per model, on the host: does its batch hold any example). Padding points at a
real row, so padded examples compute finite values that the trainer then masks out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Step:
    """One step's batches of all models (see the module doc)."""

    rows: torch.Tensor
    valid: torch.Tensor
    active: list[bool]


@dataclass
class ModelRows:
    """Each model's training rows: ``rows [M, n_max]`` candidate indices (padded with the
    model's first row), ``sizes`` the ``n_m``."""

    rows: torch.Tensor
    sizes: list[int]

    @classmethod
    def from_keep(cls, keep: torch.Tensor) -> ModelRows:
        """From the keep matrix, bool ``[M, n]``; every row must keep at least one candidate."""
        members = [row.nonzero().flatten() for row in keep.cpu()]
        if any(len(m) == 0 for m in members):
            raise ValueError("every model of an ensemble needs at least one training example (a keep row is all False)")
        n_max = max(len(m) for m in members)
        rows = torch.stack([torch.cat([m, m[:1].expand(n_max - len(m))]) for m in members])
        return cls(rows=rows, sizes=[len(m) for m in members])


def batches_per_epoch(n: int, batch_size: int) -> int:
    """``ceil(n / batch_size)``: the sequential path's batches per epoch, and Opacus' steps."""
    return math.ceil(n / batch_size)


def poisson_sample_rate(n: int, batch_size: int) -> float:
    """Opacus' sample rate, ``1 / len(data_loader)`` (not ``batch_size / n``)."""
    return 1 / batches_per_epoch(n, batch_size)


def shuffled_epoch(
    model_rows: ModelRows, generators: list[torch.Generator], *, batch_size: int, device: torch.device
) -> list[Step]:
    """One epoch of each model's shuffled batches (short last batch), step by step."""
    sizes = model_rows.sizes
    steps = max(batches_per_epoch(n, batch_size) for n in sizes)
    positions = torch.zeros(len(sizes), steps * batch_size, dtype=torch.long)
    for m, (n, generator) in enumerate(zip(sizes, generators)):
        positions[m, :n] = torch.randperm(n, generator=generator)
    valid = torch.arange(steps * batch_size) < torch.tensor(sizes).unsqueeze(1)
    rows = model_rows.rows.gather(1, positions).to(device)
    on_device = valid.to(device)
    out = []
    for s in range(steps):
        width = min(batch_size, max(n - s * batch_size for n in sizes))
        span = slice(s * batch_size, s * batch_size + width)
        out.append(Step(rows[:, span], on_device[:, span], valid[:, span].any(1).tolist()))
    return out


def poisson_epoch(
    model_rows: ModelRows, generators: list[torch.Generator], *, batch_size: int, device: torch.device
) -> list[Step]:
    """One epoch of each model's Poisson-sampled batches, step by step (a model's batch may
    be empty; a model with fewer steps than another has all-padding batches at the end)."""
    sizes = model_rows.sizes
    steps = max(batches_per_epoch(n, batch_size) for n in sizes)
    chosen = torch.zeros(len(sizes), steps, max(sizes), dtype=torch.bool)
    for m, (n, generator) in enumerate(zip(sizes, generators)):
        torch.empty((), dtype=torch.int64).random_(generator=generator)  # the DataLoader's worker seed
        rate = poisson_sample_rate(n, batch_size)
        chosen[m, : int(1 / rate), :n] = torch.rand(int(1 / rate), n, generator=generator) < rate
    counts = chosen.sum(-1)  # [M, steps]
    # A stable sort puts each batch's rows first, in increasing order as Opacus lists them.
    order = torch.argsort((~chosen).to(torch.uint8), dim=-1, stable=True)
    out = []
    for s in range(steps):
        width = int(counts[:, s].max())
        rows = model_rows.rows.gather(1, order[:, s, :width])
        valid = torch.arange(width) < counts[:, s].unsqueeze(1)
        out.append(Step(rows.to(device), valid.to(device), (counts[:, s] > 0).tolist()))
    return out
