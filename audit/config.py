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
from dataclasses import dataclass
from typing import Any

from audit.errors import AuditInputError
from audit.regimes import Regime, parse_regime
from audit.train import TrainRecipe


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
