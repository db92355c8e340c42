"""The owner in a real browser (Playwright driving Debian's Chromium, headless) changes a child's weekly time from a
date (and the child's plan with it) through the preview in the admin; the parent's portal then shows the new time
and the billing page the new amount. Controls are found by their label or name, as a person finds them."""

import re
import shutil
from datetime import timedelta

import pytest

from accounts.models import User
from billing.tuition import month_bill
from cedarheights.selectors import school_today
from enrollment.models import EnrollmentChange
from enrollment.tuition import month_first
from tests.factories import TuitionPlanFactory
from tests.lifecycle.conftest import Child, child_with_weekly_lesson, next_weekday, teacher_every_day, term_around_today

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's
OWNER_PASSWORD = "an-owner-password-1"


@pytest.fixture
def child(school) -> Child:
    """A child with a weekly Monday 16:00 lesson (tests/lifecycle/conftest.py)."""
    return child_with_weekly_lesson(teacher=teacher_every_day(), term=term_around_today())


def test_the_owner_changes_the_weekly_time_through_the_preview_and_the_parent_sees_it(live_server, child, browser_page):
    User.objects.create_superuser("owner@example.com", OWNER_PASSWORD)
    longer = TuitionPlanFactory(
        name="Piano 45, term-priced", lesson_minutes=45, price_cents=21_000, lesson_rate_cents=5_200
    )
    page = browser_page
    effective_on = next_weekday(school_today() + timedelta(days=7), 0)
    month = month_first(effective_on)
    amount_before = month_bill(family=child.parent.family, month=month).total_display

    page.goto(f"{live_server.url}/admin/enrollment/enrollment/{child.enrollment.pk}/change/")
    page.locator("#id_username").fill("owner@example.com")
    page.locator("#id_password").fill(OWNER_PASSWORD)
    page.locator("input[type=submit]").click()
    page.get_by_role("link", name="Change weekly lesson…").click()
    page.get_by_label("From").fill(effective_on.isoformat())
    page.get_by_label("Weekday").select_option(label="Friday")
    page.get_by_label("Start time").fill("15:30")
    page.get_by_label("Length").select_option(label="45 minutes")
    page.get_by_label("Plan").select_option(label=longer.name)
    page.get_by_role("button", name="Preview the change").click()

    assert "Mondays at 16:00 → Fridays at 15:30" in page.locator("#content").inner_text()
    assert not EnrollmentChange.objects.exists()  # the preview wrote nothing
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_url(re.compile(rf".*/admin/enrollment/enrollment/{child.enrollment.pk}/change/$"))
    assert "lessons booked" in page.locator(".messagelist").inner_text()
    assert EnrollmentChange.objects.get().effective_on == effective_on

    page.context.clear_cookies()  # the owner signs out; the parent signs in
    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill(child.parent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/family/$"))
    assert "Weekly lesson: Fridays at 3:30 PM" in page.locator("main").inner_text()
    amount_after = month_bill(family=child.parent.family, month=month).total_display
    assert amount_after != amount_before  # $52 lessons instead of $40 ones
    page.get_by_role("link", name="Billing").click()
    billing = page.locator("main").inner_text()
    assert f"Tuition for {month:%B %Y}" in billing and amount_after in billing
