"""Browser journeys: Playwright driving Debian's Chromium against pytest-django's live server.

Playwright's own browser download is not used (it needs a network the clinic machines and
CI do not have); the journeys launch the Chromium that `apt-get install chromium` provides.
Every journey runs on a transactional database, because the live server answers from
another thread and must see the rows the test writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = Path(os.environ.get("PINGAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser carries the `browser` marker (`-m "not browser"`)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for all the journeys, closed when they are done. Package scope, not
    session: Playwright's sync API keeps an asyncio event loop in this thread while it runs,
    and Django refuses ORM calls from such a thread unless DJANGO_ALLOW_ASYNC_UNSAFE is set;
    the variable is set only while the journeys run, so no other test loses that check."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium) "
            "or run ./scripts/test.sh, which installs it",
            pytrace=False,
        )
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            chromium = driver.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """`new_context(locale="en-GB")`: a separate browser profile (own cookies, own session),
    as a second workstation in the clinic would be. All are closed after the test."""
    made: list[BrowserContext] = []

    def make(locale: str = "zh-CN", **options) -> BrowserContext:
        context = browser.new_context(
            locale=locale, viewport={"width": 1280, "height": 860}, **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A page in a fresh browser profile whose preferred language is Chinese, the default."""
    return new_context().new_page()


@pytest.fixture
def sign_in(live_server, password: str) -> Callable[..., Page]:
    """`sign_in(page, user)` signs in through the real login form and returns the page on
    the user's start screen."""

    def sign_in_as(page: Page, user) -> Page:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("#login-submit")
        assert "/accounts/login/" not in page.url, f"sign-in as {user} failed: {page.url}"
        return page

    return sign_in_as
