"""Checking a whole configuration before anything trains: types, ranges, and every named
choice against its registry (architectures, attacks, query sets, regimes, data-set specs).

Each problem is one :class:`~audit.errors.AuditInputError` whose message names the value and
the valid choices, so the command line can print it as one line and exit with code 2.
"""

from __future__ import annotations

from attacks import DEFAULT_ATTACKS, available_attacks, create_attack
from audit.config.files import check_field_types
from audit.config.plan import regime_list
from audit.data.canaries import check_canaries
from audit.data.queries import QUERY_SETS
from audit.data.split import MIN_POOL_SIZE
from audit.errors import AuditInputError
from audit.training.recipe import check_training_settings
from models import (
    ArchitectureError,
    architecture_code_version,
    check_architecture,
    check_architecture_spec,
)
from results.config import AuditConfig
from results.vocabulary import EXECUTORS, TRAINERS

# Each candidate is calibrated on c_in - 1 member and c_out - 1 non-member references
# (attacks.base): at least one of each needs c_in, c_out >= 2, so 4 models. Some attacks need
# more in the pool audit (their min_models: lira-online 6, lira-offline and rmia 5).
MIN_MODELS = 4


def validate(config: AuditConfig) -> AuditConfig:
    """Raise :class:`AuditInputError` for the first unusable value; returns ``config``."""
    check_field_types(config)
    if config.replicates < 1:
        raise AuditInputError(f"replicates must be >= 1 (whole audits to repeat), got {config.replicates}")
    if config.dp_search_budget < 1:
        raise AuditInputError(f"DP search budget must be >= 1 configuration per epsilon, got {config.dp_search_budget}")
    if config.validation_size < 0:
        raise AuditInputError(f"validation size must be >= 0 (0: a tenth of the data), got {config.validation_size}")
    if config.threads < 0:
        raise AuditInputError(f"threads must be >= 0 (0: chosen for this machine), got {config.threads}")
    if config.workers < 0:
        raise AuditInputError(f"workers must be >= 0 (0: one per CPU core), got {config.workers}")
    if config.workers > 1 and config.executor != "local":
        raise AuditInputError(
            f"--workers {config.workers} is for the local executor; with --executor {config.executor} every task "
            "is a group of models of its own: drop --workers"
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
    try:
        check_architecture_spec(config.architecture, config.architecture_options)
    except ArchitectureError as error:
        raise AuditInputError(str(error)) from None
    _check_choice("query set", config.queries, QUERY_SETS)
    _check_choice("trainer", config.trainer, TRAINERS)
    _check_choice("executor", config.executor, EXECUTORS)
    if config.ray_address and config.executor != "ray":
        raise AuditInputError(
            f"--ray-address {config.ray_address!r} needs --executor ray (the local executor trains in this process)"
        )
    for name in (*config.attacks, config.main_attack):
        _check_choice("attack", name, available_attacks())
    _check_models_per_regime(config)
    if not config.model and config.pool_size < MIN_POOL_SIZE:
        raise AuditInputError(
            f"pool size must be at least {MIN_POOL_SIZE} (each model trains on half of the pool), got {config.pool_size}"
        )
    if not config.model:  # canaries are planted in the pool audit; a user's model brings its own data
        check_canaries(count=config.canaries, kind=config.canary_kind, pool_size=config.pool_size)
    regimes = regime_list(config)
    if config.flood_auto and not any(r.kind == "standard" for r in regimes):
        raise AuditInputError(
            "--flood-levels auto derives its levels from the standard regime's test loss: add standard to --regimes"
        )
    if not 0 <= config.flood_tolerance < 1:
        raise AuditInputError(f"flood tolerance must be a fraction in [0, 1), got {config.flood_tolerance}")
    return config


def validate_architecture(config: AuditConfig, *, input_shape: tuple[int, ...], num_classes: int) -> dict:
    """Build the configured architecture once for the data's shape (CPU, one forward pass) and
    return its identity (:func:`models.architecture_identity`) with its code version
    (:func:`models.architecture_code_version`): together part of every model's cache key. A
    one-line :class:`AuditInputError` if it cannot be built, before any training."""
    try:
        identity = check_architecture(
            config.architecture, config.architecture_options, input_shape=input_shape, num_classes=num_classes
        )
        return {**identity, "code": architecture_code_version(config.architecture)}
    except ArchitectureError as error:
        raise AuditInputError(str(error)) from None


def _attack_needs(config: AuditConfig) -> dict[str, int]:
    """The models per regime each attack of the pool audit needs (its ``min_models``): the
    configured attacks, or every default one, and the main attack. Auditing a user's model
    (``config.model``) fits every attack on all the references, with no model left out, and
    :data:`MIN_MODELS` suffice; then this is empty."""
    if config.model:
        return {}
    names = dict.fromkeys((*(config.attacks or DEFAULT_ATTACKS), config.main_attack))
    return {name: create_attack(name).min_models for name in names if name in available_attacks()}


def _check_models_per_regime(config: AuditConfig) -> None:
    """Refuse too few models per regime before anything trains: fewer than :data:`MIN_MODELS`,
    or fewer than an attack's leave-one-out needs, naming the attacks, how many each needs and
    the flags that fix it (:func:`audit.pipeline.pools.check_attacks` is the last check)."""
    models = config.models_per_regime
    needs = _attack_needs(config)
    required = max([MIN_MODELS, *needs.values()])
    if models >= required:
        return
    listed = ", ".join(f"{name} needs {need}" for name, need in needs.items() if need > max(models, MIN_MODELS))
    if models < MIN_MODELS:
        raise AuditInputError(
            f"models per regime must be >= {MIN_MODELS} (each model is attacked with the others as references, "
            f"which need a member and a non-member model for every candidate besides the target's), got {models}: "
            f"use --models-per-regime {required}" + (f" ({listed})" if listed else " or more")
        )
    short = [name for name, need in needs.items() if need > models]
    enough = [name for name in needs if name not in short]
    main = config.main_attack if config.main_attack in enough else (enough or ["loss"])[0]
    raise AuditInputError(
        f"models per regime must be >= {required} for the attacks configured, got {models}: {listed} (each model is "
        f"attacked with the other {models - 1} as references, less a member and a non-member of each candidate); "
        f"use --models-per-regime {required}, or leave {'that attack' if len(short) == 1 else 'those attacks'} out "
        f"with --attacks {' '.join(enough) or main} --main-attack {main}"
    )


def _check_choice(what: str, value: str, choices) -> None:
    if value not in choices:
        raise AuditInputError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")
