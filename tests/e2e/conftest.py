"""A headless Chromium page (Playwright driving Debian's Chromium) for the browser tests."""

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser_page(monkeypatch):
    playwright = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop in this thread; the test's own database calls are still
    # plain synchronous ones, as Django's docs allow for such tools.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser.new_page()
        browser.close()


@pytest.fixture
def enroll_page(live_server, school_ready, settings, browser_page):
    """The enrollment form in the browser, its card through the local Stripe server's Stripe.js."""
    settings.STRIPE_JS_URL = f"{school_ready['stripe'].url}/js.stripe.com/v3/"
    browser_page.goto(f"{live_server.url}/enroll/")
    return browser_page
