"""What a configuration implies: the regimes to audit, each regime's training recipe, and
the epochs at which snapshots are kept."""

from __future__ import annotations

from audit.errors import AuditInputError
from audit.training import Regime, TrainRecipe, parse_regime
from results.config import AuditConfig


def regime_list(config: AuditConfig) -> list[Regime]:
    """The regimes to audit, in report order (standard first); duplicates removed."""
    texts = list(config.regimes) or [
        "standard",
        *(f"flood:{b}" for b in ([] if config.flood_auto else config.flood_levels)),
        *(f"iflood:{b}" for b in config.iflood_levels),
        *(f"dp:{eps}" for eps in config.epsilons),
    ]
    regimes = [parse_regime(t, delta=config.delta, max_grad_norm=config.max_grad_norm) for t in texts]
    if not regimes:
        raise AuditInputError("no regime to audit: give at least one with --regimes")
    return list(dict.fromkeys(regimes))


def recipe_for(config: AuditConfig, regime: Regime) -> TrainRecipe:
    """The training recipe every model of ``regime`` follows (targets and references alike)."""
    return TrainRecipe(
        architecture=config.architecture,
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.dp_learning_rate if regime.is_private else config.learning_rate,
        optimizer=config.optimizer,
        regime=regime,
        architecture_options=dict(config.architecture_options),
    )


def snapshot_epochs(config: AuditConfig) -> tuple[int, ...]:
    """``config.snapshots`` epochs spread evenly over training, the last epoch included."""
    if config.snapshots == 0:
        return ()
    count = min(config.snapshots, config.epochs)
    return tuple(sorted({round(config.epochs * (i + 1) / count) for i in range(count)}))
