"""Nothing misread, nothing reused by mistake, nothing lost: one test per case a user hit
(wrong results with exit 0, crashes that lost work or explained nothing).

The tests drive the command lines in-process (``audit.run.main``, ``audit.train.main``) on
tiny digits audits, so each case is checked as a user meets it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from audit.run import main as run_main
from audit.train import main as train_main

pytestmark = pytest.mark.slow

TINY = [
    "--pool-size", "100", "--models-per-regime", "6", "--epochs", "3", "--snapshots", "0",
    "--regimes", "standard", "--attacks", "loss", "lira-offline", "--main-attack", "lira-offline", "--quiet",
]


def _run(capsys, *args) -> tuple[int, str]:
    try:
        code = run_main(list(args))
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def _figures(folder: Path) -> dict:
    """Every attack's AUC and every model's test accuracy, per regime."""
    data = json.loads((folder / "results.json").read_text())
    return {
        r["label"]: (
            {name: a["auc"] for name, a in r["attacks"].items()},
            [m["test_accuracy"] for m in r["models"]],
        )
        for r in data["regimes"]
    }


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two models trained by ``python -m audit.train`` on different members (seeds 0 and 1)."""
    folder = tmp_path_factory.mktemp("checkpoints")
    for seed in (0, 1):
        args = ["--output", str(folder / f"target{seed}"), "--train-size", "100", "--epochs", "5", "--seed", str(seed)]
        assert train_main(args) == 0
    return folder


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished tiny audit (its folder is copied by tests that damage it)."""
    folder = tmp_path_factory.mktemp("run") / "out"
    assert run_main([*TINY, "--output-dir", str(folder)]) == 0
    return folder


# 1. An own-model audit reused another model's reference models.
def test_audits_of_two_models_in_one_folder_do_not_share_references(checkpoints, tmp_path, capsys):
    shared, fresh = tmp_path / "shared", tmp_path / "fresh"
    own = ["--models-per-regime", "4", "--epochs", "5", "--attacks", "loss", "lira-offline", "--main-attack", "lira-offline", "--regimes", "standard", "--quiet"]
    assert _run(capsys, *own, "--model", str(checkpoints / "target0.npz"), "--output-dir", str(shared))[0] == 0
    assert _run(capsys, *own, "--model", str(checkpoints / "target1.npz"), "--output-dir", str(shared))[0] == 0
    assert _run(capsys, *own, "--model", str(checkpoints / "target1.npz"), "--output-dir", str(fresh))[0] == 0
    assert _figures(shared) == _figures(fresh)


# 2. --test-size was not in the cache key.
def test_another_test_size_is_not_served_from_the_cache(tmp_path, capsys):
    folder, fresh = tmp_path / "out", tmp_path / "fresh"
    assert _run(capsys, *TINY, "--test-size", "400", "--output-dir", str(folder))[0] == 0
    assert _run(capsys, *TINY, "--test-size", "200", "--output-dir", str(folder))[0] == 0
    assert _run(capsys, *TINY, "--test-size", "200", "--output-dir", str(fresh))[0] == 0
    assert _figures(folder) == _figures(fresh)


# 3. A checkpoint audited on the wrong data set (the digits with their rows shuffled).
def test_a_checkpoint_on_another_data_set_is_refused(checkpoints, tmp_path, capsys):
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(0).permutation(len(digits.target))
    np.savez(tmp_path / "shuffled.npz", x=(digits.images / 16.0)[order][:, None], y=digits.target[order])
    code, err = _run(
        capsys, "--model", str(checkpoints / "target0.npz"), "--dataset", f"npz:{tmp_path / 'shuffled.npz'}",
        "--output-dir", str(tmp_path / "out"),
    )
    assert code == 2 and "fingerprint" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())


# 4. ImageFolder trees with training/ and testing/ were read as two classes.
def test_training_and_testing_folders_are_splits_not_classes(tmp_path):
    from PIL import Image

    from audit.data import load_dataset

    for split in ("training", "testing"):
        for label in ("cat", "dog", "owl"):
            folder = tmp_path / "tree" / split / label
            folder.mkdir(parents=True)
            for i in range(2):
                Image.new("L", (4, 4), color=40 * i).save(folder / f"{i}.png")
    dataset = load_dataset(f"imagefolder:{tmp_path / 'tree'}", cache_dir=tmp_path / "decoded")
    assert dataset.num_classes == 3 and dataset.class_names == ("cat", "dog", "owl") and len(dataset.y) == 12


# 5. Member lists inside a checkpoint's .json were not validated.
@pytest.mark.parametrize("members, words", [([-1, 2], "out of range"), ([3, 3, 4], "more than once"), ([5000], "out of range")])
def test_a_checkpoints_member_list_is_validated(checkpoints, tmp_path, capsys, members, words):
    for suffix in (".npz", ".json"):
        shutil.copy(checkpoints / f"target0{suffix}", tmp_path / f"edited{suffix}")
    manifest = json.loads((tmp_path / "edited.json").read_text())
    (tmp_path / "edited.json").write_text(json.dumps({**manifest, "members": members}))
    code, err = _run(capsys, "--model", str(tmp_path / "edited.npz"), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and words in err and "member list of checkpoint" in err


# 6. A cache entry replaced by a valid file with other contents was used.
# 7. A damaged cache entry crashed every rerun.
@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda entries: shutil.copy(entries[1] / "signals.npz", entries[0] / "signals.npz"), id="swapped"),
        pytest.param(lambda entries: (entries[0] / "signals.npz").write_bytes(b"PK\x03\x04"), id="truncated"),
        pytest.param(lambda entries: (entries[0] / "record.json").write_text(""), id="empty-record"),
    ],
)
def test_a_damaged_cache_entry_is_moved_aside_and_retrained(finished_run, tmp_path, capsys, damage):
    folder = tmp_path / "out"
    shutil.copytree(finished_run, folder)
    entries = sorted(p for p in (folder / "cache").iterdir() if (p / "record.json").exists())  # models, not analyses
    damage(entries)
    code = run_main([*TINY, "--output-dir", str(folder)])
    err = capsys.readouterr().err
    assert code == 0 and "damaged" in err and str(entries[0].name) in err
    assert _figures(folder) == _figures(finished_run)
    assert len(list((folder / "cache" / ".damaged").iterdir())) == 1


# 8. The output folder was checked only when the results were written.
def test_an_unusable_output_folder_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    code, err = _run(capsys, *TINY, "--output-dir", str(tmp_path / "a-file"))
    assert code == 2 and "is a file, not a folder" in err
    code, err = _run(capsys, *TINY, "--output-dir", "/proc/flood-audit-cannot-be-here")
    assert code == 2 and "cannot write to output folder" in err and len(err.strip().splitlines()) == 1


def test_a_full_disk_while_rendering_leaves_the_previous_outputs_whole(finished_run, tmp_path, capsys, monkeypatch):
    import errno

    import reports.render

    folder = tmp_path / "out"
    shutil.copytree(finished_run, folder)
    before = {name: (folder / name).read_bytes() for name in ("results.json", "report.html", "scores.npz", "config.toml")}

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(reports.render, "write_text", disk_full)
    code, err = _run(capsys, *TINY, "--seed", "1", "--output-dir", str(folder))
    assert code == 1 and "No space left on device" in err and "cached" in err
    assert {name: (folder / name).read_bytes() for name in before} == before
    assert not [p for p in folder.iterdir() if p.name.startswith(".") and p.is_file()]


# 9. Values that passed validation, then crashed after training.
@pytest.mark.parametrize(
    "args, words",
    [
        (["--regimes", "dp:inf"], "epsilon must be a finite number > 0"),
        (["--flood-levels", "nan"], "flood level must be a finite number >= 0"),
        (["--arch", "foo"], "unknown architecture 'foo'"),
        (["--pool-size", "2"], "pool size must be"),
    ],
)
def test_values_that_would_crash_after_training_are_refused_first(tmp_path, capsys, args, words):
    code, err = _run(capsys, "--output-dir", str(tmp_path / "out"), *args)
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "cache").exists() or not any((tmp_path / "out" / "cache").iterdir())


@pytest.mark.parametrize(
    "line, words",
    [
        ("epochs = 2.5", "epochs in "),
        ("flood_levels = 0.3", "flood_levels in "),
        ("output_dir = 5", "output_dir in "),
        ('regimes = "standard"', "regimes in "),
    ],
)
def test_config_values_of_the_wrong_type_are_named(tmp_path, capsys, line, words):
    (tmp_path / "c.toml").write_text(line + "\n")
    code, err = _run(capsys, "--config", str(tmp_path / "c.toml"), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and words in err and "must be a" in err and len(err.strip().splitlines()) == 1


# 10. Low severity: model files that are no model files, a huge declared array, silent oddities.
@pytest.mark.parametrize("content, words", [(b"", "is empty"), (b"\x00\x01random bytes", "is not a model file")])
def test_a_file_that_is_no_model_file_says_so(tmp_path, capsys, content, words):
    (tmp_path / "model.pt").write_bytes(content)
    code, err = _run(capsys, "--model", str(tmp_path / "model.pt"), "--arch", "mlp", "--members", str(tmp_path / "m.txt"), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and words in err and "pickled code" not in err


def test_an_npz_declaring_a_huge_array_is_refused_before_loading(tmp_path, capsys):
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**7, 10**6)})
    labels = io.BytesIO()
    np.save(labels, np.arange(3))
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("x.npy", header.getvalue())
        archive.writestr("y.npy", labels.getvalue())
    code, err = _run(capsys, "--dataset", f"npz:{tmp_path / 'huge.npz'}", "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "GiB" in err and "more than this machine's" in err


def test_odd_model_counts_and_flood_levels_above_chance_are_warned_about(tmp_path, capsys):
    args = [*TINY, "--models-per-regime", "5", "--regimes", "standard", "flood:100", "--output-dir", str(tmp_path / "out")]
    code, err = _run(capsys, *args)
    assert code == 0
    assert "warning: 5 models per regime is odd" in err
    assert "warning: flood level 100 in flood(b=100) is above ln(10) = 2.30" in err


def _regimes_without_run_details(folder: Path) -> list:
    """results.json's regimes without what describes the run, not the audit (whether each
    model was trained or loaded, and its training time)."""
    regimes = json.loads((folder / "results.json").read_text())["regimes"]
    for regime in regimes:
        for model in regime["models"]:
            del model["cached"], model["seconds"]
    return regimes


def test_a_rerun_on_cached_models_reads_their_analysis_back_unchanged(finished_run, tmp_path, monkeypatch):
    """The analysis of a regime is cached under a digest of its inputs: a re-run does not
    compute it again, and writes the same results and scores."""
    from audit.pipeline import pools

    folder = tmp_path / "out"
    shutil.copytree(finished_run, folder)

    def recomputed(**_):
        raise AssertionError("the analysis was computed again")

    monkeypatch.setattr(pools, "summarise_pool", recomputed)
    assert run_main([*TINY, "--output-dir", str(folder)]) == 0
    assert _regimes_without_run_details(folder) == _regimes_without_run_details(finished_run)
    with np.load(folder / "scores.npz") as now, np.load(finished_run / "scores.npz") as before:
        assert sorted(now) == sorted(before)
        for name in now:
            np.testing.assert_array_equal(now[name], before[name])
    models = json.loads((folder / "results.json").read_text())["regimes"][0]["models"]
    assert all(model["cached"] for model in models)  # this run's own account of its models
