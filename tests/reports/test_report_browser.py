"""The report in a real headless Chromium, for the synthetic fixture and for the report a tiny
real audit wrote: it loads with no error, no request leaves the file, every picture decodes,
the verdict and tables are visible, and a phone-width page does not scroll sideways.
Screenshots at 1280 and 400 px land in the test's tmp_path for inspection.

Driven through Playwright against the system Chromium (Debian's ``chromium`` package): no
browser is downloaded, so the test runs wherever that package is installed.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Keep the browser quiet and self-contained: no sandbox (containers run as root), no GPU,
# and none of Chromium's own background traffic, so any request seen comes from the page.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (1280, 400)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (apt-get install chromium)")
@pytest.mark.parametrize("source", ["synthetic", "real"])
def test_report_in_headless_chromium(source, request, tmp_path):
    """``synthetic``: the five-regime fixture; ``real``: the report a tiny real audit wrote."""
    from playwright.sync_api import sync_playwright

    if source == "synthetic":
        path, regimes = request.getfixturevalue("rendered_report")[0], 5
    else:
        path, regimes = request.getfixturevalue("tiny_run") / "report.html", 2
    url = path.as_uri()
    requests: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
        )
        try:
            context.on("request", lambda request: requests.append(request.url))
            # A fresh page per width, as a reader on that screen would open it.
            for width in WIDTHS:
                page = context.new_page()
                page.on("console", lambda message: message.type == "error" and problems.append(message.text))
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(url, wait_until="load")

                images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
                svgs = page.eval_on_selector_all("svg", "els => els.map(e => e.childElementCount)")
                assert images and all(complete and natural > 0 for complete, natural in images)
                assert all(children > 0 for children in svgs)
                assert page.locator("#verdict .sentence").first.is_visible()
                assert page.locator("#summary-table").is_visible()
                assert page.locator("#summary-table tbody tr").count() == regimes
                assert page.locator("#attacks-table").is_visible() and page.locator("#dp-table").is_visible()
                # Wide tables scroll inside their wrapper; the page itself must not.
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(tmp_path / f"report-{width}px.png"), full_page=True)
                page.close()
        finally:
            context.close()

    assert problems == []
    assert url in requests  # the recorder works
    assert [r for r in requests if r != url and not r.startswith("data:")] == []
    assert (tmp_path / "report-400px.png").stat().st_size > 0
