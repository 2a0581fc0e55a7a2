"""DP-SGD for any architecture: what Opacus cannot train is substituted (BatchNorm ->
GroupNorm, in-place activations and updates -> out-of-place), every substitution is listed,
a DP-SGD step then runs, and what nothing can fix is refused in one line."""

from __future__ import annotations

import pytest
import torch
from opacus.validators import ModuleValidator
from torch import nn

from audit.errors import AuditInputError
from audit.training import TrainData, TrainRecipe, parse_regime
from audit.training import private as private_module
from audit.training.private import (
    make_dp_compatible,
    make_private,
    summarise_substitutions,
)
from models import create_model, prepare_for_device

# Opacus' hooks note that the first layer's input needs no gradient: expected, not a problem.
pytestmark = pytest.mark.filterwarnings("ignore:Full backward hook is firing")
USER = "tests.models.user_architectures"
RGB = (3, 16, 16)


@pytest.fixture(autouse=True)
def _fixed_noise(monkeypatch):
    # The architecture is under test, not the accountant: skip the noise multiplier's search
    # (seconds of PRV accounting) and use a typical value.
    monkeypatch.setattr(private_module, "noise_multiplier", lambda **_: 1.0)


def _data(n=8, *, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, *RGB, generator=generator), torch.randint(0, 5, (n,), generator=generator)


def _model(name, *, seed=0):
    torch.manual_seed(seed)
    return create_model(name, input_shape=RGB, num_classes=5)


def _dp_step(model, *, architecture, device="cpu"):
    """One DP-SGD step the way ``train()`` runs it: compatible model (channels-last on CUDA),
    then its optimizer, then Opacus. Returns the substitutions and the parameters before and
    after the step."""
    x, y = (t.to(device) for t in _data())
    compatible = make_dp_compatible(model.to(device), architecture=architecture, example_input=x[:2])
    prepare_for_device(compatible.model, device)
    optimizer = torch.optim.SGD(compatible.model.parameters(), lr=0.1)
    recipe = TrainRecipe(
        architecture=architecture, epochs=1, batch_size=4, learning_rate=0.1, optimizer="sgd",
        regime=parse_regime("dp:8", delta=1e-2),
    )
    before = {k: v.clone() for k, v in compatible.model.state_dict().items()}
    private, private_optimizer, batches, _ = make_private(compatible.model, optimizer, TrainData(x, y, x, y), recipe, seed=0)
    xb, yb = next((xb, yb) for xb, yb in batches() if len(yb))
    private_optimizer.zero_grad()
    nn.functional.cross_entropy(private(xb), yb).backward()
    private_optimizer.step()
    return compatible, before, private._module.state_dict()


def test_a_batchnorm_model_trains_with_dp_sgd_after_substitution():
    name = f"{USER}:small_bn_cnn"
    model = _model(name)
    compatible, before, after = _dp_step(model, architecture=name)
    assert compatible.substitutions == [
        "BatchNorm2d(8) -> GroupNorm(8, 8) at 1",
        "ReLU(inplace=True) -> ReLU() at 2",
    ]
    assert isinstance(compatible.model[1], nn.GroupNorm) and not compatible.model[2].inplace
    assert isinstance(model[1], nn.BatchNorm2d) and model[2].inplace  # the model passed in is left alone
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())


def test_in_place_updates_in_forward_code_are_rewritten_and_named():
    name = f"{USER}:ResidualBN"
    compatible, before, after = _dp_step(_model(name), architecture=name)
    assert compatible.substitutions[-1] == "in-place tensor updates -> out-of-place (torch.fx) at ResidualBN.forward"
    assert summarise_substitutions(compatible.substitutions) == [
        "1 x BatchNorm2d -> GroupNorm",
        "1 x in-place tensor updates -> out-of-place (torch.fx)",
    ]
    # The rewritten model keeps the layer names, so its weights save and load like the model's.
    assert set(after) == {k for k in _model(name).state_dict() if not k.startswith("bn.") or k in ("bn.weight", "bn.bias")}
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_torchvision_resnet18_trains_with_dp_sgd():
    compatible, before, after = _dp_step(_model("torchvision:resnet18"), architecture="torchvision:resnet18")
    assert summarise_substitutions(compatible.substitutions) == [
        "20 x BatchNorm2d -> GroupNorm",
        "9 x ReLU(inplace=True) -> ReLU",
        "1 x in-place tensor updates -> out-of-place (torch.fx)",
    ]
    assert "BatchNorm2d(64) -> GroupNorm(32, 64) at layer1.0.bn1" in compatible.substitutions
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_a_model_opacus_accepts_is_returned_unchanged():
    model = _model("resnet")
    compatible = make_dp_compatible(model, architecture="resnet", example_input=_data()[0][:2])
    assert compatible.model is model and compatible.substitutions == []


def test_make_private_still_refuses_a_model_that_was_not_made_compatible():
    x, y = _data()
    recipe = TrainRecipe(architecture="bn", epochs=1, batch_size=4, learning_rate=0.1, regime=parse_regime("dp:8", delta=1e-2))
    model = _model(f"{USER}:small_bn_cnn")
    with pytest.raises(AuditInputError, match="cannot be trained with DP-SGD"):
        make_private(model, torch.optim.SGD(model.parameters(), lr=0.1), TrainData(x, y, x, y), recipe, seed=0)


class _LinearWithBuffer(nn.Linear):
    """A trainable layer with a buffer: Opacus has no per-example gradient rule for it."""

    def __init__(self):
        super().__init__(3 * 16 * 16, 5)
        self.register_buffer("scale", torch.ones(1))


def _one_line_refusal(model, architecture="user") -> str:
    with pytest.raises(AuditInputError) as error:
        make_dp_compatible(model, architecture=architecture, example_input=_data()[0][:2])
    message = str(error.value)
    assert "\n" not in message and f"architecture {architecture!r} cannot be trained with DP-SGD" in message
    return message


def test_what_nothing_can_fix_is_refused_in_one_line():
    assert "trainable layer with buffers" in _one_line_refusal(nn.Sequential(nn.Flatten(), _LinearWithBuffer()))


def test_in_place_updates_torch_fx_cannot_trace_are_refused_with_the_fix():
    message = _one_line_refusal(_model(f"{USER}:BranchingResidual"))
    assert "after 1 x BatchNorm2d -> GroupNorm" in message
    assert "torch.fx failed" in message and "out = out + identity" in message


def test_a_flagged_layer_without_substitute_is_named(monkeypatch):
    monkeypatch.setitem(ModuleValidator.VALIDATORS, nn.Tanh, lambda layer: [ValueError("Tanh mixes examples")])
    message = _one_line_refusal(nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 5), nn.Tanh()))
    assert "Tanh at 2 has no substitute in Opacus (Tanh mixes examples)" in message


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_dp_sgd_runs_on_cuda_with_a_channels_last_model():
    compatible, before, after = _dp_step(_model("torchvision:resnet18"), architecture="torchvision:resnet18", device="cuda")
    assert compatible.model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert all(torch.isfinite(v).all() for v in after.values())
