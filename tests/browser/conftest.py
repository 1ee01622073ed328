"""The browser suite: headless Chromium opens a small front end (page/index.html) served
from its own origin, and that page calls a local stack on another port with `fetch`, as a
web app on another site would. What the page can read is what CORS lets it read.

Chromium is the system's, not one Playwright downloads: /usr/bin/chromium (Debian:
`sudo apt-get install chromium`), or the binary named by $CHROMIUM. Without it the suite
fails at once, saying so; it is never skipped.

Fixtures: `api_url` (the local stack), `page_url` (the test page, another origin),
`browser` (one Chromium for the session) and `front_end` (the page in a fresh context;
a screenshot of it lands in the test's tmp_path when the test ends).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.browser.front_end import FrontEnd
from tests.local_stack import LocalStackProcess

BROWSER_DIR = Path(__file__).resolve().parent
PAGE_DIR = BROWSER_DIR / "page"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Headless, no sandbox (CI runs as root), and nothing that phones home or updates itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000  # a call that registers hashes a password at the template's bcrypt cost


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: headless Chromium calling a local stack from another origin"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Black-box HTTP against a running stack, like tests/e2e: e2e keeps the unit suites'
    # in-process set-up (tests/conftest.py) away from these tests.
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium was not found at {CHROMIUM}: the browser tests (tests/browser) run the "
            "system's Chromium. Install it (Debian/Ubuntu: sudo apt-get install chromium), "
            "or point CHROMIUM at another Chromium binary, then run the tests again.",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStackProcess]:
    """A local stack for this session (in memory, on free ports)."""
    with tempfile.TemporaryDirectory(prefix="lockbox-browser-") as work_dir:
        stack = LocalStackProcess(Path(work_dir))
        stack.wait_until_serving()
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def api_url(local_stack: LocalStackProcess) -> str:
    return local_stack.url


@pytest.fixture(scope="session")
def mailbox_url(local_stack: LocalStackProcess) -> str:
    """The local SES stand-in's mailbox page, as a person opens it."""
    return local_stack.mailbox_url


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def page_origin() -> Iterator[str]:
    """page/ served over HTTP on its own free port of 127.0.0.1: an origin of its own."""
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-page", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="session")
def page_url(page_origin: str, api_url: str) -> str:
    assert page_origin != api_url, "the page must come from another origin than the API"
    return f"{page_origin}/index.html?api={quote(api_url, safe='')}"


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Browser]:
    """One headless Chromium for the session (each test gets a fresh context: no shared
    cache, storage or connections)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def front_end(browser: Browser, page_url: str, api_url: str, tmp_path: Path) -> Iterator[FrontEnd]:
    """The test page, loaded and ready, in a fresh browser context."""
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    front = FrontEnd(page, api_url)
    try:
        response = page.goto(page_url)
        assert response is not None, f"the test page did not load: {page_url}"
        assert response.ok, f"the test page did not load: {page_url}: {response.status}"
        page.wait_for_function("() => window.lockbox !== undefined")
        yield front
    finally:
        with contextlib.suppress(PlaywrightError):  # a crashed page has nothing to show
            page.screenshot(path=tmp_path / "page.png", full_page=True)
        context.close()
