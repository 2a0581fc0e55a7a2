"""Architectures by name: ``create_model(name, input_shape=..., num_classes=..., options=...)``.

A name is one of three kinds of spec:

- a built-in architecture: ``mlp``, ``cnn``, ``resnet`` (:func:`available_architectures`);
- ``torchvision:NAME``: any classification model of ``torchvision.models`` (``torchvision:resnet18``),
  untrained (``weights=None``) with the data set's class count;
- ``package.module:factory``: the user's own function or class, imported (which runs the
  module's top-level code, as a Python import does) and called as
  ``factory(num_classes=N, input_shape=SHAPE, **options)``.

Options are keyword arguments of the builder (``{"width": 32}`` for ``cnn``); an option it does
not accept is refused with the list of those it does. Every problem is one
:class:`~models.errors.ArchitectureError` line naming the spec.

    >>> create_model("cnn", input_shape=(1, 8, 8), num_classes=10, options={"width": 8})(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from models.architectures import MLP, SmallCNN
from models.builders import (
    Builder,
    class_builder,
    factory_builder,
    torchvision_builder,
    torchvision_names,
)
from models.errors import ArchitectureError, describe
from models.identity import architecture_identity
from models.resnet import ResNet

_ARCHITECTURES: dict[str, tuple[type[nn.Module], str]] = {
    "mlp": (MLP, "fully connected, two hidden layers of 256 (tabular data, small images)"),
    "cnn": (SmallCNN, "small CNN with GroupNorm (images)"),
    "resnet": (ResNet, "ResNet-20-style residual CNN with GroupNorm (images, e.g. CIFAR-10)"),
}
_SPEC_FORMS = "torchvision:NAME (e.g. torchvision:resnet18) or package.module:factory"
# Set from the data set for every spec, never by an option.
_FROM_DATA = ("num_classes", "input_shape")


def available_architectures() -> dict[str, str]:
    """Built-in architecture names with a one-line description each (besides these, any
    ``torchvision:NAME`` or ``package.module:factory`` spec)."""
    return {name: description for name, (_, description) in _ARCHITECTURES.items()}


def create_model(
    name: str, *, input_shape: tuple[int, ...], num_classes: int, options: Mapping[str, Any] | None = None
) -> nn.Module:
    """Build a freshly initialised model of spec ``name`` (see the module docstring) for inputs
    ``[batch, *input_shape]`` and logits ``[batch, num_classes]``; the caller seeds torch for
    reproducibility. Runs the builder's code: a user factory's module is imported on first use.

    Raises :class:`ArchitectureError` for an unknown name, an option the builder does not
    accept, a builder that fails, or one that returns something other than an ``nn.Module``.
    """
    builder = _resolve(name)
    options = _checked_options(builder, options)
    failures = Exception if builder.user_code else (ValueError, TypeError)
    try:
        model = builder.build(input_shape=tuple(input_shape), num_classes=num_classes, options=options)
    except ArchitectureError:
        raise
    except failures as error:
        fix = (
            "fix the builder or its options"
            if builder.user_code
            else "pick an architecture that fits these inputs (mlp: any; cnn, resnet: images [channels, H, W]) or change its options"
        )
        raise ArchitectureError(
            f"architecture {name!r}{_with(options)} cannot be built for inputs {tuple(input_shape)} and "
            f"{num_classes} classes: {describe(error)}; {fix}"
        ) from None
    if not isinstance(model, nn.Module):
        raise ArchitectureError(
            f"architecture {name!r} returned an object of type {type(model).__name__}, not a torch.nn.Module: "
            "make the factory return the model itself (an nn.Module)"
        )
    return model


def check_architecture_spec(name: str, options: Mapping[str, Any] | None) -> None:
    """The checks that need no data: the spec resolves (a factory's module is imported, which
    runs its top-level code; ``torchvision:NAME`` imports torchvision) and every option is one
    its builder accepts. Builds nothing: :func:`check_architecture` does, once the data's
    shape is known. Raises :class:`ArchitectureError`.

        >>> check_architecture_spec("cnn", {"layers": 3})
        Traceback (most recent call last):
        ...
        models.errors.ArchitectureError: unknown option 'layers' for architecture 'cnn'; it accepts: width
    """
    _checked_options(_resolve(name), options)


def check_architecture(
    name: str, options: Mapping[str, Any] | None, *, input_shape: tuple[int, ...], num_classes: int
) -> dict:
    """Validate a spec before anything trains; returns its :func:`architecture_identity`.

    Builds the model once on the CPU (torch's global random state is left as it was) and runs
    a zero batch ``[2, *input_shape]`` through it in training and in eval mode: each must give
    a tensor of logits ``[2, num_classes]`` (models with auxiliary heads, like torchvision's
    googlenet, return more while training). Raises :class:`ArchitectureError` otherwise.
    """
    with torch.random.fork_rng(devices=[]):
        model = create_model(name, input_shape=input_shape, num_classes=num_classes, options=options)
        batch = torch.zeros(2, *input_shape)
        for training in (True, False):
            mode = "training" if training else "eval"
            model.train(training)
            try:
                with torch.no_grad():
                    logits = model(batch)
            except Exception as error:  # noqa: BLE001 - the architecture's own code: any failure is bad input
                raise ArchitectureError(
                    f"architecture {name!r}{_with(options)} fails on a batch of inputs of shape {tuple(input_shape)} "
                    f"in {mode} mode: {describe(error)}"
                ) from None
            if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, num_classes):
                got = f"shape {list(logits.shape)}" if isinstance(logits, torch.Tensor) else f"a {type(logits).__name__}"
                raise ArchitectureError(
                    f"architecture {name!r}{_with(options)} returns {got} in {mode} mode for a batch of 2, not logits "
                    f"[2, {num_classes}] (one per class of the data set); turn off auxiliary outputs with an option "
                    "(e.g. aux_logits=False) and build the last layer with num_classes"
                )
    return architecture_identity(model, name=name, options=options)


def _resolve(name: str) -> Builder:
    if not isinstance(name, str):
        raise ArchitectureError(f"architecture must be a string, got {name!r}")
    if name in _ARCHITECTURES:
        return class_builder(name, _ARCHITECTURES[name][0])
    if name.startswith("torchvision:"):
        return torchvision_builder(name)
    if ":" in name:
        return factory_builder(name)
    close = difflib.get_close_matches(name, list(_ARCHITECTURES), n=1, cutoff=0.6)
    if name in torchvision_names():
        close = [f"torchvision:{name}"]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ArchitectureError(
        f"unknown architecture {name!r}; choose one of: {', '.join(_ARCHITECTURES)}, or {_SPEC_FORMS}{hint}"
    )


def _checked_options(builder: Builder, options: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(options or {})
    for key in options:
        if not isinstance(key, str) or not key.isidentifier():
            raise ArchitectureError(f"option names of architecture {builder.spec!r} must be identifiers, got {key!r}")
        if key in _FROM_DATA:
            raise ArchitectureError(
                f"option {key!r} of architecture {builder.spec!r} is set from the data set, not by an option: leave it out"
            )
        if builder.options is not None and key not in builder.options:
            close = difflib.get_close_matches(key, builder.options, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ArchitectureError(
                f"unknown option {key!r} for architecture {builder.spec!r}{hint}; it accepts: "
                f"{', '.join(builder.options) or 'no options'}"
            )
    return options


def _with(options: Mapping[str, Any] | None) -> str:
    """`` with options {...}`` for messages, or nothing when there are none."""
    return f" with options {dict(options)}" if options else ""
