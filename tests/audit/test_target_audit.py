"""Auditing a user's own trained model: TorchScript, state_dict with --arch, and the
round trip through python -m audit.train; and every bad input refused in one line."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from audit.cli.run import main
from audit.data import load_digits_dataset
from audit.training import TrainData, TrainRecipe, train
from models import create_model

SMALL = [
    "--models-per-regime", "4", "--epochs", "3", "--regimes", "standard", "flood:0.3", "dp:8",
    "--attacks", "loss", "lira-offline", "--main-attack", "lira-offline", "--delta", "1e-3", "--quiet",
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An MLP trained on 150 digits (members), normalised with the members' statistics."""
    directory = tmp_path_factory.mktemp("user-model")
    digits = load_digits_dataset()
    members = np.random.default_rng(0).choice(len(digits.y), size=150, replace=False)
    x = digits.x[members]
    mean, std = x.mean(), x.std() + 1e-6
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    data = TrainData(t((x - mean) / std), t(digits.y[members]), t((x[:50] - mean) / std), t(digits.y[members][:50]))
    model = create_model("mlp", input_shape=(1, 8, 8), num_classes=10)
    train(model, data, TrainRecipe(architecture="mlp", epochs=30, batch_size=32, learning_rate=1e-3), seed=0)
    np.save(directory / "members.npy", members)
    model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 marks TorchScript deprecated
        torch.jit.save(torch.jit.script(model), directory / "model.ts")
    return directory, model, members


def _results(out):
    return json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_audit_a_torchscript_model(trained, tmp_path):
    directory, model, _ = trained
    code = main(["--model", str(directory / "model.ts"), "--arch", "mlp", "--members", str(directory / "members.npy"),
                 *SMALL, "--output-dir", str(tmp_path)])
    assert code == 0
    results = _results(tmp_path)
    labels = [r["label"] for r in results["regimes"]]
    assert labels == ["your model (standard)", "flood(b=0.3) baseline", "dp(eps=8) baseline"]
    yours = results["regimes"][0]
    assert yours["models"][0]["train_accuracy"] == 1.0  # the model memorised its 150 members
    assert yours["attacks"]["lira-offline"]["n_members"] == 150
    assert yours["attacks"]["lira-offline"]["n_non_members"] == 150
    assert (tmp_path / "report.html").exists()


@pytest.mark.slow
def test_audit_a_state_dict_with_arch(trained, tmp_path):
    directory, model, _ = trained
    torch.save(model.state_dict(), directory / "weights.pt")
    code = main(["--model", str(directory / "weights.pt"), "--arch", "mlp", "--members", str(directory / "members.npy"),
                 *SMALL, "--regimes", "standard", "--output-dir", str(tmp_path)])
    assert code == 0
    assert _results(tmp_path)["regimes"][0]["label"] == "your model (standard)"


@pytest.mark.slow
def test_train_then_audit_round_trip(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "audit.train", "--regime", "flood:0.3", "--train-size", "150", "--epochs", "3",
         "--output", str(tmp_path / "target")],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    manifest = json.loads((tmp_path / "target.json").read_text())
    assert len(manifest["members"]) == 150 and manifest["recipe"]["regime"]["objective"] == "flood"
    # No --members: the checkpoint carries them, and its recipe (flood at 0.3) is the target regime.
    assert main(["--model", str(tmp_path / "target.npz"), *SMALL, "--regimes", "standard", "--output-dir", str(tmp_path / "audit")]) == 0
    labels = [r["label"] for r in _results(tmp_path / "audit")["regimes"]]
    assert labels == ["your model (flood(b=0.3))", "standard baseline"]


def _one_line_error(args, capsys, *, after_small=()):
    code = main([*args, *SMALL, *after_small])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    return err[0]


def test_output_width_must_match_the_class_count(trained, tmp_path, capsys):
    directory, _, _ = trained
    narrow = create_model("mlp", input_shape=(1, 8, 8), num_classes=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(narrow), tmp_path / "narrow.ts")
    message = _one_line_error(["--model", str(tmp_path / "narrow.ts"), "--members", str(directory / "members.npy"), "--output-dir", str(tmp_path)], capsys)
    assert "narrow.ts" in message and "10 classes" in message


def test_non_finite_outputs_are_refused(trained, tmp_path, capsys):
    directory, model, _ = trained
    broken = create_model("mlp", input_shape=(1, 8, 8), num_classes=10)
    broken.load_state_dict(model.state_dict())
    with torch.no_grad():
        broken.net[-1].bias[3] = float("nan")
    torch.save(broken.state_dict(), tmp_path / "nan.pt")
    message = _one_line_error(["--model", str(tmp_path / "nan.pt"), "--members", str(directory / "members.npy"), "--output-dir", str(tmp_path)], capsys)
    assert "NaN or infinite" in message


@pytest.mark.parametrize(
    "members, non_members, words",
    [
        ([1, 2, 5000], None, "out of range"),
        ([1, 2, 2, 3], None, "more than once"),
        ([1, 2, 3], [3, 4, 5], "overlap"),
    ],
)
def test_bad_member_files(trained, tmp_path, capsys, members, non_members, words):
    directory, _, _ = trained
    (tmp_path / "m.json").write_text(json.dumps(members))
    args = ["--model", str(directory / "model.ts"), "--members", str(tmp_path / "m.json"), "--output-dir", str(tmp_path)]
    if non_members is not None:
        (tmp_path / "n.txt").write_text(" ".join(map(str, non_members)))
        args += ["--non-members", str(tmp_path / "n.txt")]
    message = _one_line_error(args, capsys)
    assert words in message and ("m.json" in message or "overlap" in message)


def test_pickled_model_is_refused_unless_trusted(trained, tmp_path, capsys):
    directory, model, _ = trained
    torch.save(model, tmp_path / "pickled.pt")  # a whole module: unpickling runs code
    args = ["--model", str(tmp_path / "pickled.pt"), "--members", str(directory / "members.npy"), "--output-dir", str(tmp_path)]
    message = _one_line_error(args, capsys)
    assert "pickled code" in message and "--trust-pickle" in message
    assert main([*args, *SMALL, "--regimes", "standard", "--trust-pickle"]) == 0


def test_missing_data_path_and_offline_download(tmp_path, capsys, monkeypatch):
    # A pool audit (no --model): lira-offline's leave-one-out needs 5 models per regime.
    pool = ["--models-per-regime", "5"]
    message = _one_line_error(["--dataset", f"imagefolder:{tmp_path / 'absent'}", "--output-dir", str(tmp_path)], capsys, after_small=pool)
    assert "absent" in message
    message = _one_line_error(
        ["--dataset", "cifar10", "--data-dir", str(tmp_path / "empty"), "--output-dir", str(tmp_path)], capsys, after_small=pool
    )
    assert "--download" in message

    import urllib.error
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    message = _one_line_error(["--dataset", "mnist", "--download", "--data-dir", str(tmp_path / "dl"), "--output-dir", str(tmp_path)], capsys)
    assert "offline" in message or "download" in message
