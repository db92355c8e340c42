"""A parent enrolls two children in a real browser (Playwright driving Debian's Chromium, headless)."""

import re
import shutil

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import BillingProfile
from enrollment.models import Enrollment
from enrollment.selectors import first_regular_lesson

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


def fill_enrollment(page, school_ready, *, parent, children, windows):
    """The enrollment form but the card: the parent, each child (of the parent's surname, learning piano; a
    block added for each after the first), the weekly windows (weekday, from, to) and consent."""
    for field, value in zip(["parent_first_name", "parent_last_name", "email", "phone"], parent, strict=True):
        page.fill(f"#id_{field}", value)
    assert page.locator("fieldset.child").count() == 1  # one block to start
    for n, (name, born) in enumerate(children):
        if n:  # each further child through "Add another child", as a parent adds one
            page.click("text=Add another child")
            assert page.locator("fieldset.child").count() == n + 1
            assert page.evaluate("document.activeElement.id") == f"id_children-{n}-first_name"
            assert page.inner_text("#child-status") == f"Child {n + 1} added."
            assert page.inner_text(f"#child-{n} legend") == f"Child {n + 1}"
        page.fill(f"#id_children-{n}-first_name", name)
        page.fill(f"#id_children-{n}-last_name", parent[1])
        page.fill(f"#id_children-{n}-date_of_birth", born)
        page.select_option(f"#id_children-{n}-instrument", str(school_ready["piano"].pk))
    for n, (weekday, start, end) in enumerate(windows):
        page.select_option(f"#id_windows-{n}-weekday", weekday)
        page.fill(f"#id_windows-{n}-start_time", start)
        page.fill(f"#id_windows-{n}-end_time", end)
    page.check("#id_consent")


def card_error(page) -> str:
    return page.locator("#card-errors").inner_text().strip()


def test_a_parent_enrolls_two_children_with_a_card_and_sets_a_password(live_server, school_ready, enroll_page):
    page = enroll_page
    fill_enrollment(
        page,
        school_ready,
        parent=("Maya", "Lopez", "maya@example.com", "416-555-0188"),
        children=[("Lucia", "2016-03-04"), ("Mateo", "2014-08-09")],
        windows=[("0", "16:00", "17:00"), ("2", "16:00", "18:00")],
    )
    type_card(page, "4242 4242 4242 4242")  # with spaces, as the README shows it
    page.click("#enroll-submit")
    page.wait_for_url(re.compile(r".*/enroll/check-your-email/"), timeout=30_000)
    assert "Check your email to continue" in page.inner_text("main")
    assert Enrollment.objects.filter(status="active").count() == 2

    welcome = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    confirmation_link = re.search(r"https?://[^/\s]+(/enroll/done/\S+/)", welcome.body)[1]
    page.goto(f"{live_server.url}{confirmation_link}")
    confirmation = page.inner_text("main")
    assert "Lucia" in confirmation and "Mateo" in confirmation
    assert confirmation.count("Free demo lesson") == 2
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
        first = timezone.localtime(first_regular_lesson(enrollment=enrollment).start_at)
        assert f"next payment {first:%B} {first.day}" in billing

    # The change-card form: sent empty, it names the problem beside the card and stays usable.
    page.click("#card-form [type=submit]")
    assert card_error(page) == "Your card number is incomplete."
    assert page.locator("#card-form [type=submit]").is_enabled()
    type_card(page, "4242 4242 4242 4241")
    assert card_error(page) == "Your card number is invalid."


def test_the_card_field_explains_each_problem_beside_the_card_and_the_form_stays_usable(school_ready, enroll_page):
    """Before the fix, an empty card threw in the stand-in (the button stayed disabled, nothing shown), and
    "4000 0000 0000 0341" typed with spaces was cut to 16 characters: a card that never declined."""
    page = enroll_page
    fill_enrollment(
        page,
        school_ready,
        parent=("Ana", "Silva", "ana@example.com", "416-555-0190"),
        children=[("Rui", f"{timezone.localdate().year - 9}-05-06")],
        windows=[("0", "16:00", "17:00")],
    )
    for label in ("Card number", "MM / YY", "CVC", "Postal code"):
        assert page.get_by_label(label, exact=True).get_attribute("placeholder") == label
    assert "localstripe" not in page.inner_text("#card-element")

    page.click("#enroll-submit")
    assert card_error(page) == "Your card number is incomplete."
    assert page.locator("#enroll-submit").is_enabled() and "/enroll/check-your-email/" not in page.url

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
    page.wait_for_url(re.compile(r".*/enroll/check-your-email/"), timeout=30_000)
    assert BillingProfile.objects.get().card_last4 == "0341"  # the declining card, whole


def test_a_card_kept_after_an_error_is_said_so_and_another_card_typed_replaces_it(school_ready, enroll_page):
    """The page came back (a child's name missing) with an empty card box and no word of the card: a parent who
    typed another card was charged on the first one."""
    page = enroll_page
    born = f"{timezone.localdate().year - 9}-05-06"
    fill_enrollment(
        page,
        school_ready,
        parent=("Ana", "Silva", "ana@example.com", "416-555-0190"),
        children=[("", born)],
        windows=[("0", "16:00", "17:00")],
    )
    page.locator("#id_children-0-first_name").evaluate("box => box.removeAttribute('required')")
    type_card(page, "4242 4242 4242 4242")
    with page.expect_navigation(timeout=30_000):  # the card is made first, then the form is sent
        page.click("#enroll-submit")
    assert "This field is required." in page.inner_text("main")
    assert page.locator("#card-kept").is_visible()

    page.fill("#id_children-0-first_name", "Rui")
    type_card(page, "4000 0000 0000 0341")
    assert not page.locator("#card-kept").is_visible()
    page.click("#enroll-submit")
    page.wait_for_url(re.compile(r".*/enroll/check-your-email/"), timeout=30_000)
    assert BillingProfile.objects.get().card_last4 == "0341"
