"""DP-SGD through Opacus: per-example clipping, Gaussian noise, Poisson sampling and the PRV
accountant, wrapped around a model and optimizer for :func:`audit.training.loop.train`.

Opacus needs a real ``DataLoader`` over a map-style dataset to apply Poisson sampling, and
``grad_sample_mode="hooks"``; only that combination matches the privacy analysis.

Any architecture can be trained: :func:`make_dp_compatible` first substitutes what Opacus
cannot train (BatchNorm, which mixes the examples of a batch, becomes GroupNorm; in-place
activations and in-place updates in the forward code, which its per-example gradient hooks
cannot follow, become out-of-place) and lists every substitution, so the report can say that
the DP-SGD model is not quite the architecture of the others.
"""

from __future__ import annotations

import copy
import itertools
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from audit.errors import AuditInputError, one_line
from audit.training.accounting import noise_multiplier
from audit.training.batches import TrainData
from audit.training.recipe import TrainRecipe

# How autograd words the errors in-place updates of a hooked layer's output cause.
_IN_PLACE_ERROR = re.compile(r"in-?place", re.IGNORECASE)
# The fix every "cannot be trained with DP-SGD" message names.
_NO_DP_FIX = (
    "pick an architecture without that layer with --arch (e.g. GroupNorm instead of BatchNorm), "
    "or leave DP-SGD out (--epsilons with no value, or no dp:EPS in --regimes)"
)


@dataclass
class DpCompatible:
    """A model DP-SGD can train, and what was changed to get it.

    ``substitutions``: one line per change, ``"OLD -> NEW at WHERE"``, e.g.
    ``"BatchNorm2d(64) -> GroupNorm(32, 64) at layer1.0.bn1"``; empty when the model was
    usable as built, and then ``model`` is the very model passed in.
    """

    model: nn.Module
    substitutions: list[str]


def make_dp_compatible(model: nn.Module, *, architecture: str, example_input: torch.Tensor) -> DpCompatible:
    """``model``, or a changed copy of it, that Opacus can train with per-example gradients.

    1. Every layer Opacus' ``ModuleValidator`` flags is replaced by its fixer (BatchNorm ->
       GroupNorm with ``gcd(32, channels)`` groups, LSTM -> DPLSTM, ...), freshly initialised;
       layers with ``inplace=True`` (torchvision's ReLUs) are switched to out-of-place.
    2. A probe: one forward and backward pass of ``example_input`` (``[k, *input_shape]``, on
       the model's device; real examples check more than zeros) through a copy wrapped the way
       Opacus wraps it, in training mode, must give every parameter a per-example gradient.
    3. If the probe fails on an in-place update in the forward code (``out += identity`` in
       torchvision's ResNet), the forward code is traced with ``torch.fx`` and rebuilt without
       in-place updates; it must compute the same logits on ``example_input`` and pass the probe.

    Call it before the optimizer is made: the parameters of a changed model are new tensors.
    Raises :class:`AuditInputError` naming the architecture when nothing makes it trainable.
    """
    compatible = _substitute_layers(model, architecture=architecture)
    failure = _probe(compatible.model, example_input)
    if failure is None:
        return compatible
    done = f" after {', '.join(summarise_substitutions(compatible.substitutions))}" if compatible.substitutions else ""
    if not _IN_PLACE_ERROR.search(str(failure)):
        raise AuditInputError(f"architecture {architecture!r} cannot be trained with DP-SGD{done}: {one_line(failure)}; {_NO_DP_FIX}")
    try:
        traced = _out_of_place(compatible.model, example_input)
    except Exception as error:  # noqa: BLE001 - tracing runs the architecture's own code: any failure means "cannot"
        raise AuditInputError(
            f"architecture {architecture!r} cannot be trained with DP-SGD{done}: {one_line(failure, 160)}; its forward "
            f"code updates a layer's output in place, and rewriting it with torch.fx failed ({one_line(error, 160)}): "
            "write such updates out of place (out = out + identity instead of out += identity)"
        ) from None
    failure = _probe(traced, example_input)
    if failure is not None:
        raise AuditInputError(f"architecture {architecture!r} cannot be trained with DP-SGD{done}: {one_line(failure)}; {_NO_DP_FIX}")
    rewrite = f"in-place tensor updates -> out-of-place (torch.fx) at {type(compatible.model).__name__}.forward"
    return DpCompatible(traced, [*compatible.substitutions, rewrite])


def summarise_substitutions(substitutions: list[str]) -> list[str]:
    """One line per kind of substitution with its count, in order of first appearance, e.g.
    ``["20 x BatchNorm2d -> GroupNorm", "9 x ReLU(inplace=True) -> ReLU"]``.

        >>> summarise_substitutions(["BatchNorm2d(64) -> GroupNorm(32, 64) at a", "BatchNorm2d(8) -> GroupNorm(8, 8) at b"])
        ['2 x BatchNorm2d -> GroupNorm']
    """
    # A kind is the substitution without its location and without positional sizes.
    kinds = Counter(re.sub(r"\((\d+(, )?)*\)", "", line.rsplit(" at ", 1)[0]) for line in substitutions)
    return [f"{count} x {kind}" for kind, count in kinds.items()]


def check_trainable_privately(model: nn.Module, recipe: TrainRecipe, *, sizes: Sequence[int]) -> None:
    """Refuse, as one line naming the fix, what DP-SGD cannot train: layers Opacus has no
    per-example gradients for, and ``delta`` not below ``1/n`` for every training-set size
    of ``sizes`` (one per model). Shared by :func:`make_private` and the vectorised path."""
    from opacus.validators import ModuleValidator

    errors = ModuleValidator.validate(model, strict=False)
    if errors:
        raise AuditInputError(
            f"architecture {recipe.architecture!r} cannot be trained with DP-SGD: {one_line(errors[0])}; {_NO_DP_FIX}"
        )
    n, delta = max(sizes), recipe.regime.delta
    if delta is None or not 0 < delta < 1 / n:
        raise AuditInputError(
            f"delta must be in (0, 1/n) = (0, {1 / n:.2g}) for {n} training examples, got {delta}: "
            f"lower --delta below {1 / n:.2g}, e.g. --delta {1 / (10 * n):.1g}"
        )


def make_private(model, optimizer, data: TrainData, recipe: TrainRecipe, *, seed: int):
    """Wrap model and optimizer with Opacus for DP-SGD at the regime's target epsilon.

    ``model`` must already be trainable by Opacus (from :func:`make_dp_compatible`), and
    ``optimizer`` hold its parameters. Returns the private model and optimizer, a callable
    yielding one epoch of Poisson-sampled batches, and a callable giving the epsilon spent so
    far (PRV accountant).
    """
    from opacus import PrivacyEngine

    regime = recipe.regime
    check_trainable_privately(model, recipe, sizes=[len(data.y_train)])
    dataset = torch.utils.data.TensorDataset(data.x_train, data.y_train)
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=recipe.batch_size, generator=torch.Generator().manual_seed(seed)
    )
    sigma = noise_multiplier(epsilon=regime.epsilon, delta=regime.delta, sample_rate=1 / len(loader), epochs=recipe.epochs)
    with warnings.catch_warnings():
        # Opacus warns that secure_mode is off (fine for an audit) and about full backward hooks.
        warnings.simplefilter("ignore")
        engine = PrivacyEngine(accountant="prv", secure_mode=False)
        private_model, private_optimizer, private_loader = engine.make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=sigma,
            max_grad_norm=regime.max_grad_norm,
            poisson_sampling=True,
            grad_sample_mode="hooks",
        )

    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield from private_loader

    return private_model, private_optimizer, epoch, lambda: float(engine.get_epsilon(regime.delta))


def _substitute_layers(model: nn.Module, *, architecture: str) -> DpCompatible:
    """Step 1 of :func:`make_dp_compatible`, on a deep copy when anything changes."""
    from opacus.validators import ModuleValidator

    flagged = _flagged_layers(model)
    in_place = [name for name, layer in model.named_modules() if getattr(layer, "inplace", None) is True]
    if not flagged and not in_place:
        return DpCompatible(model, [])
    model = copy.deepcopy(model)
    substitutions, replaced = [], []
    for name, error in flagged:
        if any(name.startswith(f"{outer}.") for outer in replaced):
            continue  # inside a layer already replaced as a whole
        old = model.get_submodule(name)
        fixer = ModuleValidator.FIXERS.get(type(old))
        if fixer is None:
            raise AuditInputError(
                f"architecture {architecture!r} cannot be trained with DP-SGD: {type(old).__name__} at {name or 'the top'} "
                f"has no substitute in Opacus ({one_line(error, 160)}); {_NO_DP_FIX}"
            )
        new = fixer(old)
        device = next(itertools.chain(old.parameters(), old.buffers()), torch.empty(0)).device
        model = _replace(model, name, new.to(device))
        substitutions.append(f"{_short(old)} -> {_short(new)} at {name or type(model).__name__}")
        replaced.append(name)
    for name in in_place:
        layer = model.get_submodule(name)
        before = _short(layer)
        layer.inplace = False
        substitutions.append(f"{before} -> {_short(layer)} at {name}")
    remaining = _flagged_layers(model)
    if remaining:
        name, error = remaining[0]
        raise AuditInputError(
            f"architecture {architecture!r} cannot be trained with DP-SGD even after "
            f"{', '.join(summarise_substitutions(substitutions))}: {one_line(error, 200)} (at {name or 'the top'}); {_NO_DP_FIX}"
        )
    return DpCompatible(model, substitutions)


def _flagged_layers(model: nn.Module) -> list[tuple[str, Exception]]:
    """``(name, first error)`` of every layer one of Opacus' ``ModuleValidator`` checks rejects
    (the per-layer checks only: its whole-model check that the model is in training mode is
    about how it is called, not what it is)."""
    from opacus.validators import ModuleValidator

    return [
        (name, errors[0])
        for name, layer in model.named_modules()
        if type(layer) in ModuleValidator.VALIDATORS and (errors := ModuleValidator.VALIDATORS[type(layer)](layer))
    ]


def _replace(model: nn.Module, name: str, new: nn.Module) -> nn.Module:
    """``model`` with its submodule ``name`` replaced by ``new`` (``""``: the model itself)."""
    if not name:
        return new
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, new)
    return model


def _short(layer: nn.Module) -> str:
    """``BatchNorm2d(64)``, ``GroupNorm(32, 64)``, ``ReLU(inplace=True)``: the layer's type with
    its positional sizes and its in-place flag, the settings a reader needs to recognise it."""
    parts = [part for part in layer.extra_repr().split(", ") if part and ("=" not in part or part == "inplace=True")]
    return f"{type(layer).__name__}({', '.join(parts)})"


def _probe(model: nn.Module, example_input: torch.Tensor) -> Exception | None:
    """Step 2 of :func:`make_dp_compatible`: the error a hooked training step of a copy of
    ``model`` raises, or None when every parameter got its per-example gradient."""
    from opacus import GradSampleModule

    probe = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus' notes on full backward hooks
        try:
            wrapped = GradSampleModule(probe, batch_first=True, loss_reduction="mean")
            wrapped.train()
            wrapped(example_input).float().sum().backward()
        except Exception as error:  # noqa: BLE001 - the architecture's own code under Opacus' hooks: any failure is the answer
            return error
    missing = [name for name, p in probe.named_parameters() if p.requires_grad and getattr(p, "grad_sample", None) is None]
    if missing:
        return RuntimeError(
            f"no per-example gradient for {len(missing)} parameters (first: {missing[0]}); is each used in forward()?"
        )
    return None


def _out_of_place(model: nn.Module, example_input: torch.Tensor) -> nn.Module:
    """Step 3 of :func:`make_dp_compatible`: ``model``'s forward code traced with ``torch.fx``,
    with every in-place operation replaced by its out-of-place form. ``symbolic_trace`` already
    records augmented assignments (``out += identity``) as ``add``; explicit in-place methods
    (``x.add_(y)``), functions (``torch.relu_``) and ``inplace=True`` arguments are rewritten.
    The traced module shares ``model``'s layers (same state_dict keys) and must compute the
    same logits on ``example_input`` in eval mode. Raises whatever tracing raises, or
    ``ValueError`` when the logits differ."""
    import torch.fx

    traced = torch.fx.symbolic_trace(model)
    for node in traced.graph.nodes:
        if node.op == "call_method" and _is_in_place(node.target):
            node.target = node.target[:-1]
        elif node.op == "call_function":
            name = getattr(node.target, "__name__", "")
            if _is_in_place(name) and getattr(torch, name, None) is node.target:
                node.target = getattr(torch, name[:-1])
            if node.kwargs.get("inplace") is True:
                node.kwargs = {**node.kwargs, "inplace": False}
    traced.recompile()
    training = model.training
    with torch.no_grad():
        same = torch.allclose(model.eval()(example_input), traced.eval()(example_input), rtol=1e-4, atol=1e-5)
    model.train(training)
    traced.train(training)
    if not same:
        raise ValueError("the traced forward code computes other logits than the model's own")
    return traced


def _is_in_place(name: str) -> bool:
    """``add_``, ``relu_``: a tensor method's in-place form (``__iadd__`` is not one of them)."""
    return name.endswith("_") and not name.startswith("_") and hasattr(torch.Tensor, name[:-1])
