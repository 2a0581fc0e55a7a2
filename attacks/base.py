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
calibrates on the references' signals and keep rows where a mask ``use [R, n]`` allows,
``_score_signals`` scores a target's signal. :meth:`MembershipAttack.leave_one_out`
computes the signals of all M models once and reuses them for every target; attacks whose
calibration is a sum over models (LiRA, RMIA) override ``_fit_each_target`` to take the
target's and the partners' shares out of totals computed once.

Leave-one-out calibrates every attack on the mask of :func:`reference_mask`: per candidate,
all references but one *partner* on the side opposite to the target's membership, so that
the calibration labels are the same whatever the target's keep row (docs/statistics.md,
"Calibration").
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Iterator, Sequence
from typing import ClassVar

import numpy as np

# Seed of the random order in which calibration partners are picked (a constant: the order
# must not depend on the data, and a run must be reproducible).
_PARTNER_SEED = 20240611


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
    # The fewest models of a pool :meth:`leave_one_out` can attack when each candidate is a
    # member of half of them (rounded down): :func:`reference_mask` leaves each candidate
    # c_in - 1 IN and c_out - 1 OUT references, and calibrating needs one of each, so 4.
    # Attacks that need more references per side say so here (a number, for callers to check
    # before they train a pool).
    min_models: int = 4

    def fit(
        self, ref_logits: np.ndarray, ref_keep: np.ndarray, labels: np.ndarray, *, use: np.ndarray | None = None
    ) -> MembershipAttack:
        """Calibrate on reference models: ``ref_logits [R, n, A, C]``, ``ref_keep [R, n]``
        (their ground truth), ``labels [n]``. Never pass the target's keep row here.

        ``use``: bool ``[R, n]``, the (reference, candidate) pairs to calibrate on; default
        all of them, right for references that never include the target (a user's model
        audited against a trained pool). :meth:`leave_one_out` passes
        :func:`reference_mask`, and ``fit`` with that mask gives the same scores.
        """
        self._validate_options()
        ref_logits, ref_keep, labels = np.asarray(ref_logits), np.asarray(ref_keep), np.asarray(labels)
        check_pool(logits=ref_logits, keep=ref_keep, labels=labels, what="reference")
        use = np.ones(ref_keep.shape, dtype=bool) if use is None else np.asarray(use)
        if use.shape != ref_keep.shape or use.dtype != np.bool_:
            raise AttackInputError(
                f"use must be bool of shape {ref_keep.shape} like ref_keep; got {use.dtype} {use.shape}"
            )
        self.input_shape_ = tuple(ref_logits.shape[1:])
        self.n_classes_ = ref_logits.shape[-1]
        self._fit_signals(self._signals(ref_logits, labels), ref_keep, labels, use)
        return self

    def score(self, target_logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Membership scores of the target's candidates: ``target_logits [n, A, C]`` (the same
        candidates and queries as in ``fit``), ``labels [n]`` -> float64 ``[n]``, higher =
        member."""
        if not hasattr(self, "input_shape_"):
            # Imported here: scikit-learn takes ~0.6 s to import, and the metrics never need it.
            from sklearn.exceptions import NotFittedError

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
        its references, calibrated on :func:`reference_mask`. Returns float64 ``[M, n]``;
        rows not in ``targets`` are NaN.

        The target's keep row never reaches ``_fit_signals``, so anything learned (thresholds,
        attack classifiers, Gaussians) is out-of-fold for the target by construction; the mask
        keeps it from reaching the calibration through the references' IN / OUT counts too.
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
        """Calibrate on every model but ``target`` where :func:`reference_mask` allows, for
        each target in turn, yielding the target once fitted. Attacks whose calibration is a
        sum over models override this to subtract the target's and the partners' shares
        (:func:`calibration_partners`) from totals computed once."""
        for target, partner in calibration_partners(keep, targets):
            refs = np.arange(len(keep)) != target
            self._fit_signals(signals[refs], keep[refs], labels, _mask_of_partners(partner, target, keep.shape))
            yield target

    @abc.abstractmethod
    def _signals(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Per-model signal ``[M, n, ...]`` from ``logits [M, n, A, C]``."""

    @abc.abstractmethod
    def _fit_signals(self, signals: np.ndarray, keep: np.ndarray, labels: np.ndarray, use: np.ndarray) -> None:
        """Calibrate on the references' signals ``[R, n, ...]`` and ``keep [R, n]``, only
        where ``use [R, n]`` is True."""

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


def calibration_partners(keep: np.ndarray, targets: Sequence[int]) -> Iterator[tuple[int, np.ndarray]]:
    """Each target with its candidates' partners, ``[n]`` int: for candidate i, the model on
    the side opposite to the target's membership (OUT where the target is IN, IN where it is
    OUT) that ranks first in a random order of the models drawn for that candidate; -1 where
    that side is empty. ``keep [M, n]``.

    The order is random per candidate (seeded, independent of the data), so the partner is a
    uniformly random model of the opposite side: the references that remain are then a
    uniformly random set of ``c_in - 1`` IN and ``c_out - 1`` OUT models whether the target is
    IN or OUT, so not only their labels but also which models they are cannot depend on the
    target's membership (with a fixed order, say the last model, a model with systematically
    higher confidence would sit only on the target's own side). The first model of each side
    is found once, in O(M n); each target costs O(n). :func:`reference_mask` states the rule.
    """
    order = np.random.default_rng(_PARTNER_SEED).random(keep.shape)
    first_in = np.where(keep.any(axis=0), np.argmax(np.where(keep, order, -1.0), axis=0), -1)
    first_out = np.where((~keep).any(axis=0), np.argmax(np.where(~keep, order, -1.0), axis=0), -1)
    for target in targets:
        yield target, np.where(keep[target], first_out, first_in)


def reference_mask(keep: np.ndarray, target: int) -> np.ndarray:
    """Which (reference, candidate) pairs calibrate the attack on model ``target``: bool
    ``[M-1, n]`` over the references (the rows of ``keep [M, n]`` other than ``target``, in
    model order).

    Every reference is used except, for each candidate, one *partner*: a random reference on
    the side opposite to the target's membership of the candidate (see
    :func:`calibration_partners`). With ``c_in``, ``c_out`` the candidate's IN and OUT counts
    over all M models, the references hold ``c_in - 1`` IN and ``c_out`` OUT when the target
    is IN, ``c_in`` IN and ``c_out - 1`` OUT when it is OUT; dropping the partner leaves
    ``c_in - 1`` IN and ``c_out - 1`` OUT either way. So the calibration's labels, per
    candidate and overall, do not depend on the target's keep row: an attack learning from
    them cannot read the target's membership backwards (without the partner, a keep matrix
    with every candidate IN for half of the models hands it over as a count imbalance).
    Where the opposite side is empty (every model IN, or every model OUT) nothing is dropped:
    the target's membership is then the same for every target.

    >>> keep = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=bool)  # 4 models, 2 candidates
    >>> reference_mask(keep, 0)  # rows: references 1, 2, 3; partners drawn: model 3 (OUT), model 1 (IN)
    array([[ True, False],
           [ True,  True],
           [False,  True]])
    """
    keep = np.asarray(keep, dtype=bool)
    _, partner = next(calibration_partners(keep, [target]))
    return _mask_of_partners(partner, target, keep.shape)


def _mask_of_partners(partner: np.ndarray, target: int, shape: tuple[int, int]) -> np.ndarray:
    """:func:`reference_mask` from the target's partners ``[n]`` (-1: none) in a pool of
    ``shape`` ``(M, n)``."""
    use = np.ones(shape, dtype=bool)
    has_partner = partner >= 0
    use[partner[has_partner], np.flatnonzero(has_partner)] = False
    return np.delete(use, target, axis=0)


def small_pool_hint(use: np.ndarray) -> str:
    """The fix to name when a calibration on ``use [R, n]`` lacks members or non-members:
    where :func:`reference_mask` dropped pairs, each candidate gave up one IN and one OUT
    reference, which leaves nothing to learn from in pools of fewer than 4 models."""
    if use.all():
        return ""
    return (
        " (leave-one-out calibrates each candidate on one IN and one OUT reference fewer than "
        "the pool holds: train at least 4 models)"
    )


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


def check_scored(scores: np.ndarray, flags: np.ndarray, *, flags_name: str) -> tuple[np.ndarray, np.ndarray]:
    """``scores [N]`` as float64 without NaN and ``flags [N]`` (membership, inclusion coins) as
    bool of the same shape; :class:`AttackInputError` naming ``flags_name`` otherwise."""
    scores, flags = np.asarray(scores, dtype=np.float64), np.asarray(flags)
    if scores.ndim != 1 or flags.shape != scores.shape or flags.dtype != np.bool_:
        raise AttackInputError(
            f"scores [N] and bool {flags_name} [N] must match; got {scores.shape} and {flags.dtype} {flags.shape}"
        )
    if np.isnan(scores).any():
        raise AttackInputError(f"{int(np.isnan(scores).sum())} scores are NaN")
    return scores, flags
