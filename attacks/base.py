"""The attack protocol and its input checks (the registry of attacks by name is in
:mod:`attacks.registry`).

Shapes used throughout the package:

- ``logits``: float ``[M, n, A, C]``: M models, n audit-pool candidates, A queries per
  example (index 0 is the un-augmented one), C classes.
- ``keep``: bool ``[M, n]``, True where candidate i was in model m's training set.
- ``labels``: int ``[n]``.
- scores: float64 ``[n]``, higher = more likely a member (scikit-learn's ``roc_curve``
  convention; any conversion such as ``-loss`` happens inside the attack).

An attack is calibrated on *reference* models only (``fit``) and then scores one *target*
model (``score``). It works in three steps that subclasses implement: ``_signals`` turns
logits into a per-model signal (loss, LiRA's phi, a feature vector...), ``_fit_signals``
calibrates on the references' signals and keep rows, ``_score_signals`` scores a target's
signal. :meth:`MembershipAttack.leave_one_out` computes the signals of all M models once
and reuses them for every target; attacks whose calibration is a sum over models (LiRA,
RMIA) override ``_fit_each_target`` to take the target's share out of totals computed once.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Iterator, Sequence
from typing import ClassVar

import numpy as np
from sklearn.exceptions import NotFittedError


class AttackInputError(ValueError):
    """An attack name, option value or input array the attack cannot use.

    The message is one line that names the offending value and, where there is one, the fix.
    """


class MembershipAttack(abc.ABC):
    """A black-box membership-inference attack, scikit-learn style.

    ``__init__`` stores keyword-only settings; ``fit`` calibrates on reference models and
    sets attributes ending in ``_``; ``score`` returns float64 ``[n]``, higher = member.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    reference: ClassVar[str]

    def fit(self, ref_logits: np.ndarray, ref_keep: np.ndarray, labels: np.ndarray) -> MembershipAttack:
        """Calibrate on reference models: ``ref_logits [R, n, A, C]``, ``ref_keep [R, n]``
        (their ground truth), ``labels [n]``. Never pass the target's keep row here."""
        self._validate_options()
        ref_logits, ref_keep, labels = np.asarray(ref_logits), np.asarray(ref_keep), np.asarray(labels)
        check_pool(logits=ref_logits, keep=ref_keep, labels=labels, what="reference")
        self.input_shape_ = tuple(ref_logits.shape[1:])
        self.n_classes_ = ref_logits.shape[-1]
        self._fit_signals(self._signals(ref_logits, labels), ref_keep, labels)
        return self

    def score(self, target_logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Membership scores of the target's candidates: ``target_logits [n, A, C]`` (the same
        candidates and queries as in ``fit``), ``labels [n]`` -> float64 ``[n]``, higher =
        member."""
        if not hasattr(self, "input_shape_"):
            raise NotFittedError(f"call fit() on the {self.name} attack before score()")
        target_logits, labels = np.asarray(target_logits), np.asarray(labels)
        if target_logits.shape != self.input_shape_:
            raise AttackInputError(
                f"target logits have shape {target_logits.shape}; the attack was fitted on "
                f"candidates of shape {self.input_shape_} ([n, A, C])"
            )
        check_pool(logits=target_logits[None], keep=None, labels=labels, what="target")
        signal = self._signals(target_logits[None], labels)[0]
        return np.asarray(self._score_signals(signal, labels), dtype=np.float64)

    def leave_one_out(
        self,
        *,
        logits: np.ndarray,
        keep: np.ndarray,
        labels: np.ndarray,
        targets: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Each model in ``targets`` (default: all) in turn is the target, the other M-1 are
        its references. Returns float64 ``[M, n]``; rows not in ``targets`` are NaN.

        The target's keep row never reaches ``_fit_signals``, so anything learned (thresholds,
        attack classifiers, Gaussians) is out-of-fold for the target by construction.
        """
        self._validate_options()
        logits, keep, labels, targets = check_leave_one_out(logits=logits, keep=keep, labels=labels, targets=targets)
        self.input_shape_ = tuple(logits.shape[1:])
        self.n_classes_ = logits.shape[-1]
        signals = self._signals(logits, labels)
        scores = np.full(keep.shape, np.nan)
        for target in self._fit_each_target(signals, keep, labels, targets):
            scores[target] = self._score_signals(signals[target], labels)
        return scores

    def _fit_each_target(
        self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: list[int]
    ) -> Iterator[int]:
        """Calibrate on every model but ``target``, for each target in turn, yielding the
        target once fitted. Attacks whose calibration is a sum over models override this to
        subtract the target's share from totals computed once."""
        for target in targets:
            refs = np.arange(len(keep)) != target
            self._fit_signals(signals[refs], keep[refs], labels)
            yield target

    @abc.abstractmethod
    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Per-model signal ``[M, n, ...]`` from ``logits [M, n, A, C]``."""

    @abc.abstractmethod
    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray) -> None:
        """Calibrate on the references' signals ``[R, n, ...]`` and ``keep [R, n]``."""

    @abc.abstractmethod
    def _score_signals(self, signal: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Scores ``[n]`` (higher = member) of one target's signal ``[n, ...]``."""

    def _validate_options(self) -> None:
        """Raise :class:`AttackInputError` naming any setting that cannot be used."""

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{p}={getattr(self, p)!r}" for p in inspect.signature(type(self).__init__).parameters if p != "self"
        )
        return f"{type(self).__name__}({settings})"


def check_pool(*, logits: np.ndarray, keep: np.ndarray | None, labels: np.ndarray, what: str) -> None:
    """Raise :class:`AttackInputError` unless ``logits [M, n, A, C]``, ``keep [M, n]`` (bool,
    or None) and ``labels [n]`` agree and hold usable values."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    if logits.ndim != 4:
        raise AttackInputError(f"{what} logits must have shape [models, n, queries, classes]; got {logits.shape}")
    n_models, n, n_queries, n_classes = logits.shape
    if min(n_models, n, n_queries) < 1 or n_classes < 2:
        raise AttackInputError(
            f"{what} logits of shape {logits.shape} need >= 1 model, candidate, query and >= 2 classes"
        )
    if not np.issubdtype(logits.dtype, np.floating):
        raise AttackInputError(f"{what} logits must be floating point; got dtype {logits.dtype}")
    bad = np.size(logits) - np.count_nonzero(np.isfinite(logits))
    if bad:
        raise AttackInputError(f"{what} logits hold {bad} non-finite values (NaN or inf)")
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
        raise AttackInputError(f"labels must be integers of shape ({n},); got {labels.dtype} {labels.shape}")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise AttackInputError(
            f"labels must lie in [0, {n_classes}) for {n_classes}-class logits; got range "
            f"[{labels.min()}, {labels.max()}]"
        )
    if keep is not None:
        keep = np.asarray(keep)
        if keep.shape != (n_models, n) or keep.dtype != np.bool_:
            raise AttackInputError(
                f"{what} keep must be bool of shape ({n_models}, {n}); got {keep.dtype} {keep.shape}"
            )


def check_leave_one_out(
    *, logits: np.ndarray, keep: np.ndarray, labels: np.ndarray, targets: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    """Check a pool for leave-one-out; return the arrays and the sorted target indices."""
    logits, keep, labels = np.asarray(logits), np.asarray(keep), np.asarray(labels)
    check_pool(logits=logits, keep=keep, labels=labels, what="pool")
    n_models = len(logits)
    if n_models < 2:
        raise AttackInputError(f"leave-one-out needs at least 2 models (1 target, >= 1 reference); got {n_models}")
    if targets is None:
        return logits, keep, labels, list(range(n_models))
    targets = [int(t) for t in targets]
    outside = [t for t in targets if not 0 <= t < n_models]
    if outside:
        raise AttackInputError(f"targets {outside} are not model indices in [0, {n_models})")
    return logits, keep, labels, sorted(set(targets))
