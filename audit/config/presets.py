"""Named starting points for a configuration; flags and config files override any of their values."""

from __future__ import annotations

from typing import Any

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
