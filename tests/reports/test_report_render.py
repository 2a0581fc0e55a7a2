"""The rendered HTML: complete, self-contained, offline-only and escaped."""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
from html.parser import HTMLParser

from reports import render_report
from results.records import AuditResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Tags(HTMLParser):
    """Collects every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_report_names_every_regime_and_section(rendered_report, audit_result):
    _, html = rendered_report
    assert html.startswith("<!DOCTYPE html>")
    for regime in audit_result.regimes:
        assert regime.label in html
    for section in (
        "verdict",
        "summary",
        "frontier",
        "roc",
        "distributions",
        "dynamics",
        "relation",
        "per-class",
        "examples",
        "dp",
        "provenance",
    ):
        assert f'<section id="{section}"' in html
    # One per section, and one for the every-attack table (the fixture has two attacks).
    assert html.count("How to read this.") == 12
    for table in ("summary-table", "attacks-table", "dp-table"):
        assert f'<table id="{table}">' in html


def test_every_image_is_an_embedded_png(rendered_report):
    _, html = rendered_report
    images = [attrs for tag, attrs in _tags(html) if tag == "img"]
    # 2 frontier + 1 ROC overlay + 5 per-regime ROC + 5 histograms + 2 dynamics + 2 relation
    # + 1 per-class + 5 regimes x 6 example thumbnails
    assert len(images) == 18 + 30
    for attrs in images:
        prefix = "data:image/png;base64,"
        assert attrs["src"].startswith(prefix)
        assert base64.b64decode(attrs["src"][len(prefix) :], validate=True).startswith(PNG_SIGNATURE)
        assert attrs.get("alt")


def test_csp_forbids_network_and_no_url_points_outside(rendered_report):
    _, html = rendered_report
    tags = _tags(html)
    csp = [
        a["content"]
        for t, a in tags
        if t == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"
    ]
    assert csp and "default-src 'none'" in csp[0] and "img-src data:" in csp[0]
    # The CSP must come before anything that could load: it is the first tag after charset.
    assert [t for t, _ in tags[:4]] == ["html", "head", "meta", "meta"]
    for _, attrs in tags:
        for name in ("src", "href", "action", "srcset", "poster"):
            value = attrs.get(name) or ""
            assert not value.lower().startswith(("http:", "https:", "//")), value
    assert "<script" not in html.lower()


def test_user_text_is_escaped(tmp_path, build_result):
    attack_text = "<script>alert(1)</script>"
    result = build_result(run_name=attack_text, data_path=attack_text)
    result = dataclasses.replace(result, regimes=result.regimes[:2])  # the figures are not under test
    html = render_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert attack_text not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3
    )  # title, heading, config run_name and data.path


def test_render_replaces_atomically_and_leaves_no_temporary(tmp_path, audit_result):
    target = tmp_path / "report.html"
    target.write_text("old report")
    small = dataclasses.replace(audit_result, regimes=audit_result.regimes[:1])
    assert render_report(small, target) == target
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_empty_sections_show_notes_not_figures(tmp_path, audit_result):
    bare = dataclasses.replace(
        audit_result,
        regimes=[
            dataclasses.replace(r, histograms=[], snapshots=[], per_class=[], vulnerable_examples=[])
            for r in audit_result.regimes[:2]
        ],
    )
    html = render_report(bare, tmp_path / "report.html").read_text(encoding="utf-8")
    for note in (
        "No distributions were recorded.",
        "No snapshots were recorded",
        "No per-class figures were recorded.",
        "No vulnerable examples were recorded.",
    ):
        assert note in html


def test_renders_after_json_round_trip_with_missing_values(tmp_path, audit_result):
    """NaN figures come back from results.json as None; the report prints a dash for them."""
    data = dataclasses.replace(audit_result, regimes=audit_result.regimes[:2]).to_dict()
    attack = data["regimes"][1]["attacks"]["lira-online"]
    attack["auc"] = math.nan
    data["regimes"][1]["privacy_audit"]["epsilon_lower_bound"] = math.nan
    attack["tpr_at_fpr"][0]["ci"] = None
    data["regimes"][0]["models"][0]["history"] = []
    result = AuditResult.from_dict(json.loads(json.dumps(AuditResult.from_dict(data).to_dict())))
    html = render_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    assert "\u2013" in text
    assert not re.search(r"\bnan\b", text, flags=re.IGNORECASE)


def test_tabular_examples_render_as_a_feature_table(tmp_path, audit_result):
    regime = audit_result.regimes[0]
    examples = [
        dataclasses.replace(e, image=None, features=[0.5, 1.25, -3.0]) for e in regime.vulnerable_examples
    ]
    result = dataclasses.replace(
        audit_result, regimes=[dataclasses.replace(regime, vulnerable_examples=examples, histograms=[])]
    )
    html = render_report(result, tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<th scope="col">x2</th>' in html and "<td>1.25</td>" in html
