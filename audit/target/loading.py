"""Loading a user's trained model and its member indices, refusing what cannot be trusted.

Model files, in the order they are recognised:

1. a flood-audit checkpoint: ``NAME.npz`` weights beside ``NAME.json`` (architecture,
   recipe, members and input normalisation; written by ``python -m audit.train``);
2. TorchScript (``torch.jit.save``): code and weights without pickle; its parameters must
   have the shapes of the architecture named by ``--arch``, which the references train as;
3. a state_dict (``torch.save(model.state_dict())``), loaded with ``weights_only=True`` into
   the architecture named by ``--arch`` (any spec :func:`models.create_model` takes, with its
   options); an ``.npz`` of arrays is read the same way. The common wrappers are undone: a
   ``{"state_dict": ...}`` or ``{"model_state_dict": ...}`` checkpoint, and key prefixes
   every key carries (``module.`` from DataParallel, ``_module.`` from Opacus,
   ``_orig_mod.`` from ``torch.compile``).

A file that holds pickled code (``torch.save(model)``) is refused: unpickling it runs
arbitrary code. ``--trust-pickle`` lifts the refusal for files from a trusted source.
"""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from audit.errors import AuditInputError, one_line
from audit.training.private import make_dp_compatible
from models import ArchitectureError, create_model

CHECKPOINT_FORMAT = "flood-audit-checkpoint"
# Prefixes wrappers put on every key: DataParallel / DDP, Opacus' GradSampleModule, torch.compile.
WRAPPER_PREFIXES = ("module.", "_module.", "_orig_mod.")


@dataclass
class TargetModel:
    """A model to audit, in eval mode on the CPU, with what its file says about itself.

    ``manifest`` is the checkpoint's JSON for flood-audit checkpoints (recipe, members,
    normalisation), else empty.
    """

    module: nn.Module
    source: str
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def epsilon(self) -> float | None:
        """The privacy the accountant spent training it (DP-SGD checkpoints), else None."""
        return self.manifest.get("epsilon")


def manifest_path(weights_path: Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def load_target_model(
    path: str | Path,
    *,
    architecture: str,
    options: Mapping[str, Any] | None = None,
    input_shape: tuple[int, ...],
    num_classes: int,
    trust_pickle: bool,
) -> TargetModel:
    """Load the model at ``path`` (see the module docstring for the formats) for inputs
    ``[batch, *input_shape]`` and logits ``[batch, num_classes]``. ``architecture`` and its
    ``options`` name what a state_dict is loaded into and what a TorchScript model must match;
    a flood-audit checkpoint names its own. Building the architecture runs its code (a
    ``package.module:factory`` spec imports that module)."""
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(
            f"model file {path} does not exist: check the --model path (a TorchScript file, a state_dict, "
            "or the .npz of a checkpoint python -m audit.train wrote)"
        )
    _check_model_file(path)
    manifest = _read_manifest(path)
    if manifest:
        if manifest["num_classes"] != num_classes or tuple(manifest["input_shape"]) != tuple(input_shape):
            raise AuditInputError(
                f"checkpoint {path} was trained on inputs {tuple(manifest['input_shape'])} with "
                f"{manifest['num_classes']} classes, but the data set has {tuple(input_shape)} and {num_classes}: "
                f"audit it on its own data set ({manifest.get('dataset', 'see its .json')})"
            )
        module = _checkpoint_module(manifest)
        module = _load_state(module, _npz_state(path), path=path, architecture=manifest["architecture"])
        return TargetModel(module, "flood-audit checkpoint", manifest)
    if _is_torchscript(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch >= 2.14 calls TorchScript deprecated
            module = torch.jit.load(str(path), map_location="cpu").eval()
        with torch.no_grad():
            check_outputs(module(torch.zeros(2, *input_shape)), num_classes=num_classes, path=path)
        _check_architecture(
            module, architecture=architecture, options=options, input_shape=input_shape, num_classes=num_classes, path=path
        )
        return TargetModel(module.eval(), "TorchScript")
    described = f"{architecture}{_with(options)}"
    if path.suffix == ".npz":
        module = _build(architecture, input_shape=input_shape, num_classes=num_classes, options=options)
        return TargetModel(_load_state(module, _npz_state(path), path=path, architecture=described), f"weights (.npz) as {described}")
    state = _torch_load(path, trust_pickle=trust_pickle)
    if isinstance(state, nn.Module):  # only reachable with --trust-pickle
        return TargetModel(state.eval(), "pickled module (trusted)")
    for wrapper in ("state_dict", "model_state_dict"):  # {"state_dict": ..., "epoch": ...} checkpoints
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise AuditInputError(f"model file {path} holds neither a state_dict nor TorchScript; save model.state_dict() or use torch.jit.save")
    module = _build(architecture, input_shape=input_shape, num_classes=num_classes, options=options)
    return TargetModel(_load_state(module, state, path=path, architecture=described), f"state_dict as {described}")


def check_outputs(logits: torch.Tensor, *, num_classes: int, path: str | Path) -> None:
    """Refuse outputs of the wrong width or with NaN / infinite values (``logits [N, C]``)."""
    if logits.ndim != 2 or logits.shape[1] != num_classes:
        raise AuditInputError(
            f"model {path} outputs shape {tuple(logits.shape[1:])} per example but the data set has "
            f"{num_classes} classes: audit it on the data set it was trained for"
        )
    bad = (~torch.isfinite(logits)).any(dim=1)
    if bad.any():
        raise AuditInputError(
            f"model {path} produces NaN or infinite outputs for {int(bad.sum())} of {len(logits)} examples "
            f"(first: example {int(bad.nonzero()[0, 0])}); check its weights and input normalisation"
        )


def _read_manifest(path: Path) -> dict[str, Any]:
    candidate = manifest_path(path)
    if path.suffix != ".npz" or not candidate.is_file():
        return {}
    fix = f"write the checkpoint again with python -m audit.train, or move {candidate.name} away to load {path.name} as plain weights"
    try:
        manifest = json.loads(candidate.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AuditInputError(f"checkpoint description {candidate} cannot be read ({one_line(error, 160)}): {fix}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != CHECKPOINT_FORMAT:
        return {}
    missing = [key for key in ("architecture", "input_shape", "num_classes") if key not in manifest]
    if missing:
        raise AuditInputError(f"checkpoint description {candidate} lacks {', '.join(missing)}: {fix}")
    return manifest


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives are zip files with a ``code/`` folder and a ``constants.pkl``."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.split("/", 2)[1:2] == ["code"] for name in archive.namelist())


def _check_model_file(path: Path) -> None:
    """Refuse files that cannot be any model format at all (empty, or neither a zip archive,
    which TorchScript, ``torch.save`` and ``.npz`` files are, nor a legacy ``torch.save``
    pickle stream), before any loader reads them and reports something misleading."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if not head:
        raise AuditInputError(
            f"model file {path} is empty: check the --model path, or save the model again "
            "(torch.save(model.state_dict(), PATH) or torch.jit.save)"
        )
    if not zipfile.is_zipfile(path) and head[:1] != b"\x80":
        raise AuditInputError(
            f"model file {path} is not a model file (neither TorchScript, a torch.save state_dict, nor a "
            "flood-audit checkpoint): check the path"
        )


def _torch_load(path: Path, *, trust_pickle: bool) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # Code in the pickle shows as an "Unsupported global"; anything else is a damaged file.
        if "unsupported global" not in str(error).lower():
            raise AuditInputError(
                f"model file {path} is damaged or not a PyTorch file (its contents cannot be read as saved tensors): "
                "check the --model path, or save the model again (torch.save(model.state_dict(), PATH))"
            ) from None
        if not trust_pickle:
            raise AuditInputError(
                f"model file {path} holds pickled code (e.g. a whole model saved with torch.save(model)); "
                "loading it would run that code: save model.state_dict() or TorchScript instead, "
                "or pass --trust-pickle if you trust the file's source"
            ) from None
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError) as error:
        raise AuditInputError(
            f"model file {path} cannot be read as a PyTorch file ({one_line(error, 160)}): check the --model path, "
            "or save the model again (torch.save(model.state_dict(), PATH) or torch.jit.save)"
        ) from None


def _checkpoint_module(manifest: dict[str, Any]) -> nn.Module:
    """The untrained model a checkpoint's weights load into: its architecture and options,
    and, for a model trained with DP-SGD, the same substitutions training made (BatchNorm ->
    GroupNorm, ...), which are a function of the architecture alone."""
    input_shape = tuple(manifest["input_shape"])
    module = _build(
        manifest["architecture"],
        input_shape=input_shape,
        num_classes=manifest["num_classes"],
        options=manifest.get("architecture_options"),
    )
    if manifest.get("recipe", {}).get("regime", {}).get("epsilon") is not None:
        zeros = torch.zeros(2, *input_shape)
        module = make_dp_compatible(module, architecture=manifest["architecture"], example_input=zeros).model
    return module


def _npz_state(path: Path) -> dict[str, torch.Tensor]:
    """The arrays of an ``.npz`` weights file as a state_dict (never unpickles)."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return {name: torch.from_numpy(arrays[name]) for name in arrays.files}
    except (OSError, ValueError, TypeError, KeyError, EOFError, zipfile.BadZipFile) as error:
        # TypeError: a member that is no .npy array (numpy hands back its bytes) or of a dtype torch lacks.
        raise AuditInputError(
            f"weights file {path} cannot be read as an .npz of arrays ({type(error).__name__}): write it again "
            "(python -m audit.train, or numpy.savez(PATH, **arrays) of the state_dict's tensors)"
        ) from None


def _load_state(module: nn.Module, state: dict[str, torch.Tensor], *, path: Path, architecture: str) -> nn.Module:
    """Load ``state`` into ``module`` strictly, once wrapper prefixes are removed; returns it in
    eval mode. Keys or shapes that do not fit are refused in one line naming a few of them."""
    expected = module.state_dict()
    state = _without_wrapper_prefixes(state, expected=expected.keys())
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    reshaped = [key for key in expected if key in state and state[key].shape != expected[key].shape]
    problems = [f"missing keys {_few(missing)}"] if missing else []
    problems += [f"unexpected keys {_few(unexpected)}"] if unexpected else []
    if reshaped:
        key = reshaped[0]
        more = f" (and {len(reshaped) - 1} more tensors of other shapes)" if len(reshaped) > 1 else ""
        problems.append(f"{key} is {list(state[key].shape)} in the file but {list(expected[key].shape)} in the architecture{more}")
    if problems:
        raise AuditInputError(
            f"weights in {path} do not fit architecture {architecture!r}: {'; '.join(problems)}; name the architecture "
            "it was trained with using --arch (and its options with --arch-option)"
        )
    try:
        module.load_state_dict(state)
    except RuntimeError as error:  # e.g. a tensor of a dtype that cannot be copied into the parameter
        raise AuditInputError(
            f"weights in {path} cannot be loaded into architecture {architecture!r} ({one_line(error, 160)}): save "
            "them again from the trained model as floating-point tensors, or name the architecture it was trained "
            "with using --arch"
        ) from None
    return module.eval()


def _without_wrapper_prefixes(state: dict[str, torch.Tensor], *, expected) -> dict[str, torch.Tensor]:
    """``state`` without the :data:`WRAPPER_PREFIXES` that every one of its keys carries, unless
    its keys are already the ``expected`` ones (a model whose own attribute is ``module``)."""
    while set(state) != set(expected):
        prefix = next((p for p in WRAPPER_PREFIXES if all(key.startswith(p) for key in state)), None)
        if prefix is None:
            return state
        state = {key[len(prefix) :]: value for key, value in state.items()}
    return state


def _build(architecture: str, **shape_and_options: Any) -> nn.Module:
    """:func:`models.create_model`, its :class:`~models.ArchitectureError` (an architecture
    that cannot be built for this data, e.g. ``cnn`` on tabular features) as bad input."""
    try:
        return create_model(architecture, **shape_and_options)
    except ArchitectureError as error:
        raise AuditInputError(str(error)) from None


def _few(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def _with(options: Mapping[str, Any] | None) -> str:
    return f" with options {dict(options)}" if options else ""


def _check_architecture(
    module: nn.Module, *, architecture: str, options: Mapping[str, Any] | None, input_shape, num_classes: int, path: Path
) -> None:
    """Reference models are trained as ``architecture``: a TorchScript model whose parameter
    shapes differ would be compared against references of another architecture."""
    reference = _build(architecture, input_shape=input_shape, num_classes=num_classes, options=options)
    theirs = [tuple(p.shape) for p in module.parameters()]
    ours = [tuple(p.shape) for p in reference.parameters()]
    if theirs != ours:
        first = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
        raise AuditInputError(
            f"TorchScript model {path} does not have the parameters of architecture {architecture!r}{_with(options)} "
            f"({len(theirs)} tensors against {len(ours)}, first difference at tensor {first}); name its architecture "
            "with --arch (and its options with --arch-option) so that the reference models match it"
        )
