"""The configuration of one audit: a dataclass of settings with the defaults that make the demo run.

It is part of the results contract (``results.json`` records the effective configuration), so
it lives in this leaf package; validation, presets, config files and what a configuration
implies (its regimes, a regime's recipe) are in :mod:`audit.config`.

Defaults and why (digits, 2-core CPU, about two minutes for the whole demo):

- 800 of the 1,797 digits form the audit pool, so each model trains on 400 examples; 400 +
  179 more are set aside for DP-SGD's hyper-parameter search and the remaining 418 measure
  test accuracy. Small training sets are where models memorise, which is what makes the
  unregularised model's leak measurable. 40 of the candidates are mislabelled canaries: the
  worst case, reported apart.
- An MLP (two hidden layers of 256) trained 40 epochs with Adam at 1e-3 reaches zero
  training error and a training loss of ~0.004, the over-confident regime the audit studies.
- DP-SGD clips every per-example gradient to ``max_grad_norm``, which shrinks the step;
  its own learning rate (1e-2) is the starting point of an 8-configuration search per
  epsilon. Epsilons 1, 8 and 32 (formally vacuous) give accuracies that bracket flooding's,
  so flooding can be compared with DP-SGD at the same accuracy.
- 8 models per regime: every candidate is IN for 4 and OUT for 4 of them, enough for LiRA
  online's per-example Gaussians with a global variance.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuditConfig:
    """Every setting of an audit. Field comments give units; :func:`audit.config.validate` checks them."""

    run_name: str = "demo"
    dataset: str = "digits"  # a spec of audit.data.load_dataset, e.g. cifar10, imagefolder:PATH
    data_dir: str = ""  # empty: $FLOOD_AUDIT_DATA or ~/.cache/flood-audit/data
    download: bool = False  # may torchvision download a missing data set?
    pool_size: int = 800  # candidates; each model trains on half of them
    canaries: int = 40  # pool candidates made atypical to measure the worst case (0: none)
    canary_kind: str = "mislabelled"  # see audit.data.CANARY_KINDS
    test_size: int = 0  # held-out examples for test accuracy; 0: every example outside the pool
    architecture: str = "mlp"  # mlp, cnn, resnet, torchvision:NAME or package.module:factory
    architecture_options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of its builder
    epochs: int = 40
    batch_size: int = 64  # examples; expected batch size under DP-SGD's Poisson sampling
    learning_rate: float = 1e-3
    dp_learning_rate: float = 1e-2  # DP-SGD's clipped, noised steps need a larger rate
    optimizer: str = "adam"
    models_per_regime: int = 8
    flood_levels: tuple[float, ...] = (0.1, 0.3)  # training-loss units (nats)
    flood_auto: bool = False  # --flood-levels auto: levels from the standard models' test loss
    flood_tolerance: float = 0.02  # test accuracy (fraction) a recommended flood level may cost
    iflood_levels: tuple[float, ...] = (0.2,)
    epsilons: tuple[float, ...] = (1.0, 8.0, 32.0)
    dp_tuning: bool = True  # search DP-SGD's hyper-parameters on data set aside (audit.tuning)
    dp_search_budget: int = 8  # DP-SGD configurations tried per epsilon
    validation_size: int = 0  # validation examples of that search; 0: a tenth of the data, 100 to 1,000
    regimes: tuple[str, ...] = ()  # explicit list (e.g. "dp:4+iflood:0.2"); overrides the three above
    delta: float = 1e-5  # must stay below 1 / (training-set size)
    max_grad_norm: float = 1.0
    attacks: tuple[str, ...] = ()  # empty: every default attack
    main_attack: str = "lira-online"
    queries: str = "identity"
    snapshots: int = 5  # epochs at which the pool's outputs are kept for attack-vs-epoch curves
    seed: int = 0
    replicates: int = 1  # whole audits, each with its own keep matrix and training seeds
    device: str = "auto"
    trainer: str = "auto"  # auto, ensemble (a pool's models together, vectorised) or sequential
    threads: int = 0  # torch threads per process; 0: chosen for this machine (see audit.training.device)
    workers: int = 0  # local processes training models on the CPU; 0: one per core (one on a GPU)
    executor: str = "local"  # local (this process) or ray (a Ray task per group of models; docs/cluster.md)
    ray_address: str = ""  # with executor ray: HOST:PORT, ray://HOST:PORT or auto; empty: $RAY_ADDRESS, else a Ray instance started here
    output_dir: str = "flood-audit-output"
    cache_dir: str = ""  # empty: OUTPUT_DIR/cache
    # Auditing a trained model of the user's (empty model: the pool audit of every regime).
    model: str = ""  # TorchScript, state_dict (with architecture) or a flood-audit checkpoint
    members: str = ""  # file of member indices into the data set (npy, txt or json)
    non_members: str = ""  # empty: as many examples from outside the members, drawn at random
    target_regime: str = "standard"  # how the user's model was trained; references copy it
    trust_pickle: bool = False  # allow model files that hold pickled code (executes it!)


def config_fields() -> list[str]:
    """Names of every configuration field (for config files and their error messages)."""
    return [f.name for f in dataclasses.fields(AuditConfig)]
