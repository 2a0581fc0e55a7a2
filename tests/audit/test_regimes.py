"""Flooding's objective: value and gradient direction around the flood level."""

import pytest
import torch

from audit.errors import AuditInputError
from audit.training import Regime, parse_regime


def _grad(regime: Regime, per_example_fn, w: torch.Tensor) -> tuple[float, torch.Tensor]:
    w = w.clone().requires_grad_(True)
    loss = regime.objective_loss(per_example_fn(w))
    (grad,) = torch.autograd.grad(loss, w)
    return loss.item(), grad


def per_example_losses(w):
    # Three examples with losses w^2 * [1, 2, 3]; mean = 2 w^2, d(mean)/dw = 4 w.
    return w**2 * torch.tensor([1.0, 2.0, 3.0])


@pytest.mark.parametrize("w, expected_sign", [(1.0, +1), (0.1, -1)])
def test_flood_descends_above_level_and_ascends_below(w, expected_sign):
    flood = Regime(objective="flood", flood_level=0.5)
    loss, grad = _grad(flood, per_example_losses, torch.tensor(w))
    mean = 2 * w**2
    assert loss == pytest.approx(abs(mean - 0.5) + 0.5)
    # Gradient of |mean - b| + b is sign(mean - b) * d(mean)/dw.
    assert grad.item() == pytest.approx(expected_sign * 4 * w)


def test_flood_value_never_below_level():
    flood = Regime(objective="flood", flood_level=0.3)
    for value in (0.0, 0.1, 0.3, 2.0):
        assert flood.objective_loss(torch.full((4,), value)).item() >= 0.3


def test_iflood_floods_each_example_separately():
    iflood = Regime(objective="iflood", flood_level=1.0)
    losses = torch.tensor([0.5, 2.0])  # one below, one above the level
    assert iflood.objective_loss(losses).item() == pytest.approx(((1.5) + (2.0)) / 2)
    # Batch flooding of the same batch sees mean 1.25 > 1: plain descent on both examples.
    flood = Regime(objective="flood", flood_level=1.0)
    assert flood.objective_loss(losses).item() == pytest.approx(1.25)
    w = torch.tensor([1.0, 1.0], requires_grad=True)
    iflood.objective_loss(losses * w).backward()
    assert w.grad.tolist() == pytest.approx([-0.25, 1.0])  # ascent on the example below b


def test_standard_is_plain_mean():
    assert Regime().objective_loss(torch.tensor([1.0, 3.0])).item() == pytest.approx(2.0)


@pytest.mark.parametrize(
    "text, label, kind",
    [
        ("standard", "standard", "standard"),
        ("flood:0.3", "flood(b=0.3)", "flood"),
        ("iflood:0.2", "iflood(b=0.2)", "iflood"),
        ("dp:8", "dp(eps=8)", "dp"),
        ("dp:4+iflood:0.2", "dp(eps=4)+iflood(b=0.2)", "dp"),
    ],
)
def test_parse_regime(text, label, kind):
    regime = parse_regime(text, delta=1e-5)
    assert (regime.label, regime.kind) == (label, kind)


@pytest.mark.parametrize(
    "text, words",
    [
        ("flood:-0.1", "flood level must be a finite number >= 0"),
        ("dp:0", "epsilon must be a finite number > 0"),
        ("dp:-1", "epsilon must be a finite number > 0"),
        ("dp:8+flood:0.3", "flood cannot be combined with dp"),
        ("mixup:0.2", "unknown regime"),
        ("flood:abc", "needs a number"),
    ],
)
def test_bad_regimes_are_refused_with_a_reason(text, words):
    with pytest.raises(AuditInputError, match=words):
        parse_regime(text, delta=1e-5)
