"""Architecture specs beyond the built-ins: ``torchvision:NAME`` and ``package.module:factory``,
their options, the one-line errors for every way a spec can be wrong, the pre-training check,
the architecture identity, and the device preparation that must be a no-op on the CPU."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from models import (
    ArchitectureError,
    architecture_code_version,
    architecture_identity,
    check_architecture,
    check_architecture_spec,
    create_model,
    prepare_for_device,
    training_autocast,
)

USER = "tests.models.user_architectures"
RGB = (3, 16, 16)


def _build(name, *, input_shape=RGB, num_classes=5, options=None, seed=0):
    torch.manual_seed(seed)
    return create_model(name, input_shape=input_shape, num_classes=num_classes, options=options)


def _error(name, *, input_shape=RGB, options=None, check=False) -> str:
    with pytest.raises(ArchitectureError) as error:
        if check:
            check_architecture(name, options, input_shape=input_shape, num_classes=5)
        else:
            _build(name, input_shape=input_shape, options=options)
    message = str(error.value)
    assert "\n" not in message and name in message
    return message


@pytest.mark.parametrize(
    "name",
    ["torchvision:resnet18", f"{USER}:small_bn_cnn", f"{USER}:ResidualBN"],
)
def test_specs_build_models_with_one_logit_per_class(name):
    model = _build(name)
    assert isinstance(model, nn.Module)
    assert model.eval()(torch.zeros(2, *RGB)).shape == (2, 5)


def test_torchvision_models_are_untrained_and_built_for_the_class_count():
    model = _build("torchvision:resnet18")
    assert model.fc.out_features == 5
    # weights=None: two seeds give two different initialisations, never a downloaded checkpoint.
    assert not torch.equal(model.conv1.weight, _build("torchvision:resnet18", seed=1).conv1.weight)


def test_options_reach_the_builder():
    assert _build("cnn", options={"width": 4}).features[0].out_channels == 4
    assert _build(f"{USER}:small_bn_cnn", options={"width": 3})[0].out_channels == 3
    assert _build(f"{USER}:ResidualBN", options={"width": 6}).conv.out_channels == 6
    resnet = _build("torchvision:resnet18", options={"zero_init_residual": True})
    assert torch.count_nonzero(resnet.layer1[0].bn2.weight) == 0


def test_a_factory_gets_input_shape_only_when_it_names_it():
    assert _build(f"{USER}:small_bn_cnn", input_shape=(1, 8, 8))[0].in_channels == 1
    assert _build(f"{USER}:ResidualBN").stem.in_channels == 3  # built as ResidualBN(num_classes=5)


@pytest.mark.parametrize(
    "name, options, words",
    [
        ("cnn", {"widht": 4}, "unknown option 'widht' for architecture 'cnn' (did you mean 'width'?); it accepts: width"),
        (f"{USER}:small_bn_cnn", {"depth": 3}, "it accepts: width"),
        ("torchvision:resnet18", {"dropout": 0.1}, "zero_init_residual"),
        ("cnn", {"num_classes": 3}, "set from the data set"),
    ],
)
def test_an_option_the_builder_does_not_take_is_refused_with_the_accepted_ones(name, options, words):
    assert words in _error(name, options=options)


def test_an_option_value_the_builder_refuses_is_one_line_naming_it():
    # torchvision's BasicBlock refuses another group width with a ValueError of its own.
    message = _error("torchvision:resnet18", options={"width_per_group": 32})
    assert "width_per_group" in message and "base_width=64" in message


def test_unknown_torchvision_name_lists_close_matches():
    message = _error("torchvision:resnet19")
    assert "torchvision:resnet18" in message and "torchvision:resnet101" in message


def test_unknown_names_list_the_forms_and_spot_a_torchvision_name():
    assert "choose one of: mlp, cnn, resnet, or torchvision:NAME" in _error("transformer")
    assert "did you mean 'torchvision:resnet18'?" in _error("resnet18")


@pytest.mark.parametrize(
    "name, words",
    [
        ("not_a_package.nets:factory", "cannot import module 'not_a_package.nets' (ModuleNotFoundError"),
        ("user_nets.py:factory", "name the module, not its file: user_nets:factory"),
        (f"{USER}:small_bn_cnm", "has no attribute 'small_bn_cnm'; close matches: small_bn_cnn"),
        (f"{USER}:NOT_A_FACTORY", "is a int, not a function or class"),
        (f"{USER}:returns_a_list", "returned an object of type list, not a torch.nn.Module"),
        (f"{USER}:fails_to_build", "RuntimeError: the GPU kernel this model needs is missing"),
        (f"{USER}:no_class_count", "does not take num_classes"),
        ("nets:", "neither a built-in name"),
    ],
)
def test_a_factory_that_cannot_be_used_is_one_line_naming_spec_and_problem(name, words):
    assert words in _error(name)


@pytest.mark.parametrize(
    "source, words",
    [
        ("import a_dependency_that_is_not_installed\n", "No module named 'a_dependency_that_is_not_installed'"),
        ("def factory(num_classes:\n", "SyntaxError"),
        ("raise RuntimeError('set MY_DATA first')\n", "RuntimeError: set MY_DATA first"),
    ],
)
def test_an_error_while_importing_the_users_module_is_reported(source, words, tmp_path, monkeypatch):
    (tmp_path / "user_nets_broken.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert words in _error("user_nets_broken:factory")


def test_torchvision_specs_need_rgb_images():
    assert "takes RGB images [3, H, W]" in _error("torchvision:resnet18", input_shape=(1, 8, 8))


def test_check_architecture_returns_the_identity_and_leaves_the_random_state_alone():
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    identity = check_architecture(f"{USER}:small_bn_cnn", {"width": 4}, input_shape=RGB, num_classes=5)
    assert torch.equal(torch.rand(1), expected)
    assert identity == architecture_identity(_build(f"{USER}:small_bn_cnn", options={"width": 4}), name=f"{USER}:small_bn_cnn", options={"width": 4})


@pytest.mark.parametrize(
    "name, input_shape, words",
    [
        (f"{USER}:ignores_num_classes", RGB, "returns shape [2, 7] in training mode for a batch of 2, not logits [2, 5]"),
        (f"{USER}:WithAuxiliaryHead", RGB, "returns a tuple in training mode"),
        (f"{USER}:ResidualBN", (1, 8, 8), "fails on a batch of inputs of shape (1, 8, 8) in training mode: RuntimeError"),
    ],
)
def test_check_architecture_refuses_models_that_do_not_fit_the_data(name, input_shape, words):
    assert words in _error(name, input_shape=input_shape, check=True)


def test_the_spec_check_needs_no_data_and_builds_nothing(monkeypatch):
    import models.registry

    check_architecture_spec("torchvision:resnet18", {"zero_init_residual": True})
    check_architecture_spec(f"{USER}:small_bn_cnn", {"width": 4})
    assert "unknown architecture 'transformer'; choose one of: mlp, cnn, resnet" in str(
        pytest.raises(ArchitectureError, check_architecture_spec, "transformer", None).value
    )
    assert "it accepts: width" in str(pytest.raises(ArchitectureError, check_architecture_spec, "cnn", {"depth": 2}).value)
    monkeypatch.setattr(models.registry, "create_model", None)  # building would fail
    check_architecture_spec("cnn", {"width": 4})


def test_code_version_follows_the_code_that_builds_the_model(tmp_path, monkeypatch):
    assert architecture_code_version("resnet") == ""  # models/ itself is in the cache key
    assert architecture_code_version("torchvision:resnet18").startswith("torchvision ")
    source = "from torch import nn\ndef net(*, num_classes):\n    return nn.Linear(4, num_classes)\n"
    (tmp_path / "user_nets_versioned.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    before = architecture_code_version("user_nets_versioned:net")
    assert before.startswith("sha256:") and before == architecture_code_version("user_nets_versioned:net")
    (tmp_path / "user_nets_versioned.py").write_text(source.replace("nn.Linear(4", "nn.Linear(8"))
    assert architecture_code_version("user_nets_versioned:net") != before


def test_identity_names_the_architecture_not_the_weights():
    name = f"{USER}:small_bn_cnn"
    first = architecture_identity(_build(name, seed=0), name=name, options={})
    # Other weights (another seed) keep the identity...
    assert architecture_identity(_build(name, seed=1), name=name, options={}) == first
    # ...another option or another architecture change it.
    wider = architecture_identity(_build(name, options={"width": 4}), name=name, options={"width": 4})
    assert wider["structure"] != first["structure"] and wider["options"] == {"width": 4}
    other = architecture_identity(_build(f"{USER}:ResidualBN"), name=f"{USER}:ResidualBN", options={})
    assert other["structure"] != first["structure"] and other["parameters"] != first["parameters"]
    assert first["parameters"] == sum(p.numel() for p in _build(name).parameters())


def test_identity_options_are_json_values():
    identity = architecture_identity(nn.Linear(2, 2), name="x", options={"widths": (1, 2), "b": 1})
    assert identity["options"] == {"b": 1, "widths": [1, 2]}


def test_device_preparation_is_a_no_op_on_the_cpu():
    model = _build(f"{USER}:small_bn_cnn")
    weight = model[0].weight
    assert prepare_for_device(model, "cpu") is model
    assert model[0].weight is weight and weight.is_contiguous()
    with training_autocast("cpu", private=False):
        assert model(torch.zeros(2, *RGB)).dtype == torch.float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_conv_nets_go_channels_last_and_train_in_bf16():
    model = prepare_for_device(_build(f"{USER}:small_bn_cnn"), "cuda")
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    mlp = prepare_for_device(_build("mlp"), "cuda")
    assert all(p.is_contiguous() for p in mlp.parameters())
    with training_autocast("cuda", private=False):
        assert model(torch.zeros(2, *RGB, device="cuda")).dtype == torch.bfloat16
    with training_autocast("cuda", private=True):
        assert model(torch.zeros(2, *RGB, device="cuda")).dtype == torch.float32
