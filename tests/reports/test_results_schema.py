"""docs/results-schema.md documents every key a real run writes, and scores.npz has the
layout it describes: the doc and the files cannot drift apart."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from results.records import SCHEMA_VERSION, AuditResult
from results.vocabulary import FPR_TARGETS

DOC = Path(__file__).resolve().parents[2] / "docs" / "results-schema.md"


def documented_paths() -> set[str]:
    """Field paths of the doc's results.json part: each "### `PATH`" heading opens an object
    (``.`` is the top level) and each table row "| `FIELD` |" below it names one of its
    fields, documented as ``PATH.FIELD``."""
    text = DOC.read_text(encoding="utf-8")
    part = text[text.index("## results.json") : text.index("## scores.npz")]
    paths, current = set(), None
    for line in part.splitlines():
        heading = re.match(r"#{3,4} `([^`]+)`", line)
        if heading:
            current = "" if heading.group(1) == "." else heading.group(1)
            if current:
                paths.add(current)  # an object documented by its own table, e.g. "regimes[].attacks.*"
            continue
        row = re.match(r"\| `([^`]+)` \|", line)
        if row and current is not None:
            paths.add(f"{current}.{row.group(1)}" if current else row.group(1))
    return paths


def json_paths(value, path: str, documented: set[str]) -> set[str]:
    """Every key path of ``value``; a map documented as ``PATH.*`` has data for keys, so its
    values are walked under ``PATH.*``; list elements under ``PATH[]``."""
    found = set()
    if isinstance(value, dict):
        is_map = f"{path}.*" in documented
        for key, item in value.items():
            child = f"{path}.*" if is_map else (f"{path}.{key}" if path else key)
            found.add(child)
            found |= json_paths(item, child, documented)
    elif isinstance(value, list):
        for item in value:
            found |= json_paths(item, f"{path}[]", documented)
    return found


def test_doc_parser_reads_the_field_tables():
    paths = documented_paths()
    assert {"schema_version", "regimes[].attacks.*.tpr_at_fpr[].tpr", "environment.packages.*"} <= paths
    assert "keep" not in paths  # the scores.npz part is not a results.json field


@pytest.mark.slow
def test_every_key_of_a_real_results_json_is_documented(tiny_run):
    data = json.loads((tiny_run / "results.json").read_text(encoding="utf-8"))
    documented = documented_paths()
    found = json_paths(data, "", documented)
    assert found - documented == set(), "document these results.json fields in docs/results-schema.md"
    # The run exercises every part of the schema, so the check above is not vacuous.
    for path in ("regimes[].params.flood_level", "regimes[].params.epsilon", "regimes[].attacks.*.roc.x"):
        assert path in found
    assert data["schema_version"] == SCHEMA_VERSION
    assert f"currently **{SCHEMA_VERSION}**" in DOC.read_text(encoding="utf-8")


@pytest.mark.slow
def test_results_json_round_trips_through_the_result_types(tiny_run):
    data = json.loads((tiny_run / "results.json").read_text(encoding="utf-8"))
    assert AuditResult.from_dict(data).to_dict() == data


@pytest.mark.slow
def test_documented_directions_and_units_hold(tiny_run):
    data = json.loads((tiny_run / "results.json").read_text(encoding="utf-8"))
    for regime in data["regimes"]:
        for attack in regime["attacks"].values():
            assert [t["fpr"] for t in attack["tpr_at_fpr"]] == list(FPR_TARGETS)
            for record in attack["tpr_at_fpr"]:
                assert record["resolvable"] == (attack["n_non_members"] * record["fpr"] >= 1)
                assert 0 <= record["tpr"] <= 1
            assert attack["ci_level"] == 0.95 and attack["n_targets"] == len(regime["models"])
            assert attack["min_non_members_per_target"] * attack["n_targets"] <= attack["n_non_members"]
            x, y = attack["roc"]["x"], attack["roc"]["y"]
            assert x[0] == 0 and x[-1] == 1 and all(a <= b for a, b in itertools.pairwise(y))
        for histogram in regime["histograms"]:
            assert (
                len(histogram["edges"]) == len(histogram["members"]) + 1 == len(histogram["non_members"]) + 1
            )
        loss = next(h for h in regime["histograms"] if h["quantity"] == "loss")
        assert loss["edges"][0] == 0 and loss["edges"][1] > 0


@pytest.mark.slow
def test_scores_npz_has_the_documented_layout(tiny_run):
    data = json.loads((tiny_run / "results.json").read_text(encoding="utf-8"))
    with np.load(tiny_run / "scores.npz", allow_pickle=False) as scores:
        models, n = len(data["regimes"][0]["models"]), data["dataset"]["pool_size"]
        assert scores["keep"].dtype == np.bool_ and scores["keep"].shape == (models, n)
        assert (scores["keep"].sum(axis=0) == models // 2).all()
        assert scores["labels"].shape == scores["pool_indices"].shape == (n,)
        expected = {f"{r['label']}/{name}" for r in data["regimes"] for name in r["attacks"]}
        assert set(scores.files) == expected | {"keep", "labels", "pool_indices", "canaries"}
        for key in expected:
            assert scores[key].dtype == np.float64 and scores[key].shape == (models, n)
        # Higher = member: the loss attack's pooled AUC, recomputed from the scores, matches.
        from attacks import evaluate_pooled

        regime = data["regimes"][0]
        population, canaries = ~scores["canaries"], scores["canaries"]
        assert canaries.sum() == data["config"]["canaries"]
        for columns, attacks in ((population, regime["attacks"]), (canaries, regime["canary_attacks"])):
            pooled = evaluate_pooled(scores[f"{regime['label']}/loss"][:, columns], scores["keep"][:, columns], bootstrap=0)
            assert abs(pooled.auc - attacks["loss"]["auc"]) < 1e-12
    doc = DOC.read_text(encoding="utf-8")
    for key in ("`REGIME_LABEL/ATTACK`", "`keep`", "`labels`", "`pool_indices`", "`canaries`"):
        assert f"| {key} |" in doc
