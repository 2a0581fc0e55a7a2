"""Compiled templates are kept between renders, and a cache that cannot be written costs
nothing but the compile."""

from __future__ import annotations

import jinja2
import pytest

from reports import render
from reports.render import _TemplateCache


@pytest.fixture
def small_result(build_result):
    return build_result()


def test_a_second_render_reuses_the_compiled_template(tmp_path, monkeypatch, small_result):
    cache = _TemplateCache(str(tmp_path / "compiled"))
    (tmp_path / "compiled").mkdir()
    monkeypatch.setattr(render, "_compiled_templates", lambda: cache)
    first = render.render_report(small_result, tmp_path / "first.html").read_text(encoding="utf-8")
    assert list((tmp_path / "compiled").glob("__jinja2_*.cache"))

    def no_compiling(*args, **kwargs):
        raise AssertionError("the template was compiled again")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    second = render.render_report(small_result, tmp_path / "second.html").read_text(encoding="utf-8")
    assert second == first


def test_a_failed_write_is_ignored(tmp_path, monkeypatch, small_result):
    """A full disk or a folder gone since: the report is written all the same."""
    cache = _TemplateCache(str(tmp_path / "missing" / "folder"))  # writing there fails
    monkeypatch.setattr(render, "_compiled_templates", lambda: cache)
    assert render.render_report(small_result, tmp_path / "report.html").exists()
