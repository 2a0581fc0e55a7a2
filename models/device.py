"""Running a model fast on its device, without changing what it computes on the CPU.

On CUDA, convolutional nets run faster in channels-last memory format (NHWC, the layout
tensor cores read), and the training forward and backward passes can run under bf16
autocast. On the CPU both are no-ops: the audit's results there stay bit-for-bit as before.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn


def prepare_for_device(model: nn.Module, device: torch.device | str) -> nn.Module:
    """``model`` moved to ``device`` (in place, as ``nn.Module.to`` does) and returned; on CUDA
    a model with any ``Conv2d`` also goes channels-last. Parameters stay the same objects, so
    an optimizer made before still holds them; inputs ``[B, C, H, W]`` may stay contiguous
    (convolutions convert them) or be made channels-last too, which saves that conversion."""
    device = torch.device(device)
    model = model.to(device)
    if device.type == "cuda" and any(isinstance(m, nn.Conv2d) for m in model.modules()):
        model = model.to(memory_format=torch.channels_last)
    return model


def training_autocast(device: torch.device | str, *, private: bool) -> contextlib.AbstractContextManager:
    """The context for a training step's forward pass (the backward follows its dtypes).

    bf16 autocast on a CUDA device that supports it, for non-private training only: DP-SGD
    clips per-example gradient norms, and bf16's 8-bit mantissa would put each norm off by up
    to ~0.4%, so a clipped gradient could exceed the clipping bound the privacy analysis
    assumes. The loss (cross-entropy, autocast runs it in float32) and everything the attacks
    read (the logits of eval passes, computed outside this context) stay float32.
    Elsewhere a context that does nothing.
    """
    device = torch.device(device)
    if device.type == "cuda" and not private and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()
