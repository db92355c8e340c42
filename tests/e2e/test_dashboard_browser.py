"""The owner signs in and lands on the dashboard: every chart drawn, named for a screen reader, its numbers beside
it, and not one console error (the page runs no script of its own; the CSP would refuse an inline one)."""

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from billing.models import Payment
from enrollment.models import Enrollment
from tests.factories import EnrollmentFactory, PaymentFactory, StudentFactory, TeacherFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "an-owner-password-1"


def test_the_owner_sees_the_dashboard_with_its_charts_and_no_console_error(live_server, school, browser_page):
    owner = User.objects.create_superuser("owner@example.com", PASSWORD, first_name="Amira")
    teacher = TeacherFactory()
    for n in range(3):
        student = StudentFactory(teacher=teacher)
        EnrollmentFactory(
            student=student, status=Enrollment.Status.ACTIVE, activated_at=timezone.now() - timedelta(days=60 * n)
        )
        PaymentFactory(family=student.family, status=Payment.Status.SUCCEEDED, paid_at=timezone.now())
    page, problems = browser_page, []

    def console(message) -> None:
        # Chromium asks every site for /favicon.ico by itself; the school serves none (not this page's doing).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/admin/")

    assert page.get_by_role("heading", name="The school's numbers").is_visible()
    charts = page.get_by_role("img", name="Collected revenue per month")
    assert charts.count() == 1 and charts.is_visible()
    assert page.locator("figure.dashboard-chart").count() == 7
    assert page.locator("figure.dashboard-chart svg[role=img]").count() == 7
    revenue = page.locator("#chart-revenue table")
    assert "$420.00 CAD" in revenue.inner_text()  # three payments of $140 this month
    assert page.locator("#chart-revenue rect.chart-bar-now").bounding_box()["height"] > 0
    page.emulate_media(media="print")
    assert not page.locator("#nav-sidebar").is_visible() and page.locator("#chart-revenue").is_visible()
    assert problems == []
