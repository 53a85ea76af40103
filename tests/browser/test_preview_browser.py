"""The preview in a real browser: an open page reloads itself, and shows build problems."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import EXEMPLAR, write_files
from tests.serving import EXEMPLAR_FILE, EXEMPLAR_PAGE, WAIT, Preview, start, stop

TIMEOUT_MS = WAIT * 1000


@pytest.fixture
def preview(make_site) -> Iterator[Preview]:
    running = start(make_site())
    yield running
    stop(running)


def test_an_open_page_reloads_itself_after_an_edit(browser, preview):
    page = browser.new_page()
    page.goto(f"http://127.0.0.1:{preview.port}{EXEMPLAR_PAGE}")
    page.evaluate("window.beforeTheEdit = true")  # gone once the page really reloads
    write_files(preview.site, {EXEMPLAR_FILE: EXEMPLAR + "\nReloaded by itself.\n"})
    page.wait_for_function("document.querySelector('.work').innerText.includes("
                           "'Reloaded by itself.')", timeout=TIMEOUT_MS)
    assert page.evaluate("window.beforeTheEdit") is None
    page.close()


def test_problems_show_over_the_page_as_text_and_go_away_when_fixed(browser, preview, artifacts):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    page.goto(f"http://127.0.0.1:{preview.port}{EXEMPLAR_PAGE}")
    hostile = "<img src=x onerror=window.injected=1>"
    write_files(preview.site, {EXEMPLAR_FILE: EXEMPLAR.replace("level: competent",
                                                               f"level: {hostile}")})
    overlay = page.wait_for_selector("#cophandbook-overlay", timeout=TIMEOUT_MS)
    text = overlay.inner_text()
    assert "wedding-toast.md:3:1" in text and f"unknown level '{hostile}'" in text
    assert "[unknown-level]" in text and "hint: valid: competent, expert, novice" in text
    assert page.locator("#cophandbook-overlay img").count() == 0
    assert page.evaluate("window.injected") is None
    assert page.locator("h1").inner_text() == "Wedding toast"  # the last good build
    page.screenshot(path=str(artifacts / "preview-overlay.png"))
    write_files(preview.site, {EXEMPLAR_FILE: EXEMPLAR + "\nFixed now.\n"})
    page.wait_for_selector("#cophandbook-overlay", state="detached", timeout=TIMEOUT_MS)
    page.wait_for_function("document.querySelector('.work').innerText.includes('Fixed now.')",
                           timeout=TIMEOUT_MS)
    page.close()
