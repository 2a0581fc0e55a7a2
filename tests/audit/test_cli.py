"""The command line as a user meets it: one-line errors with exit code 2, help text, and a
tiny end-to-end run that writes the report and the results."""

import dataclasses
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from audit.cli.run import main
from models import create_model

TINY = [
    "--pool-size", "120", "--canaries", "10", "--models-per-regime", "6", "--epochs", "4", "--snapshots", "2",
    "--regimes", "standard", "flood:0.3", "iflood:0.2", "dp:8",
    "--attacks", "loss", "confidence", "lira-online", "--main-attack", "lira-online",
    "--delta", "1e-3",
]


def _run_cli(*args):
    """The command as a separate process (exit code, stdout and stderr as a shell sees them)."""
    return subprocess.run([sys.executable, "-m", "audit.run", *args], capture_output=True, text=True, timeout=300)


def _run_main(capsys, *args) -> tuple[int, str, str]:
    """The command in this process (fast): exit code, stdout, stderr."""
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse exits on its own errors
        code = stop.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "args, words",
    [
        (["--flood-levels", "-0.1"], "flood level must be a finite number >= 0"),
        (["--epsilons", "0"], "epsilon must be a finite number > 0"),
        (["--epsilons", "-2"], "epsilon must be a finite number > 0"),
        (["--models-per-regime", "3"], "models per regime must be >= 4"),
        (["--regimes", "dropout:0.5"], "unknown regime"),
        (["--regimes", "dp:8+flood:0.3"], "flood cannot be combined with dp"),
        (["--models-per-regime", "two"], "invalid int value"),
        (["--attacks", "no-such-attack"], "no-such-attack"),
    ],
)
def test_bad_input_gets_one_line_error_and_exit_2(args, words, tmp_path, capsys):
    code, _, err = _run_main(capsys, *args, "--output-dir", str(tmp_path))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert words in lines[0]
    assert not (tmp_path / "cache").exists()  # refused before any training


def test_a_bad_input_ends_the_process_with_exit_2_and_no_traceback(tmp_path):
    completed = _run_cli("--flood-levels", "-0.1", "--output-dir", str(tmp_path))
    assert completed.returncode == 2
    assert len(completed.stderr.strip().splitlines()) == 1 and "Traceback" not in completed.stderr


def test_lira_online_with_too_few_references_says_how_many(tmp_path, capsys):
    # With 4 models each candidate is calibrated on 1 member and 1 non-member reference: LiRA online needs 2 of each.
    code, _, err = _run_main(capsys, "--models-per-regime", "4", "--attacks", "lira-online", "--output-dir", str(tmp_path))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "lira-online needs 6" in line and "use --models-per-regime 6" in line
    assert not (tmp_path / "cache").exists()  # refused before any training


def test_the_default_attacks_with_too_few_models_name_each_need_and_the_flags(tmp_path, capsys):
    code, _, err = _run_main(capsys, "--models-per-regime", "4", "--output-dir", str(tmp_path))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "lira-online needs 6, lira-offline needs 5, rmia needs 5" in line
    assert "use --models-per-regime 6" in line and "--attacks loss " in line and "--main-attack loss" in line
    assert not (tmp_path / "cache").exists()


def test_help_documents_the_options():
    completed = _run_cli("--help")
    assert completed.returncode == 0
    for option in ("--output-dir", "--models-per-regime", "--flood-levels", "--epsilons", "--epochs", "--seed", "--device"):
        assert option in completed.stdout


@pytest.mark.slow
def test_tiny_end_to_end_run_writes_report_and_results(tmp_path, capsys):
    out = tmp_path / "run"
    assert main([*TINY, "--output-dir", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "report:" in printed and "dp(eps=8)" in printed

    results = json.loads((out / "results.json").read_text())
    labels = [r["label"] for r in results["regimes"]]
    assert labels == ["standard", "flood(b=0.3)", "iflood(b=0.2)", "dp(eps=8)"]
    for regime in results["regimes"]:
        assert set(regime["attacks"]) == {"loss", "confidence", "lira-online"}
        assert len(regime["models"]) == 6
        for summary in regime["attacks"].values():
            assert 0.0 <= summary["auc"] <= 1.0
            assert summary["n_members"] == summary["n_non_members"] == 6 * 55  # the population: 110 of 120
    dp = results["regimes"][-1]
    assert all(0 < m["epsilon"] <= 8 for m in dp["models"])

    html = (out / "report.html").read_text()
    for label in labels:
        assert label in html
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert images and all(src.startswith("data:image/") for src in images)

    # A second run with the same settings retrains nothing.
    assert main([*TINY, "--output-dir", str(out), "--quiet"]) == 0
    again = json.loads((out / "results.json").read_text())
    assert all(m["cached"] for r in again["regimes"] for m in r["models"])
    assert again["regimes"][0]["attacks"]["loss"]["auc"] == results["regimes"][0]["attacks"]["loss"]["auc"]


def test_unknown_attack_lists_the_valid_ones(tmp_path, capsys):
    code, _, err = _run_main(capsys, "--attacks", "lira", "--output-dir", str(tmp_path))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "'lira'" in line and "lira-online" in line and "rmia" in line


def test_list_attacks_names_every_attack_with_its_paper(capsys):
    code, out, _ = _run_main(capsys, "--list-attacks")
    assert code == 0
    for name in ("loss", "shadow", "lira-online", "lira-offline", "rmia", "label-only"):
        assert any(line.startswith(name + " ") for line in out.splitlines())
    assert "Carlini" in out and "Zarifzadeh" in out


# Problems that only show once the data is loaded or training runs: one line, exit 2, and
# whatever was trained before them stays cached.
QUICK = [
    "--pool-size", "40", "--canaries", "0", "--models-per-regime", "4", "--epochs", "1", "--snapshots", "0",
    "--attacks", "loss", "--main-attack", "loss", "--quiet",
]


def _cached(folder) -> int:
    """Models in the cache (entries with a record), not the analyses beside them."""
    return len(list((folder / "cache").glob("*/record.json")))


def test_training_that_diverges_is_one_line_naming_the_regime_and_the_flag(tmp_path, capsys):
    code, _, err = _run_main(
        capsys, *QUICK, "--regimes", "standard", "dp:8", "--no-dp-tuning", "--dp-learning-rate", "1e30",
        "--delta", "1e-3", "--output-dir", str(tmp_path),
    )
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert line.startswith("python -m audit.run: error: training diverged under dp(eps=8) at epoch 1")
    assert "--dp-learning-rate" in line and "--optimizer sgd" in line
    assert _cached(tmp_path) == 5  # the standard regime's 4 models and its audit model


def test_an_architecture_that_cannot_train_as_an_ensemble_says_use_sequential(tmp_path, capsys):
    code, _, err = _run_main(
        capsys, *QUICK, "--regimes", "standard", "--trainer", "ensemble",
        "--arch", "tests.models.user_architectures:small_bn_cnn", "--output-dir", str(tmp_path),
    )
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert "cannot train as an ensemble under standard: it has buffers" in line and "use --trainer sequential" in line
    assert _cached(tmp_path) == 0


def test_flood_levels_auto_without_a_usable_test_loss_is_one_line(tmp_path, capsys, monkeypatch):
    from audit.analysis import flood_sweep
    from audit.pipeline import pools

    # A standard regime with no model histories: the mean test loss is NaN (as a test loss of 0 or inf would be).
    monkeypatch.setattr(pools, "sweep_levels", lambda result: flood_sweep.sweep_levels(dataclasses.replace(result, models=[])))
    code, _, err = _run_main(capsys, *QUICK, "--flood-levels", "auto", "--regimes", "standard", "--output-dir", str(tmp_path))
    assert code == 2, err
    (line,) = err.strip().splitlines()
    assert "--flood-levels auto cannot derive flood levels" in line and "e.g. --flood-levels 0.05 0.1 0.3" in line
    assert _cached(tmp_path) == 5  # the standard models stay cached


def test_a_model_file_audited_as_an_architecture_that_does_not_fit_the_data(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(60)))
    torch.save(create_model("mlp", input_shape=(2,), num_classes=2).state_dict(), tmp_path / "model.pt")
    np.save(tmp_path / "members.npy", np.arange(30))
    code, _, err = _run_main(
        capsys, "--model", str(tmp_path / "model.pt"), "--arch", "cnn", "--dataset", f"csv:{tmp_path / 'data.csv'}",
        "--members", str(tmp_path / "members.npy"), "--output-dir", str(tmp_path / "out"),
    )
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "architecture 'cnn' cannot be built for inputs (2,)" in line and "pick an architecture that fits" in line


def test_a_missing_config_file_names_the_flag(tmp_path, capsys):
    code, _, err = _run_main(capsys, "--config", str(tmp_path / "nowhere.toml"), "--output-dir", str(tmp_path))
    assert code == 2
    (line,) = err.strip().splitlines()
    assert "does not exist: check the --config path" in line
