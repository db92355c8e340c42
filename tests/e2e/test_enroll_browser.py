"""A parent enrolls two children in a real browser (Playwright driving Debian's Chromium, headless)."""

import re
import shutil

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import BillingProfile
from enrollment.models import Enrollment
from enrollment.pipelines import first_regular_lesson

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]


NEXT_YEAR = f"{(timezone.localdate().year + 1) % 100:02d}"


def type_card(page, number: str, expiry: str = f"12 / {NEXT_YEAR}", cvc: str = "123", postal: str = "M5V 2T6"):
    """Typed key by key into the card element's boxes, found by their labels, as a parent types them."""
    for label, text in [("Card number", number), ("MM / YY", expiry), ("CVC", cvc), ("Postal code", postal)]:
        box = page.get_by_label(label, exact=True)
        box.fill("")
        box.press_sequentially(text)


def card_error(page) -> str:
    return page.locator("#card-errors").inner_text().strip()


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
    for n, (name, born) in enumerate([("Lucia", "2016-03-04"), ("Mateo", "2014-08-09")]):
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
    type_card(page, "4242 4242 4242 4242")  # with spaces, as the README shows it
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

    # The card typed with spaces is the Visa ending in 4242, and the first charge is the first regular lesson.
    assert BillingProfile.objects.get().card_last4 == "4242"
    page.goto(f"{live_server.url}/billing/")
    billing = page.inner_text("main")
    assert "Visa ending in 4242" in billing
    for enrollment in Enrollment.objects.all():
        first = timezone.localtime(first_regular_lesson(enrollment).start_at)
        assert f"next payment {first:%B} {first.day}" in billing

    # The change-card form: sent empty, it names the problem beside the card and stays usable.
    page.click("#card-form [type=submit]")
    assert card_error(page) == "Your card number is incomplete."
    assert page.locator("#card-form [type=submit]").is_enabled()
    type_card(page, "4242 4242 4242 4241")
    assert card_error(page) == "Your card number is invalid."


def fill_one_child(page, school_ready):
    page.fill("#id_parent_first_name", "Ana")
    page.fill("#id_parent_last_name", "Silva")
    page.fill("#id_email", "ana@example.com")
    page.fill("#id_phone", "416-555-0190")
    page.fill("#id_children-0-first_name", "Rui")
    page.fill("#id_children-0-last_name", "Silva")
    page.fill("#id_children-0-date_of_birth", f"{timezone.localdate().year - 9}-05-06")
    page.select_option("#id_children-0-instrument", str(school_ready["piano"].pk))
    page.select_option("#id_windows-0-weekday", "0")
    page.fill("#id_windows-0-start_time", "16:00")
    page.fill("#id_windows-0-end_time", "17:00")
    page.check("#id_consent")


def test_the_card_field_explains_each_problem_beside_the_card_and_the_form_stays_usable(
    live_server, school_ready, settings, browser_page
):
    """Before the fix, an empty card threw in the stand-in (the button stayed disabled, nothing shown), and
    "4000 0000 0000 0341" typed with spaces was cut to 16 characters: a card that never declined."""
    settings.STRIPE_JS_URL = f"{school_ready['stripe'].url}/js.stripe.com/v3/"
    page = browser_page
    page.goto(f"{live_server.url}/enroll/")
    fill_one_child(page, school_ready)
    for label in ("Card number", "MM / YY", "CVC", "Postal code"):
        assert page.get_by_label(label, exact=True).get_attribute("placeholder") == label
    assert "localstripe" not in page.inner_text("#card-element")

    page.click("#enroll-submit")
    assert card_error(page) == "Your card number is incomplete."
    assert page.locator("#enroll-submit").is_enabled() and "/enroll/done/" not in page.url

    type_card(page, "4242-4242-4242-4241")
    assert card_error(page) == "Your card number is invalid."
    type_card(page, "4000 0000 0000 0341", expiry="01 / 20")
    assert card_error(page) == "Your card's expiration year is in the past."
    type_card(page, "4000 0000 0000 0341", cvc="12")
    page.click("#enroll-submit")
    assert card_error(page) == "Your card's security code is incomplete."
    assert page.locator("#enroll-submit").is_enabled()

    type_card(page, "4000 0000 0000 0341")
    assert card_error(page) == ""
    page.click("#enroll-submit")
    page.wait_for_url(re.compile(r".*/enroll/done/.*"), timeout=30_000)
    assert BillingProfile.objects.get().card_last4 == "0341"  # the declining card, whole
