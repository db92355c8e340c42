"""A parent in a real browser (Playwright driving Debian's Chromium, headless): signs in, opens a lesson, cancels it
with notice, sees the credit, books a make-up into a free time and finds it on the home page. Every control is found
by its label or its name, as a person finds it."""

import re
import shutil

import pytest
from django.utils import dateformat, timezone

from enrollment.makeups import makeup_slots_offer
from enrollment.models import MakeupCredit
from scheduling.models import Lesson

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's
HOME = re.compile(r".*/family/$")


def local(moment, pattern: str) -> str:
    return dateformat.format(timezone.localtime(moment), pattern)


def test_a_parent_cancels_a_lesson_with_notice_and_books_the_makeup_into_a_free_time(live_server, week, browser_page):
    lesson = week.lesson_in(hours=72)
    page = browser_page

    page.goto(f"{live_server.url}/")
    page.get_by_label("Email").fill(week.parent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(HOME)

    page.get_by_role("link", name=local(lesson.start_at, "D j M, g:i A")).click()
    assert "If you cancel now, you get a make-up credit" in page.locator("#cancel-consequence").inner_text()
    page.get_by_label("Reason (optional)").fill("Away at grandma's")
    page.get_by_role("button", name="Cancel this lesson").click()
    page.wait_for_url(HOME)
    credit = MakeupCredit.objects.get(missed_lesson=lesson)
    said = page.locator(".messages").inner_text()
    assert f"You have a make-up credit to use by {credit.expires_on:%-d %B %Y}." in said

    page.get_by_role("link", name="1 make-up credit").click()
    page.get_by_role("link", name="Book a make-up").click()
    offer = makeup_slots_offer(credit=credit)[0]
    page.get_by_label(f"{local(offer.start_at, 'D j M, g:i A')} with {week.teacher}").check()
    page.get_by_role("button", name="Book this make-up").click()
    page.wait_for_url(HOME)

    assert "Make-up booked" in page.locator(".messages").inner_text()
    when = page.get_by_role("link", name=local(offer.start_at, "D j M, g:i A"))
    booked = page.get_by_role("listitem").filter(has=when)
    assert "Make-up" in booked.inner_text()
    makeup = Lesson.objects.get(kind=Lesson.Kind.MAKEUP)
    assert makeup.start_at == offer.start_at and makeup.student == week.student
    lesson.refresh_from_db()
    assert lesson.status == Lesson.Status.CANCELLED and lesson.cancellation_reason == "Away at grandma's"
