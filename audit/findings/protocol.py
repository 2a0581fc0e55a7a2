"""The flooding study's protocol: which audits answer "does flooding help as much as DP-SGD?"
on each data set, as configurations of the ordinary audit.

Each study runs, on one data set: the standard regime; flooding at levels derived from the
standard models' test loss (``--flood-levels auto``: 0.25 to 2 times it, with a recommended
level); per-example flooding (iFlood) at the standard test loss; DP-SGD at three epsilons (1,
8, and a formally vacuous 32, so that DP-SGD's accuracies bracket flooding's), each tuned
within a budget on data set aside; mislabelled canaries for the worst case; every attack.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from results.config import AuditConfig

EPSILONS = (1.0, 8.0, 32.0)


@dataclass(frozen=True)
class Study:
    """One data set's audit of the study: a short ``name`` (file names), a ``title``, and the
    configuration (``dataset`` left to the caller where it names a path)."""

    name: str
    title: str
    config: AuditConfig


def digits_study() -> Study:
    """The digits audit: the demo's MLP, 800 candidates (40 canaries), 8 models per regime."""
    return Study(
        name="digits",
        title="scikit-learn digits, MLP",
        config=AuditConfig(
            run_name="study-digits",
            dataset="digits",
            pool_size=800,
            canaries=40,
            flood_auto=True,
            iflood_levels=(0.2,),
            epsilons=EPSILONS,
            dp_search_budget=8,
        ),
    )


def cifar10_study(path: str) -> Study:
    """The CIFAR-10 audit on an image folder at ``path``: the cifar10-cpu preset's recipe
    (small CNN, 2,000 training images per model, 20 epochs, 6 models per regime, 100 canaries)
    with the study's regimes."""
    from audit.config import PRESETS

    preset = {key: value for key, value in PRESETS["cifar10-cpu"].items() if key != "regimes"}
    return Study(
        name="cifar10",
        title="CIFAR-10, small CNN",
        config=replace(
            AuditConfig(**preset),
            run_name="study-cifar10",
            dataset=f"imagefolder:{path}",
            flood_auto=True,
            iflood_levels=(1.0,),
            epsilons=EPSILONS,
            snapshots=0,
        ),
    )
