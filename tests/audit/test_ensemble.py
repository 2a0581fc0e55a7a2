"""The stacked ensemble trains each model as the sequential ``train()`` would: oracle tests
against ``train()`` itself, against Opacus' DP step and Poisson sampler, and end to end."""

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from audit.data import load_digits_dataset, make_keep_matrix, split_pool
from audit.training import TrainData, TrainRecipe, ensemble_trainer, parse_regime, train
from audit.training.batches import shuffled_batches
from audit.training.ensemble import (
    EnsembleData,
    EnsembleUnsupported,
    initial_models,
    supports_ensemble,
    train_ensemble,
)
from audit.training.ensemble_batches import (
    ModelRows,
    Step,
    poisson_epoch,
    shuffled_epoch,
)
from audit.training.ensemble_trainer import EnsembleTrainer
from audit.training.private import make_private
from models import create_model, load_weights, save_weights

SHAPE = (1, 8, 8)  # digit-sized inputs: the MLP and the two-block small CNN
TOLERANCE = 1e-5  # max abs parameter difference; float32 sums in another order stay far below


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _tiny_data(sizes, *, n=40, seed=0):
    """Random digit-shaped candidates and a keep matrix whose rows keep ``sizes`` candidates."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *SHAPE, generator=generator)
    y = torch.randint(0, 10, (n,), generator=generator)
    keep = torch.zeros(len(sizes), n, dtype=torch.bool)
    for m, size in enumerate(sizes):
        keep[m, torch.randperm(n, generator=generator)[:size]] = True
    return EnsembleData(x, y, keep, x[:10], y[:10])


def _sequential(data, recipe, seeds):
    """Each model trained alone by ``train()``, as ``audit.pool`` trains it."""
    outcomes = []
    for m, seed in enumerate(seeds):
        model = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=[seed])[0]
        keep = data.keep[m]
        outcomes.append(
            train(model, TrainData(data.x[keep], data.y[keep], data.x_test, data.y_test), recipe, seed=seed)
        )
    return outcomes


def _max_difference(models_a, models_b):
    return max(
        (a - b).abs().max().item()
        for ma, mb in zip(models_a, models_b)
        for a, b in zip(ma.parameters(), mb.parameters())
    )


def _initial_losses(data, recipe, seeds):
    """Per-example cross-entropy of each fresh model on its training rows."""
    models = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds)
    with torch.no_grad():
        return [F.cross_entropy(m(data.x[k]), data.y[k], reduction="none") for m, k in zip(models, data.keep)]


# How each test architecture's models may be stacked: the chain path only for a chain of
# Linear layers (the MLP).
STACKINGS = {"mlp": ("loop", "vmap", "chain"), "cnn": ("loop", "vmap"), "layernorm-mlp": ("loop", "vmap")}


@pytest.mark.parametrize("objective", ["standard", "flood", "iflood"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize(("architecture", "vectorise"), [(a, v) for a in ("mlp", "cnn") for v in STACKINGS[a]])
def test_one_ensemble_step_equals_each_models_sequential_step(architecture, optimizer, objective, vectorise):
    # Every training row fits in one batch: one epoch is one step, on batches of three sizes.
    data, seeds = _tiny_data([12, 9, 15]), [3, 4, 5]
    # Adam's first step is about lr * sign(g): for a gradient near its epsilon (1e-8), float
    # differences of summation order are amplified by lr / 1e-8, so Adam runs at the demo's
    # learning rate; SGD's step is linear in the gradient and takes a large one.
    learning_rate = 1e-3 if optimizer == "adam" else 0.05
    plain = TrainRecipe(
        architecture=architecture, epochs=1, batch_size=16, learning_rate=learning_rate, optimizer=optimizer
    )
    losses = _initial_losses(data, plain, seeds)
    if objective == "flood":
        # A flood level between the models' batch means: gradient ascent for some, descent for others.
        means = sorted(loss.mean().item() for loss in losses)
        level = (means[0] + means[1]) / 2
        assert means[0] < level < means[-1]
    elif objective == "iflood":
        # Half of the examples below the level; halfway between two losses, so that no sign
        # of l - b hangs on the last bit of a float.
        ordered = torch.cat(losses).sort().values
        middle = len(ordered) // 2
        level = (ordered[middle - 1] + ordered[middle]).item() / 2
    regime = parse_regime("standard" if objective == "standard" else f"{objective}:{level}")
    recipe = TrainRecipe(
        architecture=architecture,
        epochs=1,
        batch_size=16,
        learning_rate=learning_rate,
        optimizer=optimizer,
        weight_decay=1e-3,
        regime=regime,
    )
    models = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds)
    outcome = train_ensemble(models, data, recipe, seeds=seeds, vectorise=vectorise)
    sequential = _sequential(data, recipe, seeds)
    assert _max_difference(outcome.models, [o.model for o in sequential]) <= TOLERANCE
    assert _max_difference(outcome.models, models) > 5e-4  # the step did move the weights


@pytest.mark.parametrize("vectorise", ["loop", "vmap", "chain"])
def test_epochs_of_shuffled_batches_match_sequential_training_record_for_record(vectorise):
    data, seeds = _tiny_data([17, 11, 23, 20]), [0, 1, 2, 3]  # short last batches of different sizes
    recipe = TrainRecipe(
        architecture="mlp", epochs=3, batch_size=8, learning_rate=1e-3, regime=parse_regime("flood:2.0")
    )
    models = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds)
    outcome = train_ensemble(models, data, recipe, seeds=seeds, vectorise=vectorise)
    sequential = _sequential(data, recipe, seeds)
    assert _max_difference(outcome.models, [o.model for o in sequential]) <= TOLERANCE
    for history, reference in zip(outcome.histories, sequential):
        for record, expected in zip(history, reference.history, strict=True):
            assert record.epoch == expected.epoch
            for field in ("train_loss", "eval_train_loss", "train_accuracy", "test_accuracy"):
                assert getattr(record, field) == pytest.approx(getattr(expected, field), abs=1e-5)


def _layer_norm_mlp():
    """An architecture without a layer-by-layer DP rule (LayerNorm): per-example gradients by vmap."""
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.LayerNorm(16), nn.ReLU(), nn.Linear(16, 10))


def _fresh(architecture, seed):
    torch.manual_seed(seed)
    if architecture == "layernorm-mlp":
        return _layer_norm_mlp()
    return create_model(architecture, input_shape=SHAPE, num_classes=10)


def _per_example_norms(model, x, y, regime):
    """Per-example gradient norms of the regime's per-example objective, by a plain loop."""
    norms = []
    for xi, yi in zip(x, y):
        loss = regime.objective_loss(F.cross_entropy(model(xi[None]), yi[None], reduction="none"))
        grads = torch.autograd.grad(loss, list(model.parameters()))
        norms.append(torch.cat([g.flatten() for g in grads]).norm().item())
    return norms


@pytest.mark.filterwarnings("ignore:Full backward hook")  # Opacus' hooks on a model whose inputs need no grad
@pytest.mark.parametrize(
    ("architecture", "optimizer", "regime_text", "vectorise", "chunk_elements"),
    [
        (*case, vectorise, chunk)
        for case in [
            ("mlp", "adam", "dp:8"),
            ("mlp", "sgd", "dp:8+iflood:2.3"),
            ("cnn", "adam", "dp:8+iflood:2.3"),
            ("cnn", "sgd", "dp:8"),
            ("layernorm-mlp", "adam", "dp:8"),
        ]
        for vectorise, chunk in [("loop", 2**22), ("vmap", 2**22), ("chain", 2**22), ("loop", 1)]
        if vectorise in STACKINGS[case[0]]
    ],
)
def test_private_step_without_noise_equals_opacus_dp_step(
    architecture, optimizer, regime_text, vectorise, chunk_elements, monkeypatch
):
    """Abadi et al.'s step with noise off: per-example clipping and division by the expected
    batch size, against Opacus' GradSampleModule + DPOptimizer on the same batches; the
    models clipped all together, and (a budget of one element) one at a time."""
    from opacus import GradSampleModule
    from opacus.optimizers import DPOptimizer

    monkeypatch.setattr(ensemble_trainer, "CHUNK_ELEMENTS", chunk_elements)

    data, seeds = _tiny_data([12, 9, 15]), [3, 4, 5]
    batch_size = 8  # two Poisson steps per epoch: sample rate 1/2, expected batch int(n / 2)
    # Each model's batch: some of its rows, of different sizes (so padding is exercised).
    model_rows = ModelRows.from_keep(data.keep)
    taken = [7, 3, 9]
    batches = [model_rows.rows[m, :k] for m, k in enumerate(taken)]
    first = [_fresh(architecture, s) for s in seeds]
    base = parse_regime(regime_text, delta=1e-3)
    norms = [n for m, rows in zip(first, batches) for n in _per_example_norms(m, data.x[rows], data.y[rows], base)]
    clip = float(np.median(norms))  # clipping changes about half of the per-example gradients
    assert min(norms) < clip < max(norms)
    learning_rate = 1e-3 if optimizer == "adam" else 0.05  # as in the non-private one-step test
    recipe = TrainRecipe(
        architecture="mlp",  # only names the architecture; the models are given
        epochs=1,
        batch_size=batch_size,
        learning_rate=learning_rate,
        optimizer=optimizer,
        weight_decay=1e-3,
        regime=parse_regime(regime_text, delta=1e-3, max_grad_norm=clip),
    )
    trainer = EnsembleTrainer(
        [copy.deepcopy(m) for m in first], data, recipe, seeds=seeds, vectorise=vectorise, noise_multipliers=[0.0] * 3
    )
    assert trainer.layerwise == (architecture != "layernorm-mlp")
    width = max(taken)
    rows = torch.stack([torch.cat([b, b[:1].expand(width - len(b))]) for b in batches])
    valid = torch.arange(width) < torch.tensor(taken).unsqueeze(1)
    trainer.step(Step(rows, valid, [True] * 3))

    for m, (model, rows_m) in enumerate(zip(first, batches)):
        reference = GradSampleModule(copy.deepcopy(model), batch_first=True, loss_reduction="mean")
        if optimizer == "sgd":
            inner = torch.optim.SGD(reference.parameters(), lr=learning_rate, momentum=0.9, weight_decay=1e-3)
        else:
            inner = torch.optim.Adam(reference.parameters(), lr=learning_rate, weight_decay=1e-3)
        n = int(data.keep[m].sum())
        expected_batch = int(n * (1 / -(-n // batch_size)))
        dp = DPOptimizer(inner, noise_multiplier=0.0, max_grad_norm=clip, expected_batch_size=expected_batch)
        per_example = F.cross_entropy(reference(data.x[rows_m]), data.y[rows_m], reduction="none")
        recipe.regime.objective_loss(per_example).backward()
        dp.step()
        ensemble_model = trainer.stacked.modules()[m]
        assert _max_difference([ensemble_model], [reference._module]) <= TOLERANCE


def test_poisson_batches_are_the_ones_opacus_draws_and_shuffles_those_of_train():
    n, batch_size, seed = 37, 8, 5
    x = torch.arange(n, dtype=torch.float32).unsqueeze(1)  # each row holds its own index
    data = TrainData(x, torch.zeros(n, dtype=torch.long), x[:2], torch.zeros(2, dtype=torch.long))
    # One epoch for the noise search; the loader then serves as many epochs as asked.
    recipe = TrainRecipe(
        architecture="mlp", epochs=1, batch_size=batch_size, learning_rate=0.1, regime=parse_regime("dp:8", delta=1e-3)
    )
    model = create_model("mlp", input_shape=(1,), num_classes=2)
    _, _, opacus_epoch, _ = make_private(model, torch.optim.SGD(model.parameters(), lr=0.1), data, recipe, seed=seed)
    model_rows = ModelRows.from_keep(torch.ones(1, n, dtype=torch.bool))
    generator = [torch.Generator().manual_seed(seed)]
    for _ in range(2):
        ours = [
            step.rows[0, step.valid[0]].tolist()
            for step in poisson_epoch(model_rows, generator, batch_size=batch_size, device="cpu")
        ]
        theirs = [xb[:, 0].long().tolist() for xb, _ in opacus_epoch()]
        assert ours == theirs
        assert any(len(b) != batch_size for b in theirs)  # Poisson: sizes vary
    plain = shuffled_batches(data, batch_size, seed=seed)
    generator = [torch.Generator().manual_seed(seed)]
    for _ in range(2):
        ours = [
            step.rows[0, step.valid[0]].tolist()
            for step in shuffled_epoch(model_rows, generator, batch_size=batch_size, device="cpu")
        ]
        assert ours == [xb[:, 0].long().tolist() for xb, _ in plain()]


@pytest.mark.parametrize("regime_text", ["iflood:0.5", "dp:8"])
def test_a_models_training_depends_on_its_own_seed_and_keep_row_only(regime_text):
    """Model 1 trained in an ensemble of four ends where it ends trained alone: its batches
    (and its DP noise) come from its own seed and keep row, whatever the others' sizes. It
    has the fewest rows, so in the ensemble it sits out the steps only the others take."""
    data, seeds = _tiny_data([17, 11, 23, 20]), [10, 11, 12, 13]
    recipe = TrainRecipe(
        architecture="mlp", epochs=2, batch_size=8, learning_rate=1e-3, regime=parse_regime(regime_text, delta=1e-3)
    )

    def trained(rows):
        models = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=[seeds[m] for m in rows])
        part = EnsembleData(data.x, data.y, data.keep[rows], data.x_test, data.y_test)
        # A fixed noise multiplier spares the search for the one Opacus would choose.
        noise = [1.0] * len(rows) if recipe.regime.is_private else None
        trainer = EnsembleTrainer(models, part, recipe, seeds=[seeds[m] for m in rows], noise_multipliers=noise)
        for _ in range(recipe.epochs):
            trainer.epoch()
        return trainer.stacked.modules()

    together, alone = trained([0, 1, 2, 3]), trained([1])
    assert _max_difference([together[1]], alone) <= TOLERANCE
    assert _max_difference([together[1]], [together[3]]) > 1e-2  # the models do differ


def test_ensemble_reaches_the_training_accuracy_of_sequential_training_on_digits():
    digits = load_digits_dataset()
    split = split_pool(digits, pool_size=1000, seed=0)
    keep = torch.from_numpy(make_keep_matrix(num_models=2, num_examples=1000, seed=0))
    t = torch.from_numpy
    data = EnsembleData(t(split.pool_x), t(split.pool_y), keep, t(split.test_x), t(split.test_y))
    recipe = TrainRecipe(architecture="mlp", epochs=20, batch_size=64, learning_rate=1e-3)
    seeds = [0, 1]
    outcome = train_ensemble(
        initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds), data, recipe, seeds=seeds
    )
    reference = _sequential(data, recipe, seeds[:1])[0]
    assert reference.history[-1].train_accuracy > 0.95
    assert all(history[-1].train_accuracy > 0.95 for history in outcome.histories)
    assert outcome.histories[0][-1].test_accuracy == pytest.approx(reference.history[-1].test_accuracy, abs=0.01)


def test_dp_epsilon_is_finite_within_target_and_what_the_sequential_accountant_reports():
    data, seeds = _tiny_data([30, 26], n=60), [0, 1]  # one sample rate (1/4): one noise search
    recipe = TrainRecipe(
        architecture="mlp", epochs=2, batch_size=8, learning_rate=1e-2, regime=parse_regime("dp:4", delta=1e-3)
    )
    outcome = train_ensemble(
        initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds), data, recipe, seeds=seeds
    )
    assert all(np.isfinite(e) and 0 < e <= 4.0 for e in outcome.epsilons)
    (reference,) = _sequential(data, recipe, seeds[:1])
    # Same Poisson batches, so the same steps taken, so the same PRV accountant history.
    assert outcome.epsilons[0] == pytest.approx(reference.epsilon, rel=1e-9)


def test_outputs_are_what_the_pool_stores_per_model(tmp_path):
    data, seeds = _tiny_data([12, 9, 15]), [0, 1, 2]
    recipe = TrainRecipe(architecture="cnn", epochs=2, batch_size=8, learning_rate=1e-2)
    queries = [data.x, data.x.flip(-1)]
    models = initial_models(recipe, input_shape=SHAPE, num_classes=10, seeds=seeds)
    outcome = train_ensemble(models, data, recipe, seeds=seeds, queries=queries, snapshot_epochs=[2, 1])
    assert outcome.logits.shape == (3, 40, 2, 10) and outcome.logits.dtype == np.float32
    assert outcome.snapshot_epochs == [1, 2]
    assert outcome.snapshot_logits.shape == (3, 2, 40, 2, 10)
    np.testing.assert_array_equal(outcome.snapshot_logits[:, -1], outcome.logits)
    assert outcome.epsilons == [None, None, None]
    assert [len(h) for h in outcome.histories] == [2, 2, 2]
    save_weights(outcome.models[1], tmp_path / "w.npz")
    plain = load_weights(create_model("cnn", input_shape=SHAPE, num_classes=10), tmp_path / "w.npz").eval()
    with torch.no_grad():
        np.testing.assert_allclose(plain(queries[1]).numpy(), outcome.logits[1, :, 1], atol=1e-5)


def test_architectures_with_training_state_are_refused_with_the_reason():
    batchnorm = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(144, 10))
    dropout = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Dropout(0.5), nn.Linear(16, 10))
    assert not supports_ensemble(batchnorm) and not supports_ensemble(dropout)
    for name in ("mlp", "cnn", "resnet"):
        assert supports_ensemble(create_model(name, input_shape=SHAPE, num_classes=10))
    data = _tiny_data([12])
    recipe = TrainRecipe(architecture="mlp", epochs=1, batch_size=8, learning_rate=1e-2)
    with pytest.raises(EnsembleUnsupported, match="BatchNorm"):
        train_ensemble([batchnorm], data, recipe, seeds=[0])


@pytest.mark.parametrize(
    "model, delta, words",
    [
        (nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), 0.1, "lower --delta below 0.01, e.g. --delta 0.001"),
        (nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(10)), 1e-5, "leave DP-SGD out"),
    ],
)
def test_the_vectorised_dp_path_refuses_with_the_sequential_paths_messages(model, delta, words):
    """An ensemble's DP-SGD check words its refusals as make_private does, fix included."""
    from audit.errors import AuditInputError
    from audit.training.dp_vectorised import check_private

    recipe = TrainRecipe(architecture="probe", epochs=1, batch_size=8, learning_rate=0.1, regime=parse_regime("dp:8", delta=delta))
    with pytest.raises(AuditInputError) as error:
        check_private(model, recipe, sizes=[100, 80])
    assert words in str(error.value)


def test_models_rewritten_by_torch_fx_train_one_at_a_time():
    """DP-SGD's out-of-place rewrite (torch.fx) gives each copy its own class, which
    torch.func cannot stack: the ensemble refuses them with the reason, so ``auto`` trains
    them sequentially (torchvision's ResNet-18 under DP-SGD failed in stack_module_state)."""
    from audit.training.stacked_forward import ensemble_refusal

    traced = torch.fx.symbolic_trace(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2)))
    assert "torch.fx" in ensemble_refusal(traced)
    assert ensemble_refusal(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))) is None
