"""Fixtures for tests/ui: one `blocks ui` server and one headless Chromium per session.

The server reads the settings on every request, so each test's own block_home is the one
served. The browser is Debian's chromium driven by Playwright, never a downloaded build.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import service_missing

CHROMIUM = os.environ.get("CORE_BLOCKS_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def sync_code_beside_the_browser():
    """Playwright's sync API keeps an event loop running in the test's thread (as Jupyter
    does), where Block.load and save would return awaitables: these tests are sync code."""
    from core_blocks.dispatch import running_sync

    with running_sync():
        yield


@dataclass
class Reply:
    status: int
    headers: Any
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Client:
    """Plain HTTP to the server, as the page would send it: the access token (here as a
    Bearer header, the browser's cookie otherwise), the CSRF header and Origin."""

    def __init__(self, server):
        self.server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        self.transcript: list[str] = []  # every response body, to search for secrets

    def request(self, method: str, path: str, body: Any = None, *, csrf: bool = True,
                token: bool = True, headers: dict[str, str] | None = None,
                raw: str | None = None) -> Reply:
        """One request; raw is a JSON body sent as written (NaN, 1e999...), body is dumped."""
        sent = {"Origin": self.base} if method != "GET" else {}
        if token:
            sent["Authorization"] = f"Bearer {self.server.guard.access_token}"
        if csrf:
            sent["X-CSRF-Token"] = self.server.guard.csrf_token
        data = None
        if body is not None or raw is not None:
            data = (json.dumps(body) if raw is None else raw).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=sent)
        try:
            with _opener.open(req, timeout=30) as resp:
                reply = Reply(resp.status, resp.headers, resp.read().decode())
        except urllib.error.HTTPError as exc:
            reply = Reply(exc.code, exc.headers, exc.read().decode())
        self.transcript.append(reply.text)
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@pytest.fixture(scope="session")
def ui_server():
    """A `blocks ui` server on 127.0.0.1, a free port, serving until the session ends."""
    from core_blocks.ui.server import UIServer

    server = UIServer("127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(ui_server, block_home):
    return Client(ui_server)


@pytest.fixture(scope="package")
def browser():
    """Headless Debian chromium through Playwright; missing: skip, or fail under CI=true.
    Package-scoped: Playwright's sync API marks its event loop as running on this thread, which
    would make later tests' async flows think they already run inside a loop."""
    if not shutil.which(CHROMIUM):
        service_missing("Chromium", f"no browser at {CHROMIUM}: apt-get install chromium "
                        "(scripts/services.sh up installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("Playwright", "pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, ui_server, block_home):
    """A fresh browser page (its own cookies) at 1280×800, let in by opening the URL with the
    access token as a user does; dialogs are accepted."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.base = f"http://127.0.0.1:{ui_server.server_address[1]}/"
    page.goto(ui_server.url)
    assert page.url == page.base  # the token left the address bar for a cookie
    yield page
    context.close()
