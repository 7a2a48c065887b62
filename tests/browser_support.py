"""What the browser tests share: Debian's chromium through Playwright (never a downloaded browser;
skipped with the reason without it, failed under ``CI=true``), an app served by uvicorn on a loopback
port, logging in through the login page, and the README's screenshots.

The fixtures ``server`` (the app over the test file's own ``office`` fixture) and ``browser`` are
defined in tests/conftest.py from these."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support import ROOT
from tests.web_support import PASSWORD

__all__ = ["CHROMIUM", "SHOTS", "browser_or_skip", "chromium", "log_in", "serve", "shot"]

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("DECISIONS_SCREENSHOTS") == "1" else None


def browser_or_skip() -> Any:
    """Playwright's ``sync_playwright``, or the test skipped (failed under CI) saying what is missing."""
    reason = ""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[dev]')"
    if not reason and not CHROMIUM.exists():
        reason = "Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests are required under CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


@contextmanager
def chromium() -> Iterator[Any]:
    sync_playwright = browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, for as long as the block runs: its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def log_in(browser: Any, base: str, name: str, password: str = PASSWORD) -> Any:
    """A new page (zh-CN, desktop size) logged in as ``name`` through the login form."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("#login")
    return page


def shot(page: Any, name: str) -> None:
    """With ``DECISIONS_SCREENSHOTS=1``, the whole page into docs/screenshots/NAME.png."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
