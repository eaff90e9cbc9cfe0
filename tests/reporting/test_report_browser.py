"""`biosnn report` opened in a real headless browser (Debian's chromium, driven by playwright): every image
decodes, nothing is logged as an error, tables sort numerically, number links reach their command.

Run with ``make test-browser`` (installs chromium and playwright when missing). A screenshot of the page is
saved in pytest's tmp directory, and to ``$BIOSNN_SCREENSHOT`` when that is set.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from report_inputs import write_discretization, write_figures, write_studies

from biosnn.cli import main

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (make browser)")
    if not CHROMIUM.is_file():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (make browser)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory, browser) -> Path:
    """A page from a real `biosnn validate --models li` run, small study files and figures (one of them the
    validation's overlay PNG)."""
    root = tmp_path_factory.mktemp("report")
    assert main(["validate", "--models", "li", "--quiet", "--out", str(root / "validation")]) == 0
    (root / "stored").mkdir()
    write_discretization(root / "stored")
    write_studies(root / "stored")
    write_figures(root / "figures")
    shutil.copy(root / "validation" / "overlay_li.png", root / "figures")
    out = root / "report.html"
    assert (
        main(
            [
                "report",
                "--results",
                str(root / "validation"),
                str(root / "stored"),
                "--figures",
                str(root / "figures"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def _column(page, table, header: str) -> list[float]:
    return table.evaluate(
        "(t, h) => { const i = [...t.tHead.rows[0].cells].findIndex(c => c.textContent === h);"
        " return [...t.tBodies[0].rows].map(r => parseFloat(r.cells[i].dataset.sort)); }",
        header,
    )


def test_the_report_renders_in_chromium(browser, report, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, requests = [], []
    page.on("console", lambda message: errors.append(f"console: {message.text}") if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri(), wait_until="load")

    images = page.eval_on_selector_all("img", "all => all.map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    assert sorted(alt for alt, _ in images) == ["lee_convergence", "my_extra_plot", "overlay_li"]
    assert all(decoded for _, decoded in images), images
    assert page.locator("#validation").inner_text().count("PASS") >= 2  # overall and li

    scaling = page.locator("table", has=page.locator("th", has_text="torch_inference"))
    assert _column(page, scaling, "torch_inference") == pytest.approx([0.001, 0.2, 0.03])
    header = scaling.locator("thead th", has_text=re.compile(r"^torch_inference$"))
    header.click()
    assert _column(page, scaling, "torch_inference") == pytest.approx([0.001, 0.03, 0.2])  # as numbers, not text
    header.click()
    assert _column(page, scaling, "torch_inference") == pytest.approx([0.2, 0.03, 0.001])

    link = page.locator("td.num a").first
    target = link.get_attribute("href")
    link.click()
    assert page.evaluate("location.hash") == target and page.locator(target).count() == 1

    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    if os.environ.get("BIOSNN_SCREENSHOT"):
        page.screenshot(path=os.environ["BIOSNN_SCREENSHOT"], full_page=True)
    page.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
