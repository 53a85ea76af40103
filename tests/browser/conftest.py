"""Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by Playwright.

In CI (CI=true) `.ci/run` installs Chromium first, so a missing browser fails the run; on a
machine without it the browser tests are skipped, and say why.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path(os.environ.get("COPHANDBOOK_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 375, "height": 812}
LAPTOP = {"width": 1280, "height": 900}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        message = f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; .ci/run should have installed it")
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Opens a URL in a browser context of its own (its own storage), closed after the
    test; the page's script errors are kept in `page.js_errors`."""
    contexts = []

    def open_(url: str, viewport: dict[str, int] = LAPTOP, **options: object) -> Page:
        context = browser.new_context(viewport=viewport, **options)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors  # type: ignore[attr-defined]
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests save screenshots for people to look at (not checked in)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, installed from npm by scripts/test.sh (tests/browser/package.json)."""
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE} (npm ci --prefix tests/browser)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; scripts/test.sh should have installed it")
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_folder(root: Path) -> Iterator[str]:
    """Serve a folder over HTTP on a free loopback port, as a static host would; yields the
    origin ("http://127.0.0.1:PORT")."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def example_origin(example_out: Path) -> Iterator[str]:
    """The example site (search on), built once and served at the root of an origin."""
    with serve_folder(example_out) as origin:
        yield origin
