"""A teacher signs in on a phone-sized browser, marks a lesson attended in one tap and writes a note for the family;
the parent then reads it (Playwright driving Debian's Chromium, headless; controls found by their labels)."""

import re
import shutil

import pytest

from scheduling.api.serializers import LessonSerializer
from scheduling.models import Lesson
from scheduling.outcomes import Outcome

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
PASSWORD = "a-long-test-password-1"  # tests.factories.UserFactory's
NOTE = "Lovely legato in the minuet today. Next week: the left hand alone, slowly."


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def teacher_marks_and_writes(page, live_server, week) -> Lesson:
    week.student.first_name, week.student.last_name = "Lucia", "Lopez"
    week.student.save()
    lesson = week.lesson_in(hours=-1)
    page.set_viewport_size({"width": 390, "height": 844})

    sign_in(page, live_server, week.teacher.user)
    page.wait_for_url(re.compile(r".*/teach/$"))
    page.get_by_role("button", name=re.compile(r"^Attended: Lucia Lopez")).click()
    page.wait_for_load_state()
    assert "attended" in page.locator(".messages").inner_text()
    assert page.get_by_role("button", name=re.compile(r"^Undo the mark: Lucia Lopez")).is_visible()

    page.get_by_role("link", name="Lucia Lopez").first.click()
    page.get_by_label("Note to the family").fill(NOTE)
    page.get_by_role("button", name="Save the notes").click()
    page.wait_for_load_state()
    assert page.locator(".messages").inner_text().strip() == "The notes are saved."
    assert page.get_by_label("Note to the family").input_value() == NOTE
    lesson.refresh_from_db()
    assert (lesson.outcome, lesson.outcome_set_by, lesson.family_note) == (Outcome.ATTENDED, week.teacher.user, NOTE)
    return lesson


def test_a_teacher_marks_a_lesson_attended_and_writes_a_note_for_the_family(live_server, week, browser_page):
    teacher_marks_and_writes(browser_page, live_server, week)


@pytest.mark.skipif(
    "family_note" not in LessonSerializer.Meta.fields,
    reason="the lesson API shows `family_note` once the outcomes branch (issue 15, H5) is merged; the parent's lesson "
    "page (/family/lessons/<id>/, H3) may replace this read",
)
def test_the_parent_then_reads_the_teachers_note(live_server, week, browser_page):
    page = browser_page
    lesson = teacher_marks_and_writes(page, live_server, week)
    page.context.clear_cookies()

    sign_in(page, live_server, week.parent)
    page.wait_for_load_state()
    body = page.request.get(f"{live_server.url}/api/v1/lessons/{lesson.pk}/").json()

    assert body["family_note"] == NOTE
