"""Loading a user's model for any architecture spec: state_dicts (plain, wrapped in a
checkpoint dict, with DataParallel / Opacus / torch.compile key prefixes), TorchScript, and
flood-audit checkpoints of DP-SGD models whose layers were substituted; weights that do not
fit are refused in one line that names keys and the --arch fix."""

from __future__ import annotations

import json
import warnings
import zipfile

import pytest
import torch

from audit.errors import AuditInputError
from audit.target.indices import check_indices, read_indices
from audit.target.loading import CHECKPOINT_FORMAT, load_target_model, manifest_path
from audit.training.private import make_dp_compatible
from models import create_model, save_weights

USER = "tests.models.user_architectures"
RGB = (3, 16, 16)
SPECS = ["torchvision:resnet18", f"{USER}:small_bn_cnn"]


def _model(name, *, options=None, seed=0):
    torch.manual_seed(seed)
    return create_model(name, input_shape=RGB, num_classes=5, options=options).eval()


def _probe():
    return torch.randn(4, *RGB, generator=torch.Generator().manual_seed(1))


def _load(path, name, *, options=None, trust_pickle=False):
    return load_target_model(path, architecture=name, options=options, input_shape=RGB, num_classes=5, trust_pickle=trust_pickle)


def _same_outputs(loaded, original):
    with torch.no_grad():
        torch.testing.assert_close(loaded.module(_probe()), original(_probe()))


def _refusal(path, name, **kwargs) -> str:
    with pytest.raises(AuditInputError) as error:
        _load(path, name, **kwargs)
    assert "\n" not in str(error.value)
    return str(error.value)


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda state: state, id="plain"),
        pytest.param(lambda state: {"state_dict": state, "epoch": 3}, id="checkpoint-dict"),
        pytest.param(lambda state: {f"module.{k}": v for k, v in state.items()}, id="dataparallel"),
        pytest.param(lambda state: {f"_module._orig_mod.{k}": v for k, v in state.items()}, id="opacus-compiled"),
    ],
)
def test_a_state_dict_loads_into_the_named_architecture(name, wrap, tmp_path):
    original = _model(name)
    torch.save(wrap(original.state_dict()), tmp_path / "weights.pt")
    loaded = _load(tmp_path / "weights.pt", name)
    assert loaded.source == f"state_dict as {name}"
    _same_outputs(loaded, original)
    assert not loaded.module.training


@pytest.mark.parametrize("name", SPECS)
def test_a_torchscript_model_of_the_named_architecture_loads(name, tmp_path):
    original = _model(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch >= 2.14 calls TorchScript deprecated
        torch.jit.save(torch.jit.trace(original, _probe()), tmp_path / "model.ts")
    loaded = _load(tmp_path / "model.ts", name)
    assert loaded.source == "TorchScript"
    _same_outputs(loaded, original)


def test_a_torchscript_model_of_another_architecture_is_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(_model(f"{USER}:small_bn_cnn"), _probe()), tmp_path / "model.ts")
    message = _refusal(tmp_path / "model.ts", "torchvision:resnet18")
    assert "does not have the parameters of architecture 'torchvision:resnet18'" in message and "--arch" in message


def test_options_name_the_architecture_weights_load_into(tmp_path):
    original = _model(f"{USER}:small_bn_cnn", options={"width": 4})
    torch.save(original.state_dict(), tmp_path / "weights.pt")
    loaded = _load(tmp_path / "weights.pt", f"{USER}:small_bn_cnn", options={"width": 4})
    assert loaded.source == f"state_dict as {USER}:small_bn_cnn with options {{'width': 4}}"
    _same_outputs(loaded, original)
    message = _refusal(tmp_path / "weights.pt", f"{USER}:small_bn_cnn")
    assert "0.weight is [4, 3, 3, 3] in the file but [8, 3, 3, 3] in the architecture" in message
    assert "--arch-option" in message


def test_weights_of_another_architecture_name_the_keys_and_the_fix(tmp_path):
    torch.save(_model(f"{USER}:small_bn_cnn").state_dict(), tmp_path / "weights.pt")
    message = _refusal(tmp_path / "weights.pt", "torchvision:resnet18")
    assert "do not fit architecture 'torchvision:resnet18'" in message
    assert "missing keys conv1.weight, bn1.weight, bn1.bias and 119 more" in message
    assert "unexpected keys 0.weight, 0.bias, 1.weight and 6 more" in message
    assert "name the architecture it was trained with using --arch" in message


def test_a_dp_checkpoint_of_a_batchnorm_architecture_loads_with_its_substitutions(tmp_path):
    # python -m audit.train saves the DP-SGD model that make_dp_compatible made (GroupNorm
    # for BatchNorm); loading rebuilds the same substitute from the manifest's regime.
    name = f"{USER}:small_bn_cnn"
    trained = make_dp_compatible(_model(name), architecture=name, example_input=_probe()[:2]).model.eval()
    save_weights(trained, tmp_path / "target.npz")
    manifest = {
        "format": CHECKPOINT_FORMAT,
        "architecture": name,
        "architecture_options": {},
        "input_shape": list(RGB),
        "num_classes": 5,
        "recipe": {"regime": {"epsilon": 8.0}},
    }
    manifest_path(tmp_path / "target.npz").write_text(json.dumps(manifest))
    loaded = _load(tmp_path / "target.npz", "mlp")
    assert loaded.source == "flood-audit checkpoint"
    assert isinstance(loaded.module[1], torch.nn.GroupNorm)
    _same_outputs(loaded, trained)


def test_npz_weights_load_for_any_spec(tmp_path):
    original = _model(f"{USER}:small_bn_cnn")
    save_weights(original, tmp_path / "weights.npz")
    _same_outputs(_load(tmp_path / "weights.npz", f"{USER}:small_bn_cnn"), original)
    assert "missing keys" in _refusal(tmp_path / "weights.npz", "cnn")


def test_the_file_checks_still_hold_for_any_spec(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    assert "is empty" in _refusal(tmp_path / "empty.pt", "torchvision:resnet18")
    (tmp_path / "noise.pt").write_bytes(b"\x00\x01 not a model")
    assert "is not a model file" in _refusal(tmp_path / "noise.pt", "torchvision:resnet18")
    original = _model(f"{USER}:small_bn_cnn")
    torch.save(original, tmp_path / "pickled.pt")  # a whole module: unpickling runs code
    assert "pickled code" in _refusal(tmp_path / "pickled.pt", f"{USER}:small_bn_cnn")
    _same_outputs(_load(tmp_path / "pickled.pt", f"{USER}:small_bn_cnn", trust_pickle=True), original)



def test_a_module_prefix_that_belongs_to_the_architecture_is_kept(tmp_path):
    name = f"{USER}:KeysStartWithModule"
    original = _model(name)
    assert all(key.startswith("module.") for key in original.state_dict())
    torch.save(original.state_dict(), tmp_path / "weights.pt")
    _same_outputs(_load(tmp_path / "weights.pt", name), original)


def test_an_architecture_that_cannot_be_built_for_the_data_is_bad_input(tmp_path):
    torch.save(create_model("mlp", input_shape=(6,), num_classes=5).state_dict(), tmp_path / "tabular.pt")
    with pytest.raises(AuditInputError) as error:  # an AuditInputError, not the models layer's ArchitectureError
        load_target_model(tmp_path / "tabular.pt", architecture="cnn", input_shape=(6,), num_classes=5, trust_pickle=False)
    assert type(error.value) is AuditInputError
    assert "architecture 'cnn' cannot be built for inputs (6,)" in str(error.value) and "\n" not in str(error.value)


def test_file_errors_name_the_fix(tmp_path):
    assert "does not exist: check the --model path" in _refusal(tmp_path / "nowhere.pt", "cnn")
    (tmp_path / "empty.pt").write_bytes(b"")
    assert "save the model again" in _refusal(tmp_path / "empty.pt", "cnn")
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:  # a zip, but its array is no .npy
        archive.writestr("weight.npy", b"not an array")
    assert "cannot be read as an .npz of arrays (TypeError): write it again" in _refusal(tmp_path / "bad.npz", "cnn")


@pytest.mark.parametrize("manifest, words", [("{not json", "cannot be read"), (json.dumps({"format": CHECKPOINT_FORMAT}), "lacks architecture")])
def test_a_damaged_checkpoint_description_is_one_line(tmp_path, manifest, words):
    save_weights(_model(f"{USER}:small_bn_cnn"), tmp_path / "target.npz")
    manifest_path(tmp_path / "target.npz").write_text(manifest)
    message = _refusal(tmp_path / "target.npz", f"{USER}:small_bn_cnn")
    assert words in message and "write the checkpoint again with python -m audit.train" in message


@pytest.mark.parametrize(
    "content, words",
    [
        ("", "holds no indices: give the examples' indices"),
        ("1 2 2", "more than once (first: 2): list each example once"),
    ],
)
def test_index_files_name_the_fix(tmp_path, content, words):
    (tmp_path / "members.txt").write_text(content)
    with pytest.raises(AuditInputError) as error:
        read_indices(tmp_path / "members.txt", num_examples=10, what="members")
    assert words in str(error.value)
    with pytest.raises(AuditInputError, match="does not exist: check the --non-members path"):
        read_indices(tmp_path / "nowhere.npy", num_examples=10, what="non-members")
    with pytest.raises(AuditInputError, match="must hold integer indices: give the examples' indices"):
        check_indices([[1, 2], [3]], num_examples=10, source="members file m.json")
