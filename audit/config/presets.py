"""Named starting points for a configuration; flags and config files override any of their values."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # CIFAR-10 on a 2-core CPU in under 30 minutes: 4,000 candidates (2,000 training images per
    # model, few enough for the small CNN to memorise in 20 epochs: the over-confident regime
    # the audit studies), 100 of them mislabelled canaries, 6 models per regime (each
    # candidate IN for 3; every candidate calibrated on 2 IN and 2 OUT references, which LiRA
    # online needs), DP-SGD tuned on 2,000 + 1,000 images set aside.
    "cifar10-cpu": {
        "dataset": "cifar10",
        "architecture": "cnn",
        "pool_size": 4000,
        "test_size": 2000,
        "epochs": 20,
        "batch_size": 64,
        "learning_rate": 1e-3,
        "dp_learning_rate": 5e-3,
        "models_per_regime": 6,
        "canaries": 100,
        "dp_search_budget": 6,
        "regimes": ("standard", "flood:0.5", "dp:8"),
        "attacks": (
            "loss", "confidence", "entropy", "modified-entropy", "shadow", "lira-online", "lira-offline", "rmia",
            "label-only",
        ),
        "main_attack": "lira-online",
        "snapshots": 3,
    },
}
