"""Auditing the model a user actually trained: a torchvision ResNet-18 and a factory of the
user's own, from a state_dict and from TorchScript, end to end; a BatchNorm model's DP-SGD
baseline with its substitutions named; and every bad architecture input refused in one line
before any training."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from audit.run import main as run_main
from models import create_model

FACTORY = "tests.models.user_architectures:small_bn_cnn"
N = 160  # images of 3 x 16 x 16 in 4 classes


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A small RGB data set as an npz file, and the members a user model trained on."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=N)
    x = (rng.random((N, 3, 16, 16)) * 0.5 + y[:, None, None, None] * 0.12).astype(np.float32)
    np.savez(folder / "images.npz", x=x, y=y)
    members = np.sort(rng.choice(N, size=40, replace=False))
    np.save(folder / "members.npy", members)
    return folder, members


def _user_model(architecture: str, options: dict, folder: Path, members: np.ndarray, *, torchscript: bool) -> Path:
    """Train the user's model a little, as a user would, and save it the way they would."""
    with np.load(folder / "images.npz") as data:
        x, y = data["x"][members], data["y"][members]
    mean, std = x.mean(axis=(0, 2, 3), keepdims=True), x.std(axis=(0, 2, 3), keepdims=True) + 1e-6
    torch.manual_seed(0)
    model = create_model(architecture, input_shape=(3, 16, 16), num_classes=4, options=options)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs, labels = torch.from_numpy((x - mean) / std), torch.from_numpy(y)
    for _ in range(3):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), labels).backward()
        optimizer.step()
    model.eval()
    path = folder / f"{architecture.replace(':', '_').replace('.', '_')}.{'ts' if torchscript else 'pt'}"
    if torchscript:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # torch 2.14 marks TorchScript deprecated
            torch.jit.save(torch.jit.trace(model, inputs[:2]), path)
    else:
        torch.save(model.state_dict(), path)
    return path


def _audit(tmp_path, capsys, *args) -> tuple[int, str]:
    try:
        code = run_main([*args, "--output-dir", str(tmp_path / "out")])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


COMMON = ["--models-per-regime", "4", "--epochs", "2", "--batch-size", "16", "--attacks", "loss", "--main-attack", "loss", "--quiet"]


@pytest.mark.slow
@pytest.mark.parametrize("torchscript", [False, True], ids=["state_dict", "torchscript"])
@pytest.mark.parametrize(
    "architecture, options, regimes",
    [
        ("torchvision:resnet18", {}, ["standard", "flood:0.5"]),
        (FACTORY, {"width": 6}, ["standard", "dp:8"]),
    ],
    ids=["resnet18", "user-factory"],
)
def test_a_users_model_is_audited_end_to_end(images, tmp_path, capsys, architecture, options, regimes, torchscript):
    folder, members = images
    model = _user_model(architecture, options, folder, members, torchscript=torchscript)
    option_args = [arg for key, value in options.items() for arg in ("--arch-option", f"{key}={value}")]
    code, err = _audit(
        tmp_path, capsys, "--model", str(model), "--arch", architecture, *option_args,
        "--dataset", f"npz:{folder / 'images.npz'}", "--members", str(folder / "members.npy"),
        "--delta", "1e-3", "--regimes", *regimes, *COMMON,
    )
    assert code == 0, err
    result = json.loads((tmp_path / "out" / "results.json").read_text())
    assert result["architecture"]["name"] == architecture and result["architecture"]["options"] == options
    assert result["architecture"]["parameters"] == sum(p.numel() for p in create_model(architecture, input_shape=(3, 16, 16), num_classes=4, options=options).parameters())
    labels = [r["label"] for r in result["regimes"]]
    assert labels[0] == f"your model ({regimes[0]})" and len(labels) == len(regimes)
    your = result["regimes"][0]
    assert 0.0 <= your["attacks"]["loss"]["auc"] <= 1.0 and your["attacks"]["loss"]["n_members"] == len(members)
    if "dp:8" in regimes:  # the BatchNorm factory's DP-SGD baseline trained on a modified architecture
        dp = result["regimes"][1]
        assert dp["substitution_summary"] == ["1 x BatchNorm2d -> GroupNorm", "1 x ReLU(inplace=True) -> ReLU"]
        assert dp["models"][0]["epsilon"] is not None and your["substitutions"] == []
        html = (tmp_path / "out" / "report.html").read_text()
        assert "DP-SGD could not train this architecture as is" in html and "BatchNorm2d -&gt; GroupNorm" in html


@pytest.mark.parametrize(
    "args, words",
    [
        (["--arch", "torchvision:resnet181"], "torchvision:resnet18"),
        (["--arch", "no_such_package.models:build"], "cannot import"),
        (["--arch", "tests.models.user_architectures:not_there"], "not_there"),
        (["--arch", "tests.models.user_architectures:returns_a_list"], "nn.Module"),
        (["--arch", "cnn", "--arch-option", "layers=3"], "unknown option 'layers'"),
        (["--arch", "cnn", "--arch-option", "3=width"], "invalid architecture option"),
    ],
)
def test_bad_architectures_are_one_line_and_exit_2_before_training(tmp_path, capsys, args, words):
    code, err = _audit(tmp_path, capsys, *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())


def test_a_state_dict_that_does_not_fit_the_architecture_is_refused_before_training(images, tmp_path, capsys):
    folder, members = images
    model = _user_model(FACTORY, {"width": 6}, folder, members, torchscript=False)
    code, err = _audit(
        tmp_path, capsys, "--model", str(model), "--arch", "torchvision:resnet18",
        "--dataset", f"npz:{folder / 'images.npz'}", "--members", str(folder / "members.npy"), *COMMON,
    )
    assert code == 2 and "name the architecture it was trained with using --arch" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())


def test_architecture_options_come_from_a_config_table_and_flags_win(tmp_path):
    from audit.cli.run import config_from_args, parse_args

    (tmp_path / "c.toml").write_text('architecture = "cnn"\n[architecture_options]\nwidth = 8\n')
    config = config_from_args(parse_args(["--config", str(tmp_path / "c.toml")]))
    assert config.architecture_options == {"width": 8}
    config = config_from_args(parse_args(["--config", str(tmp_path / "c.toml"), "--arch-option", "width=4"]))
    assert config.architecture_options == {"width": 4}


@pytest.mark.slow
def test_torchvisions_resnet18_gets_its_dp_sgd_baseline(images, tmp_path, capsys):
    """ResNet-18's DP-SGD baseline needs GroupNorm for BatchNorm and the torch.fx out-of-place
    rewrite (in-place ReLU, ``out += identity``); its rewritten copies train one at a time
    (before, building them into an ensemble crashed in torch.func's stack_module_state)."""
    folder, members = images
    model = _user_model("torchvision:resnet18", {}, folder, members, torchscript=False)
    code, err = _audit(
        tmp_path, capsys, "--model", str(model), "--arch", "torchvision:resnet18",
        "--dataset", f"npz:{folder / 'images.npz'}", "--members", str(folder / "members.npy"),
        "--delta", "1e-3", "--regimes", "standard", "dp:8", *COMMON,
    )
    assert code == 0, err
    dp = json.loads((tmp_path / "out" / "results.json").read_text())["regimes"][1]
    assert any("BatchNorm2d -> GroupNorm" in line for line in dp["substitution_summary"])
    assert any("torch.fx" in line for line in dp["substitution_summary"])
    assert all(m["epsilon"] is not None for m in dp["models"])
