"""Fixtures for the report tests: the synthetic audit of :mod:`tests.reports.synthetic`, its
rendered report, and a real tiny audit run."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from results.records import AuditResult
from tests.reports.synthetic import build_audit_result


@pytest.fixture(scope="session")
def audit_result() -> AuditResult:
    """The synthetic audit with ordinary, harmless user text."""
    return build_audit_result()


@pytest.fixture(scope="session")
def build_result():
    """Factory: the synthetic audit with chosen user text (run name, data path)."""
    return build_audit_result


@pytest.fixture(scope="session")
def rendered_report(tmp_path_factory, audit_result) -> tuple[Path, str]:
    """The synthetic audit rendered once: (path of report.html, its text)."""
    from reports import render_report

    path = render_report(audit_result, tmp_path_factory.mktemp("report") / "report.html")
    return path, path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A real (tiny) audit run folder: results.json, scores.npz and report.html as
    ``python -m audit.run`` writes them. Two regimes cover every ``params`` key (DP-SGD with
    iFlood has flood_level, epsilon, delta and max_grad_norm); two attacks give the
    every-attack table. Seconds, not minutes: 4 models of 2 epochs on 40 candidates."""
    from audit.config import AuditConfig
    from audit.pipeline import run_audit

    folder = tmp_path_factory.mktemp("tiny-run")
    config = AuditConfig(
        run_name="tiny",
        pool_size=40,
        models_per_regime=4,
        epochs=2,
        snapshots=1,
        regimes=("standard", "dp:8+iflood:0.2"),
        canaries=4,
        attacks=("loss", "confidence"),
        main_attack="loss",
        delta=1e-3,
        device="cpu",
        output_dir=str(folder),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Opacus's accountant warns about its own numerics
        run_audit(config)
    return folder
