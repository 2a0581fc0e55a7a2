"""Checking a whole configuration before anything trains: types, ranges, and every named
choice against its registry (architectures, attacks, query sets, regimes, data-set specs).

Each problem is one :class:`~audit.errors.AuditInputError` whose message names the value and
the valid choices, so the command line can print it as one line and exit with code 2.
"""

from __future__ import annotations

from attacks import available_attacks
from audit.config.files import check_field_types
from audit.config.plan import regime_list
from audit.data.queries import QUERY_SETS
from audit.errors import AuditInputError
from audit.training.recipe import check_training_settings
from models import available_architectures
from results.config import AuditConfig


def validate(config: AuditConfig) -> AuditConfig:
    """Raise :class:`AuditInputError` for the first unusable value; returns ``config``."""
    check_field_types(config)
    if config.models_per_regime < 2:
        raise AuditInputError(
            f"models per regime must be >= 2 (each model is attacked with the others as references), "
            f"got {config.models_per_regime}"
        )
    if config.snapshots < 0:
        raise AuditInputError(f"snapshots must be >= 0, got {config.snapshots}")
    if config.device not in ("auto", "cpu") and not config.device.startswith("cuda"):
        raise AuditInputError(f"unknown device {config.device!r}; use auto, cpu or cuda[:N]")
    if not 0 < config.delta < 1:
        raise AuditInputError(f"delta must be in (0, 1), got {config.delta}")
    for learning_rate in (config.learning_rate, config.dp_learning_rate):
        check_training_settings(
            epochs=config.epochs, batch_size=config.batch_size, learning_rate=learning_rate, optimizer=config.optimizer
        )
    _check_choice("architecture", config.architecture, available_architectures())
    _check_choice("query set", config.queries, QUERY_SETS)
    for name in (*config.attacks, config.main_attack):
        _check_choice("attack", name, available_attacks())
    regime_list(config)
    return config


def _check_choice(what: str, value: str, choices) -> None:
    if value not in choices:
        raise AuditInputError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
