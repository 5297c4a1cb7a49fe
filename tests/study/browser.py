"""Headless Chromium for the browser tests (Debian's ``chromium``, driven by Playwright for Python).

``playwright install`` cannot download browsers here, so Playwright is pointed at /usr/bin/chromium; ``make test``
installs it (apt-get) when it is missing and the user is root. The tests skip, saying why, when it is absent.
Every page is fenced to loopback: a request to any other host is aborted and fails the test.

Import the fixtures into a conftest: ``from tests.study.browser import browser, page  # noqa: F401``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path(os.environ.get("EGOSONICS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """One Chromium per test folder (starting it costs about a second).

    Package scope, not session: each folder's conftest imports this fixture, and Playwright's sync API allows one
    instance at a time, so the first folder's must be closed before the next folder starts its own.
    """
    if not CHROMIUM.is_file():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install -y chromium; "
                    "'make test' installs it when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright "
                                                                 "(pip install 'egosonics[app]')")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context (no cookies) and page; requests leaving loopback are aborted and fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})  # type: ignore[attr-defined]
    outside: list[str] = []

    def fence(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname
        if scheme in ("http", "https", "ws", "wss") and host not in LOOPBACK:
            outside.append(url)
            route.abort()  # type: ignore[attr-defined]
        else:
            route.continue_()  # type: ignore[attr-defined]

    context.route("**/*", fence)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert not outside, f"the page tried to reach the network: {outside}"
