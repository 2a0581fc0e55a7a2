"""A configuration is checked against every registry and type before anything trains; each
problem is one line naming the value and the valid choices."""

from __future__ import annotations

import dataclasses

import pytest

from attacks import AttackInputError, available_attacks, create_attack
from audit.config import AuditConfig, validate
from audit.config.validation import MIN_MODELS, validate_architecture
from audit.errors import AuditInputError
from audit.pipeline.pools import check_attacks


@pytest.mark.parametrize(
    "change, words",
    [
        ({"architecture": "transformer"}, "unknown architecture 'transformer'; choose one of: mlp, cnn, resnet"),
        ({"queries": "rotate"}, "unknown query set 'rotate'; choose one of: identity, flip, shift, flip+shift"),
        ({"attacks": ("loss", "lira")}, "unknown attack 'lira'; choose one of: loss, loss-class"),
        ({"main_attack": "best"}, "unknown attack 'best'"),
        ({"regimes": ("standard", "dropout:0.1")}, "unknown regime 'dropout:0.1'"),
        ({"optimizer": "lion"}, "unknown optimizer 'lion'; choose one of adam, sgd"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"models_per_regime": 3}, "models per regime must be >= 4"),
        ({"epochs": 0}, "epochs must be a whole number >= 1"),
        ({"learning_rate": float("inf")}, "learning rate must be a number > 0"),
        ({"flood_levels": (float("nan"),)}, "flood level must be a finite number >= 0, got nan"),
        ({"regimes": ("dp:inf",)}, "epsilon must be a finite number > 0, got inf"),
        ({"epochs": 2.5}, "epochs in the configuration must be a whole number, got 2.5"),
        ({"flood_levels": 0.3}, "flood_levels in the configuration must be a list of numbers, got 0.3"),
        ({"output_dir": 5}, "output_dir in the configuration must be a string, got 5"),
        ({"regimes": "standard"}, "regimes in the configuration must be a list of strings, got 'standard'"),
    ],
)
def test_each_bad_value_is_named_with_its_fix(change, words):
    with pytest.raises(AuditInputError) as error:
        validate(dataclasses.replace(AuditConfig(), **change))
    assert words in str(error.value) and "\n" not in str(error.value)


def test_the_default_configuration_and_every_registered_choice_are_valid():
    validate(AuditConfig())
    for architecture in ("mlp", "cnn", "resnet"):
        validate(AuditConfig(architecture=architecture))
    validate(AuditConfig(queries="flip+shift", attacks=("rmia", "shadow"), main_attack="rmia"))


@pytest.mark.parametrize(
    "change, words",
    [
        (
            {"models_per_regime": 4},  # every default attack, lira-online the main one
            [
                (
                    "models per regime must be >= 6 for the attacks configured, got 4: lira-online needs 6, "
                    "lira-offline needs 5, rmia needs 5"
                ),
                "use --models-per-regime 6, or leave those attacks out with --attacks loss ",
                "--main-attack loss",
            ],
        ),
        (
            {"models_per_regime": 5, "attacks": ("loss", "lira-online"), "main_attack": "lira-online"},
            ["lira-online needs 6", "use --models-per-regime 6, or leave that attack out with --attacks loss --main-attack loss"],
        ),
        (
            {"models_per_regime": 4, "attacks": ("loss", "rmia"), "main_attack": "loss"},
            ["rmia needs 5", "use --models-per-regime 5, or leave that attack out with --attacks loss --main-attack loss"],
        ),
        (
            {"models_per_regime": 4, "attacks": ("loss",), "main_attack": "lira-offline"},  # the main attack counts too
            ["lira-offline needs 5", "--attacks loss --main-attack loss"],
        ),
        ({"models_per_regime": 3}, ["models per regime must be >= 4", "got 3: use --models-per-regime 6 (lira-online needs 6"]),
        ({"models_per_regime": 3, "attacks": ("loss",), "main_attack": "loss"}, ["got 3: use --models-per-regime 4 or more"]),
        ({"models_per_regime": 3, "model": "model.pt"}, ["got 3: use --models-per-regime 4 or more"]),
    ],
)
def test_too_few_models_name_what_each_attack_needs_and_the_flags_that_fix_it(change, words):
    with pytest.raises(AuditInputError) as error:
        validate(dataclasses.replace(AuditConfig(), **change))
    message = str(error.value)
    assert "\n" not in message
    for expected in words:
        assert expected in message


def test_enough_models_for_the_attacks_configured_are_valid():
    validate(AuditConfig(models_per_regime=6))
    validate(AuditConfig(models_per_regime=5, attacks=("loss", "lira-offline", "rmia"), main_attack="rmia"))
    validate(AuditConfig(models_per_regime=4, attacks=("loss", "shadow"), main_attack="loss"))
    # A user's model is attacked with every reference (no leave-one-out): 4 suffice for any attack.
    validate(AuditConfig(models_per_regime=4, model="model.pt"))


@pytest.mark.parametrize("name", list(available_attacks()))
def test_each_attacks_stated_need_is_what_its_leave_one_out_needs(name):
    """The number validation refuses by is the one the attack's probe (run before training)
    needs: enough at min_models, too few one below (down to the floor of 4)."""
    need = create_attack(name).min_models
    check_attacks([name], num_models=need, num_classes=10)
    if need > MIN_MODELS:
        with pytest.raises(AttackInputError):
            check_attacks([name], num_models=need - 1, num_classes=10)


@pytest.mark.parametrize(
    "architecture, options, words",
    [
        ("cnn", {}, "SmallCNN needs image input (channels, H, W), got shape (8,); pick an architecture that fits these inputs"),
        ("mlp", {"num_classes": 3}, "is set from the data set, not by an option: leave it out"),
        ("tests.models.user_architectures:returns_a_list", {}, "not a torch.nn.Module: make the factory return the model itself"),
    ],
)
def test_an_architecture_that_cannot_be_built_names_the_fix(architecture, options, words):
    config = AuditConfig(architecture=architecture, architecture_options=options)
    with pytest.raises(AuditInputError) as error:
        validate_architecture(config, input_shape=(8,), num_classes=3)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_clipping_norm_out_of_range_names_its_flag():
    with pytest.raises(AuditInputError) as error:
        validate(AuditConfig(max_grad_norm=0.0))  # the default regimes include dp:8
    assert "max_grad_norm must be a finite number > 0, got 0.0" in str(error.value)
    assert "--max-grad-norm 1.0" in str(error.value)
