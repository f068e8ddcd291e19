"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, the sandbox in a child
process, and a second origin serving web/ with a generated config.json (as the stack hosts it).

Chromium comes from the system (`apt-get install chromium`, done by .ci/run), never from
`playwright install`. Without it the tests fail under CI (CI set) and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from local.testing import ROOT, SandboxProcess

ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure: .ci/run must install it)", pytrace=False)
    pytest.skip(f"{reason}; the browser tests run when it is there (and must, under CI)")


def chromium_path() -> str | None:
    """CHROMIUM_PATH when set (and only it), else Debian's /usr/bin/chromium or chromium on PATH."""
    override = os.environ.get("CHROMIUM_PATH")
    candidates = [override] if override else ["/usr/bin/chromium", shutil.which("chromium")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -r requirements-dev.txt)")
    executable = chromium_path()
    if executable is None:
        where = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
        _unavailable(f"Chromium not found at {where} (apt-get install chromium, or set CHROMIUM_PATH)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, timeout=60_000)
        yield browser
        browser.close()


class StaticSite:
    """web/ served from its own origin with a generated config.json, behind the kind of
    Content-Security-Policy the stack sets: only the site itself and the API origin."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="web-"))
        shutil.copytree(ROOT / "web", self.root, dirs_exist_ok=True)
        self.api_origin = ""
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                self.send_header("Cache-Control", "no-store")
                self.send_header(
                    "Content-Security-Policy",
                    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                    f"connect-src 'self' {site.api_origin}; base-uri 'none'; frame-ancestors 'none'",
                )
                super().end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(self.root)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def configure(self, api_base_url: str) -> None:
        self.api_origin = api_base_url
        config = json.loads((ROOT / "web" / "config.json").read_text())
        config.update(
            apiBaseUrl=api_base_url, brandName="Acme Outdoor", termsUrl="/terms", privacyUrl="/privacy"
        )
        (self.root / "config.json").write_text(json.dumps(config))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def other_origin() -> Iterator[StaticSite]:
    site = StaticSite()
    yield site
    site.close()


@pytest.fixture(scope="session")
def sandbox(other_origin: StaticSite) -> Iterator[SandboxProcess]:
    # The browser tests sign up many test numbers of one range (555-01xx): the range limit would block
    # them. And Playwright fills a form far faster than a person: the minimum fill time has its own test.
    env = {
        "ALLOWED_ORIGINS": other_origin.url,
        "RANGE_REGISTRATIONS_PER_HOUR": "0",
        "FORM_MIN_FILL_SECONDS": "0",
    }
    with SandboxProcess(env=env) as process:
        other_origin.configure(process.url)
        try:
            yield process
        finally:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            process.stop()
            (ARTIFACTS / "sandbox.log").write_text(process.output())


class Page:
    """A Playwright page that remembers console errors, page errors and failed requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        # Chromium logs every 4xx answer as "Failed to load resource"; the tests provoke some on purpose.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.problems.append(f"console: {message.text}")


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(10_000)
    watched = Page(context.new_page())
    yield watched.page
    try:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            watched.page.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"), full_page=True)
    finally:
        context.close()
    assert not watched.problems, watched.problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
