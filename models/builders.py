"""How an architecture spec becomes a model: the keyword arguments a builder accepts, and
builders for ``torchvision:NAME`` and ``package.module:factory`` specs.

A :class:`Builder` knows how to call one spec's code and which options it accepts;
:func:`models.registry.create_model` checks the options and turns the builder's errors into
:class:`~models.errors.ArchitectureError`.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from models.errors import ArchitectureError, describe

# A dotted Python name: a module path or an attribute path inside a module.
_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


@dataclass(frozen=True)
class Builder:
    """One spec's code. ``build(input_shape=, num_classes=, options=)`` returns what that code
    returns (checked by the caller); ``options`` are the accepted option names, None when the
    code takes any keyword (``**kwargs``); ``user_code``: every error it raises is reported
    as bad input (a third-party builder or the user's factory), not only ``ValueError``."""

    spec: str
    build: Callable[..., Any]
    options: tuple[str, ...] | None
    user_code: bool


def keyword_parameters(function: Callable, *, fixed: set[str]) -> tuple[str, ...] | None:
    """Names ``function`` (or a class's ``__init__``) accepts as keywords, except ``fixed``;
    None when it takes ``**kwargs`` or has no signature to read."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keywords = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return tuple(p.name for p in parameters if p.kind in keywords and p.name not in fixed)


def torchvision_builder(spec: str) -> Builder:
    """``torchvision:NAME``: any classification builder of ``torchvision.models`` (resnet18,
    vgg11_bn, vit_b_16, ...), called with ``weights=None`` (trained from scratch, like every
    reference model) and ``num_classes``. Its options are the keywords of the model class the
    builder documents as receiving ``**kwargs`` (e.g. ``ResNet``: ``zero_init_residual``,
    ``width_per_group``, ...). The inputs must be RGB images ``[3, H, W]``."""
    import torchvision
    from torchvision import models

    name = spec.partition(":")[2]
    names = torchvision_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=4, cutoff=0.6)
        hint = f"close matches: {', '.join('torchvision:' + c for c in close)}" if close else "see torchvision.models.list_models()"
        raise ArchitectureError(
            f"unknown architecture {spec!r}: torchvision {torchvision.__version__} has no classification model {name!r}; {hint}"
        )
    builder = models.get_model_builder(name)

    def build(*, input_shape: tuple[int, ...], num_classes: int, options: dict) -> Any:
        if len(input_shape) != 3 or input_shape[0] != 3:
            raise ArchitectureError(
                f"architecture {spec!r} takes RGB images [3, H, W], but the data set's inputs have shape "
                f"{tuple(input_shape)}: use a package.module:factory architecture for other inputs"
            )
        return builder(weights=None, num_classes=num_classes, **options)

    return Builder(spec=spec, build=build, options=_torchvision_options(builder), user_code=True)


def torchvision_names() -> list[str]:
    """The classification models of ``torchvision.models`` (imports torchvision)."""
    from torchvision import models

    return models.list_models(module=models)


def factory_builder(spec: str) -> Builder:
    """``package.module:factory``: imports ``package.module`` and calls ``factory`` (a function
    or class; ``Outer.inner`` attribute paths work) as ``factory(num_classes=N,
    input_shape=SHAPE, **options)``, ``input_shape`` only when the factory's signature names it.

    Importing the module runs its top-level code, as any Python import does: name only modules
    you trust. It must be importable from the current directory or the installed packages.
    """
    module_name, _, attribute = spec.partition(":")
    if not _DOTTED.fullmatch(module_name) or not _DOTTED.fullmatch(attribute):
        raise ArchitectureError(
            f"architecture {spec!r} is neither a built-in name, torchvision:NAME nor package.module:factory"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - the user's module: any error while importing it is bad input
        hint = f" (name the module, not its file: {module_name[:-3]}:{attribute})" if module_name.endswith(".py") else ""
        raise ArchitectureError(
            f"architecture {spec!r}: cannot import module {module_name!r} ({describe(error)}){hint}; it must be "
            "importable from the current directory or the installed packages"
        ) from None
    factory: Any = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            public = [n for n in dir(factory) if not n.startswith("_") and callable(getattr(factory, n, None))]
            close = difflib.get_close_matches(part, public, n=3, cutoff=0.6)
            hint = f"; close matches: {', '.join(close)}" if close else ""
            raise ArchitectureError(f"architecture {spec!r}: module {module_name!r} has no attribute {attribute!r}{hint}")
        factory = getattr(factory, part)
    if not callable(factory):
        raise ArchitectureError(
            f"architecture {spec!r}: {attribute!r} is a {type(factory).__name__}, not a function or class that builds a model"
        )
    accepted = keyword_parameters(factory, fixed={"num_classes", "input_shape"})
    named = keyword_parameters(factory, fixed=set())
    if named is not None and "num_classes" not in named:
        raise ArchitectureError(
            f"architecture {spec!r}: the factory does not take num_classes (its keywords: {', '.join(named) or 'none'}); "
            "the audit builds every model for the data set's class count"
        )
    takes_input_shape = named is not None and "input_shape" in named

    def build(*, input_shape: tuple[int, ...], num_classes: int, options: dict) -> Any:
        if takes_input_shape:
            return factory(num_classes=num_classes, input_shape=tuple(input_shape), **options)
        return factory(num_classes=num_classes, **options)

    return Builder(spec=spec, build=build, options=accepted, user_code=True)


def class_builder(spec: str, cls: type[nn.Module]) -> Builder:
    """A built-in architecture class, called as ``cls(input_shape=, num_classes=, **options)``."""

    def build(*, input_shape: tuple[int, ...], num_classes: int, options: dict) -> nn.Module:
        return cls(input_shape=tuple(input_shape), num_classes=num_classes, **options)

    return Builder(spec=spec, build=build, options=keyword_parameters(cls, fixed={"input_shape", "num_classes"}), user_code=False)


def _torchvision_options(builder: Callable) -> tuple[str, ...] | None:
    """The builder's own keywords (besides ``weights`` and ``progress``) and those of the model
    class it returns, to which torchvision documents that ``**kwargs`` go. A keyword the builder
    sets itself (``ResNet``'s ``layers``) is still listed; passing it fails with Python's
    "multiple values" error, reported as an :class:`ArchitectureError`."""
    own = keyword_parameters(builder, fixed={"weights", "progress", "num_classes"}) or ()
    try:
        model_class = typing.get_type_hints(builder).get("return")
    except (NameError, TypeError, AttributeError):  # an annotation that does not resolve: no class to read the keywords of
        model_class = None
    if not isinstance(model_class, type):
        return None
    from_class = keyword_parameters(model_class, fixed={"num_classes"})
    return None if from_class is None else tuple(dict.fromkeys((*own, *from_class)))
