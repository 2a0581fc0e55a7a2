"""A training recipe: everything that determines how one model is trained, besides its data
and seed. Reference models copy the target's recipe field for field; it is stored with every
model, so a mismatch is visible rather than silent."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from audit.errors import AuditInputError
from audit.training.regimes import Regime

OPTIMIZERS = ("adam", "sgd")


def check_training_settings(*, epochs: object, batch_size: object, learning_rate: object, optimizer: object) -> None:
    """Raise :class:`AuditInputError` naming the first unusable training setting."""
    if not _is_int(epochs) or epochs < 1:
        raise AuditInputError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if not _is_int(batch_size) or batch_size < 1:
        raise AuditInputError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    if not _is_number(learning_rate) or not 0 < learning_rate < float("inf"):
        raise AuditInputError(f"learning rate must be a number > 0, got {learning_rate!r}")
    if optimizer not in OPTIMIZERS:
        raise AuditInputError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")


@dataclass(frozen=True)
class TrainRecipe:
    """How every model of a pool trains: architecture (and its options), epochs, batch size
    (examples; the expected batch size under DP-SGD's Poisson sampling), learning rate,
    optimizer, weight decay and the regime (objective and DP settings)."""

    architecture: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    weight_decay: float = 0.0
    regime: Regime = Regime()
    architecture_options: dict = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        check_training_settings(
            epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate, optimizer=self.optimizer
        )

    def to_dict(self) -> dict:
        return asdict(self)


def divergence_error(recipe: TrainRecipe, *, epoch: int, models: list[int] | None = None) -> AuditInputError:
    """The one-line error for training whose loss stopped being finite at ``epoch`` (``models``:
    which of an ensemble's models), naming the regime, its settings and the flags that fix it."""
    regime = recipe.regime
    flag = "--dp-learning-rate (audit.train: --learning-rate)" if regime.is_private else "--learning-rate"
    other = "sgd" if recipe.optimizer == "adam" else "adam"
    which = f" for model(s) {models}" if models is not None else ""
    return AuditInputError(
        f"training diverged under {regime.label} at epoch {epoch}{which} (loss is not finite) with {recipe.optimizer} "
        f"at learning rate {recipe.learning_rate:g}, batch size {recipe.batch_size}: lower the learning rate with "
        f"{flag}, e.g. {recipe.learning_rate / 10:g}, or try --optimizer {other}"
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
