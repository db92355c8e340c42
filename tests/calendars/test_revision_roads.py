"""Every road that changes what a calendar shows of a lesson keeps its UID and raises its SEQUENCE (issue 16 §1:
Google keeps an old time unless SEQUENCE rises, and duplicates an event whose UID changes); a note changes neither.
A cancelled lesson stays as STATUS:CANCELLED, "Cancelled:" first, for 30 days after its cancellation, then goes.

Each road is taken as people take it (the services behind the portals, the API, the owner's closing of a day), and
the feed is read over HTTP.
"""

from datetime import timedelta

import pytest
from django.test import Client

from cedarheights.selectors import school_today
from enrollment.credits import makeup_credit_grant
from enrollment.makeups import lesson_cancel_by_family, lesson_reschedule_by_family, makeup_slots_offer
from scheduling.calendar_feeds import feed_text
from scheduling.closures import school_day_close
from scheduling.models import CalendarFeed, Lesson
from scheduling.outcomes import Outcome
from scheduling.services import (
    lesson_outcome_set,
    lesson_reschedule,
    lesson_teacher_cancel,
    lesson_update,
    teacher_cancellation_decide,
)
from tests.calendars.conftest import Link, events_of, link_of
from tests.factories import TeacherFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def uid_of(lesson: Lesson) -> str:
    return f"lesson-{lesson.uid}@127.0.0.1"


def event_in(link: Link, lesson: Lesson):
    return events_of(link.fetch().content).get(uid_of(lesson))


def assert_revised(before, after, *, cancelled: bool) -> None:
    assert after is not None, "the lesson left the feed"
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    # To the second, as the format has it: a change in the same second as the booking shows the same stamp.
    assert after["DTSTAMP"].dt >= before["DTSTAMP"].dt and after["LAST-MODIFIED"].dt == after["DTSTAMP"].dt
    assert (str(after["STATUS"]), str(after["SUMMARY"]).startswith("Cancelled: ")) == (
        ("CANCELLED", True) if cancelled else ("CONFIRMED", False)
    )


def test_a_reschedule_keeps_the_uid_and_raises_the_sequence(week, family_link):
    lesson = week.lesson_in(hours=72)
    before = event_in(family_link, lesson)

    lesson_reschedule(lesson=lesson, start_at=lesson.start_at + timedelta(hours=2), check_availability=False)

    after = event_in(family_link, lesson)
    assert_revised(before, after, cancelled=False)
    assert after["DTSTART"].dt == before["DTSTART"].dt + timedelta(hours=2)


def test_the_owners_edit_through_the_api_keeps_the_uid_and_raises_the_sequence(week, family_link):
    # at noon in three days: an hour later is inside the teacher's hours whatever time the test runs
    lesson = week.lesson_on(school_today() + timedelta(days=3))
    before = event_in(family_link, lesson)
    owner = Client()
    owner.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    later = lesson.start_at + timedelta(hours=1)

    response = owner.patch(
        f"/api/v1/lessons/{lesson.pk}/",
        {"start_at": later.isoformat(), "end_at": (later + timedelta(minutes=30)).isoformat()},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    after = event_in(family_link, lesson)
    assert_revised(before, after, cancelled=False)
    assert after["DTSTART"].dt == later


def test_a_teachers_cancellation_then_a_substitute_raise_it_twice_and_the_event_changes_teacher(
    week, family_link, teacher_link
):
    lesson = week.lesson_in(hours=72)
    substitute = TeacherFactory(instruments=[week.student.instrument])
    substitute_link = link_of(substitute.user, CalendarFeed.Scope.TEACHER)
    first = event_in(family_link, lesson)

    cancelled_lesson = lesson_teacher_cancel(lesson=lesson, actor=week.teacher.user, reason="Flu")
    cancelled = event_in(family_link, lesson)
    teacher_cancellation_decide(
        cancellation=cancelled_lesson.teacher_cancellations.get(), actor=None, substitute=substitute
    )
    substituted = event_in(family_link, lesson)

    assert_revised(first, cancelled, cancelled=True)
    assert_revised(cancelled, substituted, cancelled=False)
    assert str(substituted["SUMMARY"]).endswith(f"with {substitute}")
    assert event_in(substitute_link, lesson)["UID"] == first["UID"]
    assert event_in(teacher_link, lesson) is None  # gone from the first teacher's calendar


def test_a_familys_cancellation_keeps_the_uid_and_marks_the_event_cancelled(week, family_link):
    lesson = week.lesson_in(hours=72)
    before = event_in(family_link, lesson)

    lesson_cancel_by_family(lesson=lesson, actor=week.parent)

    assert_revised(before, event_in(family_link, lesson), cancelled=True)


def test_a_familys_reschedule_cancels_the_old_event_and_books_a_new_one(week, family_link):
    lesson = week.lesson_in(hours=72)
    offer = makeup_slots_offer(
        credit=makeup_credit_grant(enrollment=week.enrollment, actor=None, reason="Offer probe", goodwill=True)
    )[0]
    before = event_in(family_link, lesson)

    makeup = lesson_reschedule_by_family(
        lesson=lesson, actor=week.parent, teacher=offer.teacher, start_at=offer.start_at
    )

    events = events_of(family_link.fetch().content)
    assert_revised(before, events[uid_of(lesson)], cancelled=True)
    new = events[uid_of(makeup)]
    assert new["UID"] != before["UID"] and int(new["SEQUENCE"]) == 0
    assert str(new["SUMMARY"]).startswith("Make-up ") and new["DTSTART"].dt == offer.start_at


def test_closing_the_school_for_a_day_marks_its_lessons_cancelled_in_every_feed(week, family_link, teacher_link):
    day = school_today() + timedelta(days=3)
    lesson = week.lesson_on(day)
    before = event_in(family_link, lesson)

    school_day_close(day=day, reason="Snowstorm", actor=None)

    assert_revised(before, event_in(family_link, lesson), cancelled=True)
    assert_revised(before, event_in(teacher_link, lesson), cancelled=True)


def test_attendance_marked_raises_the_sequence_as_the_status_changes(week, teacher_link):
    lesson = week.lesson_in(hours=-2)
    before = event_in(teacher_link, lesson)

    lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=week.teacher.user)

    assert_revised(before, event_in(teacher_link, lesson), cancelled=False)


def test_a_note_changes_neither_the_sequence_nor_the_feed(week, family_link):
    lesson = week.lesson_in(hours=72)
    before = family_link.fetch()

    lesson_update(lesson=lesson, notes="Bring the new book.", family_note="Well done!")

    after = family_link.fetch()
    assert after.content == before.content and after["ETag"] == before["ETag"]
    assert Lesson.objects.get(pk=lesson.pk).revision == 0


def test_a_cancelled_lesson_stays_30_days_after_its_cancellation_then_goes(week):
    lesson = week.lesson_in(hours=24 * 60)
    feed = link_of(week.parent, CalendarFeed.Scope.FAMILY).feed
    lesson_cancel_by_family(lesson=lesson, actor=week.parent)
    today = school_today()

    def shown(days_later: int) -> bool:
        return uid_of(lesson) in events_of(feed_text(feed=feed, today=today + timedelta(days=days_later)).text)

    assert [shown(0), shown(29), shown(30), shown(31), shown(45)] == [True, True, True, False, False]
