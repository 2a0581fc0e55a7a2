"""A configuration is checked against every registry and type before anything trains; each
problem is one line naming the value and the valid choices."""

from __future__ import annotations

import dataclasses

import pytest

from audit.config import AuditConfig, validate
from audit.errors import AuditInputError


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
