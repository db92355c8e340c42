"""A parent in a real browser (Playwright driving Debian's Chromium, headless, on a phone-sized screen) makes the
family's calendar link, reads it from the page (the copy box, not the clipboard), fetches it, sees it is shown only
once, gets a new one, and the old address is a 404 while the new one answers. Controls are found by their labels."""

import re
import shutil

import pytest

from scheduling.models import CalendarFeed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's
CALENDAR_PAGE = re.compile(r".*/family/calendar/$")


def test_a_parent_makes_the_calendar_link_replaces_it_and_the_old_address_is_a_404(
    live_server, settings, week, browser_page
):
    settings.SITE_URL = live_server.url  # the links the page shows point to this server
    lesson = week.lesson_in(hours=72)
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(week.parent.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/family/$"))

    page.get_by_role("link", name="Lessons in your calendar").click()
    page.wait_for_url(CALENDAR_PAGE)
    page.get_by_role("button", name="Create my calendar link").click()
    page.wait_for_url(CALENDAR_PAGE)

    first = page.get_by_label("Or copy the link").input_value()
    assert first.startswith(f"{live_server.url}/cal/") and first.endswith(".ics")
    add = page.get_by_role("link", name="Add to my calendar")
    assert add.get_attribute("href") == "webcal://" + first.split("://", 1)[1]
    assert page.get_by_role("button", name="Copy").is_visible()  # its script ran under the page's policy
    feed = page.request.get(first)
    assert feed.status == 200 and f"lesson-{lesson.uid}@" in feed.text()

    page.reload()
    assert page.get_by_label("Or copy the link").count() == 0
    assert "For your safety it is shown only once." in page.locator("main").inner_text()

    page.get_by_role("button", name="Get a new link").click()
    page.wait_for_url(CALENDAR_PAGE)
    second = page.get_by_label("Or copy the link").input_value()

    assert second != first
    assert "The old one has stopped working" in page.locator(".messages").inner_text()
    assert page.request.get(first).status == 404
    assert page.request.get(second).status == 200
    assert CalendarFeed.objects.filter(holder=week.parent, revoked_at__isnull=True).count() == 1
