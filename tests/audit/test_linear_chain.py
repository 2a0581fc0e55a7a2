"""The batched-matrix-multiply path for chains of Linear layers: which architectures it takes,
and that its logits and layer taps are each model's own forward pass (oracle: a loop)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from audit.training.linear_chain import chain_logits, linear_chain
from audit.training.stacked_forward import StackedModel, choose_vectorise
from models import create_model


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.b(x + self.a(x))


class FunctionalRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(8, 8), nn.Linear(8, 3)

    def forward(self, x):
        return self.b(F.relu(self.a(x)))


def _image_chain():
    return nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.Tanh(), nn.Linear(7, 5, bias=False), nn.GELU(), nn.Linear(5, 3))


def test_the_mlp_and_plain_sequential_chains_are_chains():
    mlp = create_model("mlp", input_shape=(64,), num_classes=10)
    assert [step.name for step in linear_chain(mlp)] == [f"net.{i}" for i in range(6)]
    assert [type(step.module) for step in linear_chain(_image_chain())][:3] == [nn.Flatten, nn.Linear, nn.Tanh]


@pytest.mark.parametrize(
    "model",
    [
        create_model("cnn", input_shape=(1, 8, 8), num_classes=10),
        Residual(),
        FunctionalRelu(),
        nn.Sequential(nn.Linear(8, 8), nn.LayerNorm(8), nn.Linear(8, 3)),
        nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1), nn.Linear(8, 3)),
        nn.Sequential(nn.Flatten(0), nn.Linear(8, 3)),
        nn.Sequential(nn.ReLU(), nn.Tanh()),  # no Linear layer: nothing to batch
    ],
    ids=["cnn", "residual", "functional-relu", "layernorm", "dropout", "flatten-from-0", "no-linear"],
)
def test_anything_but_a_chain_of_linear_layers_and_activations_is_not(model):
    assert linear_chain(model) is None


def test_auto_batches_the_mlp_on_a_cpu_and_loops_over_the_cnn():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    mlp = create_model("mlp", input_shape=(64,), num_classes=10)
    cnn = create_model("cnn", input_shape=(1, 8, 8), num_classes=10)
    assert choose_vectorise("auto", cpu, mlp) == "chain"
    assert choose_vectorise("auto", cpu, cnn) == "loop"
    assert choose_vectorise("auto", cuda, mlp) == "vmap"
    with pytest.raises(ValueError, match="not a chain of Linear layers"):
        choose_vectorise("chain", cpu, cnn)


def _stack(seeds):
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(_image_chain())
    return models, StackedModel(models, vectorise="chain")


def test_chain_logits_are_each_models_own_on_shared_and_per_model_inputs():
    models, stacked = _stack([0, 1, 2])
    x = torch.randn(3, 5, 3, 2, 2)  # a batch of 5 "images" per model
    with torch.no_grad():
        per_model = stacked.logits(stacked.params, x)
        shared = stacked.logits(stacked.params, x[0], shared=True)
        for m, model in enumerate(models):
            torch.testing.assert_close(per_model[m], model(x[m]), rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(shared[m], model(x[0]), rtol=1e-5, atol=1e-6)
    assert per_model.shape == shared.shape == (3, 5, 3)


def test_taps_give_each_layers_input_and_output_gradient():
    models, stacked = _stack([3, 4])
    x, y = torch.randn(2, 6, 12), torch.randint(0, 3, (2, 6))
    shapes = stacked.layer_shapes(x[0, :1])
    taps = {name: torch.zeros(2, 6, *out, requires_grad=True) for name, (_, out) in shapes.items()}
    logits, inputs = stacked.logits_with_taps(stacked.params, x, taps)
    loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum")
    output_grads = dict(zip(taps, torch.autograd.grad(loss, list(taps.values()))))
    # Oracle: the gradient of the same loss with respect to each model's own weights, by
    # autograd on the plain module, is the sum over examples of output grad x input.
    for m, model in enumerate(models):
        loss_m = F.cross_entropy(model(x[m]), y[m], reduction="sum")
        weights = {name: module.weight for name, module in model.named_modules() if isinstance(module, nn.Linear)}
        expected = dict(zip(weights, torch.autograd.grad(loss_m, list(weights.values()))))
        assert set(inputs) == set(weights)
        for name in weights:
            from_taps = output_grads[name][m].T @ inputs[name][m].flatten(1)
            torch.testing.assert_close(from_taps, expected[name], rtol=1e-4, atol=1e-6)


def test_chain_logits_follow_gradients_to_the_stacked_parameters():
    models, stacked = _stack([5, 6])
    params = {name: p.detach().requires_grad_() for name, p in stacked.params.items()}
    x = torch.randn(2, 4, 12)
    grads = torch.autograd.grad(chain_logits(linear_chain(stacked.skeleton), params, x, shared=False).sum(), list(params.values()))
    for m, model in enumerate(models):
        expected = torch.autograd.grad(model(x[m]).sum(), list(model.parameters()))
        for got, want in zip(grads, expected):
            torch.testing.assert_close(got[m], want, rtol=1e-4, atol=1e-6)


def _digits_pool(vectorise, seeds, keep_rows):
    from sklearn.datasets import load_digits

    from audit.training import TrainRecipe
    from audit.training.ensemble import EnsembleData, initial_models, train_ensemble

    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target)
    # Training rows of one size: every model's batches have the same shapes, so a batch is
    # never padded to another model's (padding changes how a weight gradient's sum over the
    # batch is blocked, hence its rounding).
    generator = torch.Generator().manual_seed(0)
    keep = torch.stack([torch.randperm(120, generator=generator) < 60 for _ in range(4)])
    # Odd layer sizes: a stacked tensor's last elements would fall past the optimiser
    # kernel's vector width for some groups and not others.
    recipe = TrainRecipe(
        architecture="mlp", epochs=3, batch_size=16, learning_rate=1e-3, architecture_options={"hidden": (7, 5)}
    )
    models = initial_models(recipe, input_shape=(64,), num_classes=10, seeds=seeds)
    data = EnsembleData(x[:120], y[:120], keep[keep_rows], x[1000:1100], y[1000:1100])
    return train_ensemble(models, data, recipe, seeds=seeds, queries=[x[:120]], vectorise=vectorise)


def test_the_chain_computes_the_loops_bits_whichever_models_train_together():
    """What a Ray task that retrains one model relies on: the model comes back bit for bit
    (as with the loop, for models whose batches need no padding)."""
    together = _digits_pool("chain", [0, 1, 2, 3], slice(0, 4))
    looped = _digits_pool("loop", [0, 1, 2, 3], slice(0, 4))
    alone = _digits_pool("chain", [2], slice(2, 3))
    np.testing.assert_array_equal(together.logits, looped.logits)
    np.testing.assert_array_equal(together.logits[2], alone.logits[0])
    assert together.histories[2] == alone.histories[0]
