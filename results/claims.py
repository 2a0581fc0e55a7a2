"""The records behind the report's claims: the worst case on canaries, the valid epsilon
lower bound, the paired comparisons with the standard regime, DP-SGD at matched accuracy,
and the automatic flood sweep. Plain dataclasses, held by :mod:`results.records`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class WorstCase:
    """The main attack on the canaries against the population, at the lowest FPR the
    canaries' count resolves: ``fpr`` = 1 / (canary non-member pairs pooled over targets).

    ``canary_tpr`` and ``population_tpr`` are the pooled TPRs at that FPR with their
    intervals (``*_ci``, at the attack summaries' level); ``kind`` is the canary kind and
    ``count`` the number of canaries.
    """

    kind: str
    count: int
    fpr: float
    canary_tpr: float
    canary_tpr_ci: list[float] | None
    population_tpr: float
    population_tpr_ci: list[float] | None


@dataclass
class PrivacyAudit:
    """A valid empirical lower bound on the regime's epsilon: the one-run audit of Steinke,
    Nasr and Jagielski (NeurIPS 2023) on a held-out *audit model*.

    The audit model trained with the regime's recipe on the ``m`` candidates each included by
    an independent fair coin, and was attacked with the pool's M models as references (their
    keep rows are independent of its coins). ``attack`` and the numbers of IN and OUT guesses
    (``k_plus``, ``k_minus``) were chosen beforehand on the pool's leave-one-out scores, so
    no correction for the choice is due; ``v`` of the ``r`` guesses were right. With
    probability ``confidence`` the training algorithm is not (eps, ``delta``)-DP for any eps
    below ``epsilon_lower_bound``; ``meaning`` says it in words.
    """

    epsilon_lower_bound: float
    confidence: float
    delta: float
    m: int
    r: int
    v: int
    k_plus: int
    k_minus: int
    attack: str
    meaning: str


@dataclass
class Difference:
    """A difference (this regime minus the baseline) with its interval ``[low, high]``."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0.0 or self.high < 0.0


@dataclass
class Comparison:
    """This regime against the standard one on paired models (model m of each regime shares
    its keep row and seed), differences this - standard with intervals that resample target
    models and candidates together.

    ``leak`` is the difference of the main attack's pooled ``metric`` on the population
    (``"tpr"`` at the headline FPR, or ``"auc"`` when that TPR is not resolvable);
    ``canary_leak`` the same on the canaries (AUC where their count cannot resolve the
    headline FPR; None without canaries); ``test_accuracy`` that of the models' mean test
    accuracy. Each interval has level ``level`` = 1 - (1 - family_level) / ``n_comparisons``
    (Bonferroni over every interval the verdict reports), so that all of them hold together
    with probability ``family_level``. ``verdict`` and ``canary_verdict``: "cut" or "raised"
    when the interval excludes 0, else "no clear change".
    """

    baseline: str
    metric: str
    leak: Difference
    test_accuracy: Difference
    level: float
    family_level: float
    n_comparisons: int
    verdict: str
    canary_metric: str | None = None
    canary_leak: Difference | None = None
    canary_verdict: str | None = None


@dataclass
class MatchedDp:
    """DP-SGD at this regime's test accuracy: the leak DP-SGD has where its accuracy frontier
    crosses ``test_accuracy``, against this regime's own.

    ``method`` is ``"interpolated"`` (linearly in test accuracy between the two DP-SGD regimes
    in ``dp_regimes`` whose accuracies bracket this one) or ``"nearest"`` (no DP-SGD regime on
    the other side: the closest one's figures, at its own ``dp_test_accuracy``). Leaks are the
    main attack's pooled TPR at the headline FPR on the population (``leak``, ``dp_leak``)
    and on the canaries (``canary_leak``, ``dp_canary_leak``; None without canaries); point
    estimates.
    """

    method: str
    dp_regimes: list[str]
    test_accuracy: float
    dp_test_accuracy: float
    leak: float
    dp_leak: float
    canary_leak: float | None = None
    dp_canary_leak: float | None = None


@dataclass
class TuningTrial:
    """One DP-SGD configuration tried: learning rate, expected batch size (the Poisson
    sampling rate is it over the training-set size), epochs and clipping norm, with the
    validation accuracy it reached and the epsilon the accountant spent."""

    learning_rate: float
    batch_size: int
    epochs: int
    max_grad_norm: float
    validation_accuracy: float
    epsilon: float | None


@dataclass
class DpTuning:
    """DP-SGD's hyper-parameters searched for one epsilon, within a stated ``budget`` of
    configurations, on ``train_size`` training and ``validation_size`` validation examples set
    aside from the data (disjoint from the audit pool and the test part: no audit candidate
    ever trains a tuning model). ``trials[chosen]`` had the best validation accuracy; the
    first trial is the configured recipe; ``space`` states the grid the others were drawn from."""

    budget: int
    train_size: int
    validation_size: int
    space: str
    trials: list[TuningTrial]
    chosen: int


@dataclass
class SweepPoint:
    """One flood level of an automatic sweep: its regime, the change in mean test accuracy
    against the standard regime, the leak the recommendation ranks by, and whether the
    accuracy change stays within the tolerance."""

    flood_level: float
    label: str
    accuracy_change: float
    leak: float
    within_tolerance: bool


@dataclass
class FloodSweep:
    """``--flood-levels auto``: flood levels ``multipliers`` x the standard models' mean test
    loss (``standard_test_loss``, nats), and the level recommended by the stated rule: among
    the levels whose mean test accuracy is at most ``tolerance`` below the standard regime's,
    the one with the lowest ``leak_metric`` (ties: the lower level). ``recommended`` is None
    when no level stays within the tolerance."""

    standard_test_loss: float
    multipliers: list[float]
    tolerance: float
    leak_metric: str
    points: list[SweepPoint]
    recommended: float | None
    rule: str
