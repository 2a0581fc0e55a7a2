"""The configuration of one audit: a dataclass with defaults that make the demo run.

Defaults and why (digits, 2-core CPU, <= 120 s for the whole demo):

- 1,000 of the 1,797 digits form the audit pool, so each model trains on 500 examples and
  797 images measure test accuracy. Small training sets are where models memorise, which
  is what makes the unregularised model's leak measurable.
- An MLP (two hidden layers of 256) trained 40 epochs with Adam at 1e-3 reaches zero
  training error and a training loss of ~0.004, the over-confident regime the audit studies.
- DP-SGD clips every per-example gradient to ``max_grad_norm``, which shrinks the step;
  its own learning rate (1e-2) recovers ~90% test accuracy at epsilon = 8.
- 8 models per regime: every candidate is IN for 4 and OUT for 4 of them, enough for LiRA
  online's per-example Gaussians with a global variance.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from audit.errors import AuditInputError
from audit.regimes import Regime, parse_regime
from audit.training import TrainRecipe


@dataclass
class AuditConfig:
    """Every setting of an audit. Field comments give units; ``validate`` checks ranges."""

    run_name: str = "demo"
    dataset: str = "digits"  # a spec of audit.datasets.load_dataset, e.g. cifar10, imagefolder:PATH
    data_dir: str = ""  # empty: $FLOOD_AUDIT_DATA or ~/.cache/flood-audit/data
    download: bool = False  # may torchvision download a missing data set?
    pool_size: int = 1000  # candidates; each model trains on half of them
    test_size: int = 0  # held-out examples for test accuracy; 0: every example outside the pool
    architecture: str = "mlp"
    epochs: int = 40
    batch_size: int = 64  # examples; expected batch size under DP-SGD's Poisson sampling
    learning_rate: float = 1e-3
    dp_learning_rate: float = 1e-2  # DP-SGD's clipped, noised steps need a larger rate
    optimizer: str = "adam"
    models_per_regime: int = 8
    flood_levels: tuple[float, ...] = (0.1, 0.3)  # training-loss units (nats)
    iflood_levels: tuple[float, ...] = (0.2,)
    epsilons: tuple[float, ...] = (8.0,)
    regimes: tuple[str, ...] = ()  # explicit list (e.g. "dp:4+iflood:0.2"); overrides the three above
    delta: float = 1e-5  # must stay below 1 / (training-set size)
    max_grad_norm: float = 1.0
    attacks: tuple[str, ...] = ()  # empty: every default attack
    main_attack: str = "lira-online"
    queries: str = "identity"
    snapshots: int = 5  # epochs at which the pool's outputs are kept for attack-vs-epoch curves
    seed: int = 0
    device: str = "auto"
    output_dir: str = "flood-audit-output"
    cache_dir: str = ""  # empty: OUTPUT_DIR/cache
    # Auditing a trained model of the user's (empty model: the pool audit of every regime).
    model: str = ""  # TorchScript, state_dict (with architecture) or a flood-audit checkpoint
    members: str = ""  # file of member indices into the data set (npy, txt or json)
    non_members: str = ""  # empty: as many examples from outside the members, drawn at random
    target_regime: str = "standard"  # how the user's model was trained; references copy it
    trust_pickle: bool = False  # allow model files that hold pickled code (executes it!)

    def validate(self) -> AuditConfig:
        """Raise :class:`AuditInputError` for the first unusable value; returns self."""
        if self.models_per_regime < 2:
            raise AuditInputError(
                f"models per regime must be >= 2 (each model is attacked with the others as references), "
                f"got {self.models_per_regime}"
            )
        if self.snapshots < 0:
            raise AuditInputError(f"snapshots must be >= 0, got {self.snapshots}")
        if self.device not in ("auto", "cpu") and not self.device.startswith("cuda"):
            raise AuditInputError(f"unknown device {self.device!r}; use auto, cpu or cuda[:N]")
        for eps in self.epsilons:
            if not eps > 0:
                raise AuditInputError(f"epsilon must be > 0, got {eps} (typical values: 1 to 10)")
        if not 0 < self.delta < 1:
            raise AuditInputError(f"delta must be in (0, 1), got {self.delta}")
        self.regime_list()
        for learning_rate in (self.learning_rate, self.dp_learning_rate):
            self.recipe(Regime(), learning_rate=learning_rate)  # validates epochs, batch size, rates
        return self

    def regime_list(self) -> list[Regime]:
        """The regimes to audit, in report order (standard first); duplicates removed."""
        texts = list(self.regimes) or [
            "standard",
            *(f"flood:{b}" for b in self.flood_levels),
            *(f"iflood:{b}" for b in self.iflood_levels),
            *(f"dp:{eps}" for eps in self.epsilons),
        ]
        regimes = [parse_regime(t, delta=self.delta, max_grad_norm=self.max_grad_norm) for t in texts]
        if not regimes:
            raise AuditInputError("no regime to audit: give at least one with --regimes")
        return list(dict.fromkeys(regimes))

    def recipe(self, regime: Regime, *, learning_rate: float | None = None) -> TrainRecipe:
        """The training recipe every model of ``regime`` follows (targets and references alike)."""
        if learning_rate is None:
            learning_rate = self.dp_learning_rate if regime.is_private else self.learning_rate
        return TrainRecipe(
            architecture=self.architecture,
            epochs=self.epochs,
            batch_size=self.batch_size,
            learning_rate=learning_rate,
            optimizer=self.optimizer,
            regime=regime,
        )

    def snapshot_epochs(self) -> tuple[int, ...]:
        """``snapshots`` epochs spread evenly over training, the last epoch included."""
        if self.snapshots == 0:
            return ()
        count = min(self.snapshots, self.epochs)
        return tuple(sorted({round(self.epochs * (i + 1) / count) for i in range(count)}))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def config_fields() -> list[str]:
    """Names of every configuration field (for config files and their error messages)."""
    return [f.name for f in dataclasses.fields(AuditConfig)]


# Named starting points; flags and config files override any of their values.
PRESETS: dict[str, dict[str, Any]] = {
    # CIFAR-10 on a 2-core CPU in under 30 minutes: 4,000 candidates (2,000 training images per
    # model, few enough for the small CNN to memorise in 20 epochs: the over-confident regime
    # the audit studies), 5 models per regime (each candidate IN for 2), which supports every
    # attack but LiRA online (that needs 2 IN references per target).
    "cifar10-cpu": {
        "dataset": "cifar10",
        "architecture": "cnn",
        "pool_size": 4000,
        "test_size": 2000,
        "epochs": 20,
        "batch_size": 64,
        "learning_rate": 1e-3,
        "dp_learning_rate": 5e-3,
        "models_per_regime": 5,
        "regimes": ("standard", "flood:0.5", "dp:8"),
        "attacks": (
            "loss", "confidence", "entropy", "modified-entropy", "shadow", "lira-offline", "rmia", "label-only",
        ),
        "main_attack": "lira-offline",
        "snapshots": 3,
    },
}


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of configuration fields (the CLI's option names with underscores).

    Unknown keys are an error that lists the valid ones, so a typo never goes unnoticed.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"config file {path} does not exist")
    try:
        values = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise AuditInputError(f"config file {path} is not valid TOML: {error}") from None
    unknown = sorted(set(values) - set(config_fields()))
    if unknown:
        raise AuditInputError(
            f"config file {path} has unknown keys {', '.join(unknown)}; valid keys: {', '.join(config_fields())}"
        )
    return values


def write_config_toml(path: Path, config: AuditConfig) -> None:
    """The effective configuration as TOML that ``--config`` reads back."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in config.to_dict().items()]
    path.write_text("# effective configuration of this run (python -m audit.run --config THIS_FILE)\n" + "\n".join(lines) + "\n")


def _toml_value(value: Any) -> str:
    # JSON's spelling of strings, numbers, booleans and arrays is valid TOML.
    return json.dumps(list(value) if isinstance(value, tuple) else value)
