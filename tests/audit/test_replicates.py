"""--replicates K: K whole audits with independent keep matrices and seeds on the same
candidates; replicate 0 is the plain audit, and every replicate's headline figures are kept."""

from __future__ import annotations

import json

import pytest

from audit.pipeline.pools import replicate_seed
from audit.run import main as run_main

TINY = [
    "--pool-size", "120", "--canaries", "0", "--models-per-regime", "6", "--epochs", "3", "--snapshots", "0",
    "--regimes", "standard", "flood:0.5", "--attacks", "loss", "lira-offline", "--main-attack", "lira-offline", "--quiet",
]


def test_replicate_seeds_are_the_seed_then_independent_ones():
    assert replicate_seed(7, 0) == 7
    seeds = {replicate_seed(7, r) for r in range(1, 50)}
    assert len(seeds) == 49 and 7 not in seeds and all(0 <= s < 2**31 for s in seeds)


@pytest.mark.slow
def test_replicates_repeat_the_audit_and_replicate_0_is_the_plain_audit(tmp_path, capsys):
    assert run_main([*TINY, "--replicates", "3", "--output-dir", str(tmp_path / "three")]) == 0
    assert run_main([*TINY, "--output-dir", str(tmp_path / "one")]) == 0
    three = json.loads((tmp_path / "three" / "results.json").read_text())
    one = json.loads((tmp_path / "one" / "results.json").read_text())
    for regime, plain in zip(three["regimes"], one["regimes"]):
        replicates = regime["replicates"]
        assert [r["replicate"] for r in replicates] == [0, 1, 2]
        assert replicates[0]["seed"] == 0 and len({r["seed"] for r in replicates}) == 3
        # Replicate 0 is exactly the audit without replicates (same models, from the cache too).
        assert replicates[0]["auc"] == plain["attacks"]["lira-offline"]["auc"] == regime["attacks"]["lira-offline"]["auc"]
        assert len({r["auc"] for r in replicates}) == 3  # other keep matrices, other figures
        assert all(r["epsilon_lower_bound"] is not None for r in replicates)


def test_replicates_below_one_are_refused(tmp_path, capsys):
    assert run_main(["--replicates", "0", "--output-dir", str(tmp_path)]) == 2
    assert "replicates must be >= 1" in capsys.readouterr().err
