"""Loading a user's trained model and its member indices, refusing what cannot be trusted.

Model files, in the order they are recognised:

1. a flood-audit checkpoint: ``NAME.npz`` weights beside ``NAME.json`` (architecture,
   recipe, members and input normalisation; written by ``python -m audit.train``);
2. TorchScript (``torch.jit.save``): code and weights without pickle;
3. a state_dict (``torch.save(model.state_dict())``), loaded with ``weights_only=True`` into
   the architecture named by ``--arch``; an ``.npz`` of arrays is read the same way.

A file that holds pickled code (``torch.save(model)``) is refused: unpickling it runs
arbitrary code. ``--trust-pickle`` lifts the refusal for files from a trusted source.
"""

from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from audit.errors import AuditInputError
from models import create_model, load_weights

CHECKPOINT_FORMAT = "flood-audit-checkpoint"


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
    path: str | Path, *, architecture: str, input_shape: tuple[int, ...], num_classes: int, trust_pickle: bool
) -> TargetModel:
    """Load the model at ``path`` (see the module docstring for the formats)."""
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"model file {path} does not exist")
    _check_model_file(path)
    manifest = _read_manifest(path)
    if manifest:
        if manifest["num_classes"] != num_classes or tuple(manifest["input_shape"]) != tuple(input_shape):
            raise AuditInputError(
                f"checkpoint {path} was trained on inputs {tuple(manifest['input_shape'])} with "
                f"{manifest['num_classes']} classes, but the data set has {tuple(input_shape)} and {num_classes}: "
                f"audit it on its own data set ({manifest.get('dataset', 'see its .json')})"
            )
        module = create_model(manifest["architecture"], input_shape=tuple(manifest["input_shape"]), num_classes=manifest["num_classes"])
        return TargetModel(_strict_load(module, path, load=lambda m: load_weights(m, path)), "flood-audit checkpoint", manifest)
    if _is_torchscript(path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch >= 2.14 calls TorchScript deprecated
            module = torch.jit.load(str(path), map_location="cpu").eval()
        with torch.no_grad():
            check_outputs(module(torch.zeros(2, *input_shape)), num_classes=num_classes, path=path)
        _check_architecture(module, architecture=architecture, input_shape=input_shape, num_classes=num_classes, path=path)
        return TargetModel(module.eval(), "TorchScript")
    if path.suffix == ".npz":
        module = create_model(architecture, input_shape=input_shape, num_classes=num_classes)
        return TargetModel(_strict_load(module, path, load=lambda m: load_weights(m, path)), f"weights (.npz) as {architecture}")
    state = _torch_load(path, trust_pickle=trust_pickle)
    if isinstance(state, nn.Module):  # only reachable with --trust-pickle
        return TargetModel(state.eval(), "pickled module (trusted)")
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]  # the common {"state_dict": ..., "epoch": ...} checkpoint
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise AuditInputError(f"model file {path} holds neither a state_dict nor TorchScript; save model.state_dict() or use torch.jit.save")
    module = create_model(architecture, input_shape=input_shape, num_classes=num_classes)
    return TargetModel(_strict_load(module, path, load=lambda m: m.load_state_dict(state)), f"state_dict as {architecture}")


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
    manifest = json.loads(candidate.read_text())
    return manifest if manifest.get("format") == CHECKPOINT_FORMAT else {}


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
        raise AuditInputError(f"model file {path} is empty")
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
                f"model file {path} is damaged or not a PyTorch file (its contents cannot be read as saved tensors)"
            ) from None
        if not trust_pickle:
            raise AuditInputError(
                f"model file {path} holds pickled code (e.g. a whole model saved with torch.save(model)); "
                "loading it would run that code: save model.state_dict() or TorchScript instead, "
                "or pass --trust-pickle if you trust the file's source"
            ) from None
        return torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, OSError) as error:
        raise AuditInputError(f"model file {path} cannot be read as a PyTorch file: {str(error).splitlines()[0]}") from None


def _strict_load(module: nn.Module, path: Path, *, load) -> nn.Module:
    try:
        load(module)
    except (RuntimeError, KeyError, ValueError) as error:
        raise AuditInputError(
            f"weights in {path} do not fit this architecture ({str(error).splitlines()[0][:160]}); "
            "name the architecture it was trained with using --arch"
        ) from None
    return module.eval()


def _check_architecture(module: nn.Module, *, architecture: str, input_shape, num_classes: int, path: Path) -> None:
    """Reference models are trained as ``architecture``: a TorchScript model whose parameter
    shapes differ would be compared against references of another architecture."""
    reference = create_model(architecture, input_shape=input_shape, num_classes=num_classes)
    theirs = [tuple(p.shape) for p in module.parameters()]
    ours = [tuple(p.shape) for p in reference.parameters()]
    if theirs != ours:
        raise AuditInputError(
            f"TorchScript model {path} does not have the parameters of architecture {architecture!r} "
            f"({len(theirs)} tensors against {len(ours)}); name its architecture with --arch so that "
            "the reference models match it"
        )
