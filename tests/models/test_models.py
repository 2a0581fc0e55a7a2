"""Every registered architecture: output shapes, Opacus compatibility, a DP-SGD step, and
weights that survive a save/load round trip."""

import copy

import pytest
import torch
from opacus import PrivacyEngine
from opacus.validators import ModuleValidator
from torch.utils.data import DataLoader, TensorDataset

from models import available_architectures, create_model, load_weights, save_weights
from models.resnet import ResNet

ARCHITECTURES = list(available_architectures())
DIGITS_SHAPE, CIFAR_SHAPE = (1, 8, 8), (3, 32, 32)


def _model(name, input_shape, *, seed=0):
    torch.manual_seed(seed)
    return create_model(name, input_shape=input_shape, num_classes=10)


def _batch(input_shape, *, n=16, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, *input_shape, generator=generator), torch.randint(0, 10, (n,), generator=generator)


def _private(model, data, *, noise_multiplier, max_grad_norm, poisson_sampling, batch_size):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(*data), batch_size=batch_size)
    return PrivacyEngine().make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=noise_multiplier,
        max_grad_norm=max_grad_norm,
        poisson_sampling=poisson_sampling,
        grad_sample_mode="hooks",
    )


def _sgd_step(model, optimizer, x, y):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()


def test_resnet_is_registered():
    assert "resnet" in available_architectures()


@pytest.mark.parametrize("input_shape", [DIGITS_SHAPE, CIFAR_SHAPE])
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_image_input_gives_one_logit_per_class(name, input_shape):
    model = _model(name, input_shape)
    assert model(torch.randn(5, *input_shape)).shape == (5, 10)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_tabular_input_works_or_is_refused_by_name(name):
    try:
        model = _model(name, (20,))
    except ValueError as err:
        assert name != "mlp", "the MLP is the architecture for tabular data"
        assert "image" in str(err)
    else:
        assert model(torch.randn(5, 20)).shape == (5, 10)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_opacus_accepts_every_architecture(name):
    assert ModuleValidator.validate(_model(name, CIFAR_SHAPE), strict=False) == []


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_a_dp_sgd_step_changes_the_weights_and_saves_like_a_plain_model(name, tmp_path):
    model = _model(name, DIGITS_SHAPE)
    before = copy.deepcopy(model.state_dict())
    data = _batch(DIGITS_SHAPE, n=32)
    private, optimizer, loader = _private(
        model, data, noise_multiplier=1.0, max_grad_norm=1.0, poisson_sampling=True, batch_size=16
    )
    x, y = next(iter(loader))
    _sgd_step(private, optimizer, x, y)
    after = private._module.state_dict()
    assert all(torch.isfinite(after[key]).all() for key in after)
    assert any(not torch.equal(before[key], after[key]) for key in before)
    # A private model's file loads into a plain model of the same architecture.
    save_weights(private, tmp_path / "private.npz")
    plain = load_weights(_model(name, DIGITS_SHAPE, seed=1), tmp_path / "private.npz").eval()
    probe = _batch(DIGITS_SHAPE, n=4, seed=1)[0]
    assert torch.equal(plain(probe), private._module.eval()(probe))


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_dp_step_without_noise_or_clipping_equals_plain_sgd(name):
    # Oracle test: with no noise, a clipping bound no gradient reaches and the whole batch
    # as one fixed batch, DP-SGD's per-example gradients must average to the plain gradient.
    data = _batch(DIGITS_SHAPE, n=12)
    plain = _model(name, DIGITS_SHAPE)
    private, private_optimizer, _ = _private(
        copy.deepcopy(plain), data, noise_multiplier=0.0, max_grad_norm=1e6, poisson_sampling=False, batch_size=12
    )
    _sgd_step(plain, torch.optim.SGD(plain.parameters(), lr=0.1), *data)
    _sgd_step(private, private_optimizer, *data)
    for key, value in plain.state_dict().items():
        torch.testing.assert_close(private._module.state_dict()[key], value, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_saved_weights_reload_to_identical_outputs(name, tmp_path):
    original = _model(name, CIFAR_SHAPE, seed=0).eval()
    other = _model(name, CIFAR_SHAPE, seed=1).eval()
    x = _batch(CIFAR_SHAPE, n=4)[0]
    assert not torch.equal(original(x), other(x))
    save_weights(original, tmp_path / "weights.npz")
    assert torch.equal(load_weights(other, tmp_path / "weights.npz")(x), original(x))


@pytest.mark.parametrize("depth, blocks", [(8, 1), (20, 3), (32, 5)])
def test_resnet_depth_sets_the_blocks_per_stage(depth, blocks):
    model = ResNet(input_shape=CIFAR_SHAPE, num_classes=10, depth=depth)
    assert len(model.stages) == 3 * blocks
    # conv layers: stem, two per block, and the 1x1 shortcuts of stages 2 and 3
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 1 + 6 * blocks + 2


def test_resnet_widths_and_groups_are_configurable():
    model = ResNet(input_shape=DIGITS_SHAPE, num_classes=3, depth=8, widths=(12, 24, 48), max_groups=4)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert {(m.num_groups, m.num_channels) for m in norms} == {(4, 12), (4, 24), (4, 48)}
    assert model(torch.randn(2, *DIGITS_SHAPE)).shape == (2, 3)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"input_shape": (20,)}, "image input"),
        ({"depth": 21}, "6n \\+ 2"),
        ({"depth": 2}, "6n \\+ 2"),
        ({"widths": (16, 32)}, "three stage widths"),
    ],
)
def test_resnet_refuses_bad_settings_by_name(options, message):
    with pytest.raises(ValueError, match=message):
        ResNet(**{"input_shape": CIFAR_SHAPE, "num_classes": 10, **options})
