"""A parent enrolls two children in a real browser (Playwright driving Debian's Chromium, headless)."""

import re
import shutil

import pytest
from django.core import mail

from enrollment.models import Enrollment

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]


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


def test_a_parent_enrolls_two_children_with_a_card_and_sets_a_password(
    live_server,
    school_ready,
    settings,
    browser_page,
):
    settings.STRIPE_JS_URL = f"{school_ready['stripe'].url}/js.stripe.com/v3/"
    page = browser_page
    page.goto(f"{live_server.url}/enroll/")
    page.fill("#id_parent_first_name", "Maya")
    page.fill("#id_parent_last_name", "Lopez")
    page.fill("#id_email", "maya@example.com")
    page.fill("#id_phone", "416-555-0188")
    assert page.locator("fieldset.child").count() == 1  # one block to start
    for n, (name, born) in enumerate([("Lucia", "2016-03-04"), ("Mateo", "2014-08-09")]):
        if n:
            page.click("text=Add another child")
            assert page.locator("fieldset.child").count() == 2
            assert page.evaluate("document.activeElement.id") == f"id_children-{n}-first_name"
            assert page.inner_text("#child-status") == "Child 2 added."
            assert page.inner_text(f"#child-{n} legend") == "Child 2"
        page.fill(f"#id_children-{n}-first_name", name)
        page.fill(f"#id_children-{n}-last_name", "Lopez")
        page.fill(f"#id_children-{n}-date_of_birth", born)
        page.select_option(f"#id_children-{n}-instrument", str(school_ready["piano"].pk))
    page.select_option("#id_windows-0-weekday", "0")
    page.fill("#id_windows-0-start_time", "16:00")
    page.fill("#id_windows-0-end_time", "17:00")
    page.select_option("#id_windows-1-weekday", "2")
    page.fill("#id_windows-1-start_time", "16:00")
    page.fill("#id_windows-1-end_time", "18:00")
    page.check("#id_consent")
    card_inputs = page.query_selector_all("#card-element input")
    for field, value in zip(card_inputs, ["4242424242424242", "12", "31", "123", "M5V 2T6"], strict=False):
        field.fill(value)
    page.click("#enroll-submit")
    page.wait_for_url(re.compile(r".*/enroll/done/.*"), timeout=30_000)

    confirmation = page.inner_text("main")
    assert "Lucia" in confirmation and "Mateo" in confirmation
    assert confirmation.count("Free demo lesson") == 2
    assert Enrollment.objects.filter(status="active").count() == 2

    welcome = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    link = re.search(r"https?://[^/\s]+(/accounts/welcome/\S+)", welcome.body)[1]
    page.goto(f"{live_server.url}{link}")
    page.fill("#id_new_password1", "a-brand-new-passphrase-2")
    page.fill("#id_new_password2", "a-brand-new-passphrase-2")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/profile/"))
    assert "maya@example.com" in page.inner_text("main")
