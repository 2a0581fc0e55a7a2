"""A DP-SGD audit end to end: no attack may certify more privacy loss than the accountant
spent. The empirical epsilon is a lower bound on the training algorithm's true epsilon and
the accountant's is an upper bound, so a lower bound above the accountant's figure would
mean a bug in DP-SGD's wiring, the accountant, the metrics or the attacks."""

import math

import pytest

from audit.config import AuditConfig
from audit.pipeline import run_audit

pytestmark = pytest.mark.slow


def test_empirical_epsilon_stays_below_the_accountants(tmp_path):
    config = AuditConfig(
        run_name="dp-audit-test",
        regimes=("dp:8",),
        pool_size=200,  # each model trains on 100 examples, so delta must stay below 1e-2
        models_per_regime=6,
        epochs=3,
        delta=1e-3,
        attacks=("loss", "lira-online"),
        main_attack="lira-online",
        snapshots=0,
        device="cpu",
        output_dir=str(tmp_path),
    )
    (regime,) = run_audit(config).result.regimes

    assert regime.regime == "dp"
    accountant = regime.epsilon
    assert accountant is not None and 0 < accountant <= 8.0 + 1e-6
    assert set(regime.attacks) == {"loss", "lira-online"}
    for name, summary in regime.attacks.items():
        bound = summary.epsilon_lower_bound
        assert bound is not None and math.isfinite(bound) and bound >= 0.0, (name, bound)
        assert bound < accountant, f"{name}: empirical epsilon {bound:.3f} exceeds the accountant's {accountant:.3f}"
