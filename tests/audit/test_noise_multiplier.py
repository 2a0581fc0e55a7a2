"""DP-SGD's noise multiplier: Opacus' contract (the PRV accountant's epsilon below the target,
by at most its tolerance), met with fewer accountant calls than Opacus' own search."""

from __future__ import annotations

import warnings

import pytest
from opacus.accountants import create_accountant
from opacus.accountants.utils import get_noise_multiplier

from audit.errors import AuditInputError
from audit.training.accounting import EPSILON_TOLERANCE, _rdp_sigma, noise_multiplier


def _prv_epsilon(sigma, *, sample_rate, epochs, delta):
    accountant = create_accountant(mechanism="prv")
    accountant.history = [(sigma, sample_rate, int(epochs / sample_rate))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return accountant.get_epsilon(delta=delta)


@pytest.mark.parametrize(
    ("epsilon", "sample_rate", "epochs"),
    [(8.0, 1 / 8, 40), (1.0, 1 / 8, 40), (0.5, 0.01, 20), (50.0, 0.05, 10)],
    ids=["demo", "strict", "rare-sampling", "loose"],
)
def test_the_noise_multiplier_spends_just_under_the_budget(epsilon, sample_rate, epochs):
    sigma = noise_multiplier(epsilon=epsilon, delta=1e-5, sample_rate=sample_rate, epochs=epochs)
    spent = _prv_epsilon(sigma, sample_rate=sample_rate, epochs=epochs, delta=1e-5)
    assert spent < epsilon
    assert epsilon - spent <= EPSILON_TOLERANCE


@pytest.mark.slow
def test_the_noise_multiplier_is_opacus_own_within_its_tolerance():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = get_noise_multiplier(
            target_epsilon=8.0, target_delta=1e-5, sample_rate=1 / 8, steps=320, accountant="prv"
        )
    ours = noise_multiplier(epsilon=8.0, delta=1e-5, sample_rate=1 / 8, epochs=40)
    # Both spend within 0.01 below 8: their sigmas differ by well under 1%.
    assert ours == pytest.approx(theirs, rel=0.01)


@pytest.mark.parametrize(("epsilon", "sample_rate", "steps"), [(8.0, 1 / 8, 320), (1.0, 1 / 8, 320)])
def test_the_rdp_start_is_opacus_rdp_calibration_within_two_percent(epsilon, sample_rate, steps):
    """Fewer Renyi orders can only loosen the RDP bound (more noise), and the search stops
    within 1%: the start lies between Opacus' own RDP calibration and 2% above it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = get_noise_multiplier(
            target_epsilon=epsilon, target_delta=1e-5, sample_rate=sample_rate, steps=steps,
            accountant="rdp", epsilon_tolerance=1e-4,
        )
    ours = _rdp_sigma(epsilon=epsilon, delta=1e-5, sample_rate=sample_rate, steps=steps)
    assert 0.999 * theirs <= ours <= 1.02 * theirs


def test_an_unreachable_budget_is_refused_with_its_fix():
    with pytest.raises(AuditInputError, match="raise epsilon, or train on more examples"):
        noise_multiplier(epsilon=1e-4, delta=1e-5, sample_rate=0.9, epochs=50)
