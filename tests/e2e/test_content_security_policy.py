"""Every page runs under its Content-Security-Policy with nothing refused: the browser reports each violation (the
`securitypolicyviolation` event, and its console error), and none may come. Before the policy there was no header at
all (each test failed on the header); with the policy but without the nonces, the enrollment form's child
blocks, the card element and the styles were refused here."""

import re
import shutil

import pytest
from django.core import mail

from accounts.models import User
from tests.e2e.test_enroll_browser import fill_enrollment, type_card
from tests.factories import ParentFactory, StudentFactory, UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.reportViolation(`${event.violatedDirective} refused ${event.blockedURI || "inline"} (${where})`);
});
"""


@pytest.fixture
def violations(browser_page) -> list[str]:
    """What the page's policy refused, on every page the browser opens from now on."""
    seen = []
    browser_page.expose_function("reportViolation", lambda text: seen.append(text))
    browser_page.add_init_script(REPORT_VIOLATIONS)
    browser_page.on(
        "console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text else None
    )
    return seen


def open_page(page, url: str, violations: list[str]) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations == [], url


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def test_a_parent_enrolls_with_a_card_under_the_policy(live_server, school_ready, enroll_page, violations):
    page = enroll_page
    reloaded = page.reload()  # the listener is in place from this load on
    assert "script-src" in reloaded.headers["content-security-policy"]
    fill_enrollment(
        page,
        school_ready,
        parent=("Maya", "Lopez", "maya@example.com", "416-555-0188"),
        children=[("Lucia", "2016-03-04"), ("Mateo", "2014-08-09")],  # the second block added by the page's script
        windows=[("0", "16:00", "17:00")],
    )
    type_card(page, "4242 4242 4242 4242")  # the card element of the local Stripe.js
    page.click("#enroll-submit")
    page.wait_for_url(re.compile(r".*/enroll/check-your-email/"), timeout=30_000)
    page.wait_for_load_state("networkidle")
    welcome = next(m for m in mail.outbox if m.to == ["maya@example.com"])
    confirmation = re.search(r"https?://[^/\s]+(/enroll/done/\S+/)", welcome.body)[1]
    page.goto(f"{live_server.url}{confirmation}")
    page.wait_for_load_state("networkidle")
    assert "Lucia" in page.inner_text("main")  # the confirmation page, from the welcome email's link
    assert violations == []


def test_sign_in_billing_profile_admin_and_api_docs_under_the_policy(
    live_server, school_ready, settings, browser_page, violations
):
    settings.STRIPE_JS_URL = f"{school_ready['stripe'].url}/js.stripe.com/v3/"
    page = browser_page
    open_page(page, f"{live_server.url}/accounts/login/", violations)

    parent = ParentFactory()
    sign_in(page, live_server, parent)
    open_page(page, f"{live_server.url}/accounts/profile/", violations)
    open_page(page, f"{live_server.url}/family/", violations)
    open_page(page, f"{live_server.url}/billing/", violations)
    type_card(page, "4242 4242 4242 4241")  # the card element is mounted and answers
    assert page.locator("#card-errors").inner_text().strip() == "Your card number is invalid."
    assert violations == []

    open_page(page, f"{live_server.url}/api/docs/", violations)
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=30_000)  # Swagger UI rendered the schema
    assert violations == []

    page.context.clear_cookies()
    owner = UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True)
    sign_in(page, live_server, owner)
    open_page(page, f"{live_server.url}/admin/", violations)
    assert page.locator("#school-figures").is_visible()
    student = StudentFactory(family=parent.family, instrument=school_ready["piano"])
    open_page(page, f"{live_server.url}/admin/scheduling/student/{student.pk}/change/", violations)
    page.click("#content-main .datetimeshortcuts a")  # the admin's own script: "Today" beside a date
    assert violations == []
