"""``audit.train``, ``audit.report`` and ``audit.study`` as a user meets them: bad input is one
line and exit code 2, an output that cannot be written one line and exit code 1, Ctrl-C one
line and exit code 130; never a traceback. File-system failures are simulated (the tests may
run as root, which no permission stops)."""

from __future__ import annotations

import errno
import gzip
import json

import pytest

from attacks import AttackInputError
from audit.cli import report, study, train
from results.records import SCHEMA_VERSION
from tests.reports.synthetic import build_audit_result

FULL_DISK = OSError(errno.ENOSPC, "No space left on device")
TINY_TRAIN = ["--train-size", "50", "--epochs", "1"]


def _call(main, capsys, *args) -> tuple[int, str]:
    """Exit code and stderr of a command run in this process."""
    try:
        code = main(list(args))
    except SystemExit as stop:  # the option parser exits on its own
        code = stop.code
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the command: the user sees a traceback")
    return code, capsys.readouterr().err


def _one_line(err: str, command: str) -> str:
    """The only non-blank line of ``err``, which must be the command's error."""
    (line,) = err.strip().splitlines()
    assert line.startswith((f"python -m audit.{command}: error: ", "interrupted: ")), line
    return line


def _raise(error: BaseException):
    def fail(*args, **kwargs):
        raise error

    return fail


# ---------------------------------------------------------------- audit.train


def test_train_refuses_a_learning_rate_of_zero(tmp_path, capsys):
    code, err = _call(train.main, capsys, "--output", str(tmp_path / "m"), *TINY_TRAIN, "--learning-rate", "0")
    assert code == 2
    assert "learning rate must be a number > 0, got 0.0" in _one_line(err, "train")


def test_train_that_diverges_names_the_regime_and_the_flag(tmp_path, capsys):
    code, err = _call(train.main, capsys, "--output", str(tmp_path / "m"), *TINY_TRAIN, "--learning-rate", "1e30")
    assert code == 2
    line = _one_line(err, "train")
    assert "training diverged under standard at epoch 1" in line and "--learning-rate" in line
    assert not list(tmp_path.iterdir())


def test_train_refuses_an_output_folder_that_is_a_file_before_training(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(train, "train", _raise(AssertionError("trained although the output cannot be written")))
    code, err = _call(train.main, capsys, "--output", str(tmp_path / "file" / "m"), *TINY_TRAIN)
    assert code == 2
    assert "is a file, not a folder: pass another --output" in _one_line(err, "train")


@pytest.mark.parametrize("failing", ["save_weights", "write_json"])
def test_train_that_cannot_write_its_checkpoint_exits_1_and_leaves_no_half(tmp_path, capsys, monkeypatch, failing):
    monkeypatch.setattr(train, failing, _raise(FULL_DISK))
    code, err = _call(train.main, capsys, "--output", str(tmp_path / "m"), *TINY_TRAIN)
    assert code == 1
    line = _one_line(err, "train")
    assert "could not write the checkpoint" in line and "No space left on device" in line and "--output" in line
    assert not (tmp_path / "m.npz").exists()  # weights without their .json would load as plain weights


def test_train_interrupted_exits_130_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(train, "train", _raise(KeyboardInterrupt()))
    code, err = _call(train.main, capsys, "--output", str(tmp_path / "m"), *TINY_TRAIN)
    assert code == 130
    assert "interrupted: nothing was saved" in _one_line(err, "train")


# ---------------------------------------------------------------- audit.report


@pytest.fixture
def run_folder(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(build_audit_result().to_dict()), encoding="utf-8")
    return tmp_path


def test_report_option_errors_are_one_line(tmp_path, capsys):
    code, err = _call(report.main, capsys, str(tmp_path), "--no-such-flag")
    assert code == 2
    assert "unrecognized arguments: --no-such-flag (see --help)" in _one_line(err, "report")


def test_report_that_cannot_be_written_exits_1(run_folder, capsys, monkeypatch):
    monkeypatch.setattr(report, "render_report", _raise(FULL_DISK))
    code, err = _call(report.main, capsys, str(run_folder))
    assert code == 1
    line = _one_line(err, "report")
    assert f"could not write the report to {run_folder / 'report.html'} (No space left on device)" in line
    assert "--output" in line


def test_report_output_that_is_a_folder_is_bad_input(run_folder, capsys):
    code, err = _call(report.main, capsys, str(run_folder), "--output", str(run_folder))
    assert code == 2
    assert "is a folder: give the report's file path" in _one_line(err, "report")


# ---------------------------------------------------------------- audit.study


def _stored(docs, content: str):
    (docs / "findings").mkdir(parents=True)
    (docs / "findings" / "digits-results.json.gz").write_bytes(gzip.compress(content.encode("utf-8")))


@pytest.mark.parametrize(
    "content, words",
    [
        ("{not json", "is not valid JSON"),
        ('{"schema_version": 1}', f"results.json has schema version 1; this flood-audit reads version {SCHEMA_VERSION}"),
        (f'{{"schema_version": {SCHEMA_VERSION}}}', "does not match the results schema"),
    ],
)
def test_study_from_damaged_results_is_one_line(tmp_path, capsys, content, words):
    _stored(tmp_path / "docs", content)
    code, err = _call(study.main, capsys, "--from-results", "--docs", str(tmp_path / "docs"))
    assert code == 2
    line = _one_line(err, "study")
    assert words in line and "run python -m audit.study without --from-results" in line


def test_study_that_cannot_write_findings_exits_1(tmp_path, capsys, monkeypatch):
    _stored(tmp_path / "docs", json.dumps(build_audit_result().to_dict()))
    monkeypatch.setattr(study, "findings_page", lambda *args, **kwargs: "page")
    monkeypatch.setattr(study, "write_text", _raise(FULL_DISK))
    code, err = _call(study.main, capsys, "--from-results", "--docs", str(tmp_path / "docs"))
    assert code == 1
    line = _one_line(err, "study")
    assert "could not write" in line and "FINDINGS.md" in line and "No space left on device" in line
    assert "--from-results" in line


def test_study_that_cannot_copy_its_results_exits_1(tmp_path, capsys, monkeypatch):
    def run(study_, output_dir, *, quiet):  # stands in for the audit, which writes results.json
        output_dir.mkdir(parents=True)
        (output_dir / "results.json").write_text("{}")

    monkeypatch.setattr(study, "_run", run)
    monkeypatch.setattr(study, "_copy", _raise(FULL_DISK))
    code, err = _call(study.main, capsys, "--docs", str(tmp_path / "docs"), "--output-dir", str(tmp_path / "out"))
    assert code == 1
    line = _one_line(err, "study")
    assert "could not copy" in line and "run the same command again" in line


def test_study_attack_errors_are_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(study, "_run", _raise(AttackInputError("rmia needs more reference models")))
    code, err = _call(study.main, capsys, "--docs", str(tmp_path / "docs"), "--output-dir", str(tmp_path / "out"))
    assert code == 2
    assert "rmia needs more reference models" in _one_line(err, "study")


@pytest.mark.parametrize(
    ("body", "code", "stdout", "stderr"),
    [
        ("print('done', end=''); return 0", 0, "done", ""),
        ("print('half', end=''); return 3", 3, "half", ""),
        ("return None", 0, "", ""),
        ("raise SystemExit(2)", 2, "", ""),
        ("raise SystemExit('usage: no')", 1, "", "usage: no"),
    ],
    ids=["success", "failure-code", "none", "system-exit", "system-exit-message"],
)
def test_a_command_process_ends_with_its_code_and_all_its_output(tmp_path, body, code, stdout, stderr):
    """``launch`` ends the process without Python's teardown: the exit code and every byte
    written (unflushed, without a newline) must still come out."""
    import os
    import subprocess
    import sys

    # Block-buffered output, as a pipe gets it, unless PYTHONUNBUFFERED says otherwise.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    script = tmp_path / "command.py"
    script.write_text(f"from audit.cli.common import launch\n\ndef main():\n    {body}\n\nlaunch(main)\nprint('unreachable')\n")
    completed = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=environment
    )
    assert (completed.returncode, completed.stdout, completed.stderr.strip()) == (code, stdout, stderr)
