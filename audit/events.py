"""What an audit tells its caller while it runs: the plan, each model as it is ready, and
warnings. The command line turns these into progress bars (:mod:`audit.cli.progress`); a
library caller may ignore them (the default) or log them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelDone:
    """One model of a pool is ready: trained now (``seconds`` it took) or loaded from the
    cache, with its final figures (``epsilon`` None unless DP-SGD)."""

    regime: str
    index: int
    total: int
    cached: bool
    seconds: float
    train_loss: float
    train_accuracy: float
    test_accuracy: float
    epsilon: float | None
    role: str = "model"  # "model" (of the pool), "audit model", "reference", "baseline"


class Events:
    """Receives an audit's progress; every method does nothing unless overridden."""

    def plan(self, *, regimes: list[str], models_per_regime: int) -> None:
        """The audit is about to make ``models_per_regime`` models ready (trained or loaded
        from the cache) for each of ``regimes`` (labels, repeated once per replicate)."""

    def model_done(self, done: ModelDone) -> None:
        """A model is ready."""

    def regime_done(self, label: str) -> None:
        """Every model of regime ``label`` is ready and attacked."""

    def info(self, message: str) -> None:
        """A line worth showing (what is being audited, where the results went)."""

    def warn(self, message: str) -> None:
        """Something the user should know that does not stop the audit (one line)."""

    def close(self) -> None:
        """The audit ended (finished or failed): release any terminal output."""
