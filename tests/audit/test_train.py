"""Training regimes on real (small) data: flooding holds the loss near b; DP-SGD spends
no more privacy than its target."""

import numpy as np
import pytest
import torch

from audit.data import load_digits_dataset, make_keep_matrix, split_pool
from audit.errors import AuditInputError
from audit.training import TrainData, TrainRecipe, parse_regime, train
from models import create_model


@pytest.fixture(scope="module")
def digits_half():
    digits = load_digits_dataset()
    split = split_pool(digits, pool_size=600, seed=0)
    keep = make_keep_matrix(num_models=2, num_examples=600, seed=0)[0]
    t = torch.from_numpy
    return TrainData(t(split.pool_x[keep]), t(split.pool_y[keep]), t(split.test_x), t(split.test_y))


def _train(data, regime_text, *, epochs=30, learning_rate=1e-3, architecture="mlp"):
    recipe = TrainRecipe(
        architecture=architecture,
        epochs=epochs,
        batch_size=64,
        learning_rate=learning_rate,
        regime=parse_regime(regime_text, delta=1e-5),
    )
    model = create_model(architecture, input_shape=tuple(data.x_train.shape[1:]), num_classes=10)
    return train(model, data, recipe, seed=0)


def test_standard_training_drives_the_loss_towards_zero(digits_half):
    outcome = _train(digits_half, "standard")
    assert outcome.history[-1].eval_train_loss < 0.02
    assert outcome.history[-1].train_accuracy == 1.0
    assert outcome.epsilon is None


@pytest.mark.parametrize("level", [0.1, 0.4])
def test_flooded_training_loss_floats_near_the_flood_level(digits_half, level):
    outcome = _train(digits_half, f"flood:{level}")
    last_epochs = [e.eval_train_loss for e in outcome.history[-5:]]
    assert np.mean(last_epochs) == pytest.approx(level, rel=0.25)
    # ... instead of collapsing to zero as standard training does.
    assert min(last_epochs) > level / 2


def test_iflood_keeps_the_training_loss_above_zero(digits_half):
    outcome = _train(digits_half, "iflood:0.3")
    assert outcome.history[-1].eval_train_loss > 0.1


@pytest.mark.slow
@pytest.mark.parametrize("regime_text", ["dp:4", "dp:4+iflood:0.3"])
def test_dp_run_reports_a_finite_epsilon_no_larger_than_its_target(digits_half, regime_text):
    outcome = _train(digits_half, regime_text, epochs=3, learning_rate=1e-2)
    assert outcome.epsilon is not None and np.isfinite(outcome.epsilon)
    assert 0 < outcome.epsilon <= 4.0
    assert outcome.history[-1].test_accuracy > 0.3  # it learned something despite the noise


@pytest.mark.slow
def test_dp_accepts_the_cnn_and_its_checkpoint_loads_into_a_plain_model(digits_half, tmp_path):
    from models import load_weights, save_weights

    outcome = _train(digits_half, "dp:8", epochs=1, learning_rate=1e-2, architecture="cnn")
    save_weights(outcome.model, tmp_path / "w.npz")
    plain = load_weights(create_model("cnn", input_shape=(1, 8, 8), num_classes=10), tmp_path / "w.npz")
    x = digits_half.x_test[:5]
    assert torch.allclose(plain(x), outcome.model.eval()(x), atol=1e-5)


def test_dp_refuses_delta_not_below_one_over_n(digits_half):
    recipe = TrainRecipe(architecture="mlp", epochs=1, batch_size=64, learning_rate=1e-2, regime=parse_regime("dp:8", delta=0.1))
    with pytest.raises(AuditInputError, match="delta must be in") as error:
        train(create_model("mlp", input_shape=(1, 8, 8), num_classes=10), digits_half, recipe, seed=0)
    assert "lower --delta below" in str(error.value) and "e.g. --delta " in str(error.value)


class _LinearWithBuffer(torch.nn.Linear):
    """A trainable layer with a buffer: DP-SGD has no per-example gradient rule for it."""

    def __init__(self):
        super().__init__(64, 10)
        self.register_buffer("scale", torch.ones(1))


def test_an_architecture_dp_sgd_cannot_train_names_the_flags_that_avoid_it(digits_half):
    recipe = TrainRecipe(architecture="user", epochs=1, batch_size=64, learning_rate=1e-2, regime=parse_regime("dp:8", delta=1e-5))
    with pytest.raises(AuditInputError) as error:
        train(torch.nn.Sequential(torch.nn.Flatten(), _LinearWithBuffer()), digits_half, recipe, seed=0)
    message = str(error.value)
    assert "architecture 'user' cannot be trained with DP-SGD" in message and "\n" not in message
    assert "with --arch" in message and "--epsilons with no value" in message


def test_training_that_diverges_is_bad_input_naming_the_regime_and_the_fix(digits_half):
    with pytest.raises(AuditInputError) as error:
        _train(digits_half, "flood:0.3", epochs=2, learning_rate=1e30)
    message = str(error.value)
    assert message.startswith("training diverged under flood(b=0.3) at epoch 1 (loss is not finite) with adam at learning rate 1e+30")
    assert "--learning-rate, e.g. 1e+29, or try --optimizer sgd" in message
