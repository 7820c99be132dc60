"""A live server with the demo data, and Playwright driving Debian's Chromium (never a download)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from marketplace.app import create_app
from marketplace.db import Database
from marketplace.demo import load_demo
from marketplace.migrate import upgrade
from tests.support import ROOT, settings_for

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE = ROOT / "static" / "vendor" / "axe.min.js"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{tmp / 'live.db'}"
    upgrade(url)
    settings = settings_for(url, tmp / "var")
    database = Database(settings)
    load_demo(database)
    database.dispose()
    # The test binds and listens before the server starts: requests wait in the socket's queue
    # until the app has started, so nothing polls or sleeps, and no other process can take the
    # port in between.
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(128)
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listening.close()


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_FLAGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context; console errors (CSP violations included) fail the test."""
    context = browser.new_context(base_url=live_server)
    new_page = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        # A 4xx page (a refused sign-in, a 403) is logged as a failed load; sub-resources are
        # checked by status below instead, so only that generic line is ignored here.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} for {response.url}")

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda exc: problems.append(str(exc)))
    new_page.on("response", on_response)
    yield new_page
    context.close()
    assert problems == [], f"browser console errors: {problems}"


def check_accessibility(page: Any) -> None:
    """Run axe-core on the current page; fail on any serious or critical violation."""
    assert AXE.exists(), f"{AXE} missing: run `make setup` (npm ci copies axe-core)"
    # Injected through Playwright, not a <script> tag, so the page's CSP stays strict.
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations'],"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'section508']}})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], "accessibility violations:\n" + "\n".join(serious)


def sign_in(page: Any, email: str, password: str = "demo-marketplace-2026") -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
