"""Configuration: the settings record (:class:`results.config.AuditConfig`), presets, TOML
files, validation against the registries, and what a configuration implies.

- :mod:`~audit.config.presets`: named starting points (``--preset cifar10-cpu``).
- :mod:`~audit.config.files`: ``--config FILE.toml`` and the effective ``config.toml``.
- :mod:`~audit.config.validation`: :func:`validate`, run before anything trains.
- :mod:`~audit.config.plan`: :func:`regime_list`, :func:`recipe_for`, :func:`snapshot_epochs`.
"""

from audit.config.files import load_config_file, write_config_toml
from audit.config.plan import recipe_for, regime_list, snapshot_epochs
from audit.config.presets import PRESETS
from audit.config.validation import validate
from results.config import AuditConfig, config_fields

__all__ = [
    "PRESETS",
    "AuditConfig",
    "config_fields",
    "load_config_file",
    "recipe_for",
    "regime_list",
    "snapshot_epochs",
    "validate",
    "write_config_toml",
]
