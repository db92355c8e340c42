"""A feed's ETag changes with everything the feed prints and with nothing else, whatever road the change took, and
answering "not modified" reads no lesson (issue 16, "Shown": 304s cost no lesson query, count pinned)."""

from datetime import timedelta

import pytest

from accounts.services import user_update_profile
from cedarheights.selectors import school_settings_get
from cedarheights.services import record_save, school_settings_update
from scheduling.calendar_feeds import feed_text, feed_text_validators
from scheduling.models import CalendarFeed
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set, lesson_reschedule, lesson_update, student_update
from tests.calendars.conftest import events_of, link_of
from tests.factories import RoomFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _moved(week, lesson):
    lesson_reschedule(
        lesson=lesson, start_at=lesson.start_at + timedelta(hours=1), room=lesson.room, check_availability=False
    )


def _cancelled(week, lesson):
    lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=week.parent)


def _booked(week, lesson):
    week.lesson_in(hours=100)


def _teacher_renamed(week, lesson):
    user_update_profile(user=week.teacher.user, first_name="Renata")


def _child_renamed(week, lesson):
    student_update(actor=None, student=week.student, first_name="Paloma")


def _room_renamed(week, lesson):
    record_save(lesson.room, {"name": "The blue studio"})


def _school_renamed(week, lesson):
    school_settings_update(school_settings=school_settings_get(), name="Cedar Heights Conservatory")


CHANGES = [_moved, _cancelled, _booked, _teacher_renamed, _child_renamed, _room_renamed, _school_renamed]


@pytest.fixture
def lesson_in_a_room(week):
    lesson = week.lesson_in(hours=72)
    return lesson_reschedule(
        lesson=lesson, start_at=lesson.start_at, room=RoomFactory(name="Studio 4"), check_availability=False
    )


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__.strip("_"))
def test_each_change_a_feed_prints_gives_new_text_and_a_new_etag(week, lesson_in_a_room, family_link, change):
    before = family_link.fetch()

    change(week, lesson_in_a_room)

    after = family_link.fetch(if_none_match=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.content != before.content


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__.strip("_"))
def test_the_teachers_feed_sees_each_change_too(week, lesson_in_a_room, teacher_link, change):
    before = teacher_link.fetch()

    change(week, lesson_in_a_room)

    assert teacher_link.fetch(if_none_match=before["ETag"]).status_code == 200


def test_with_nothing_printed_changed_the_etag_stays(week, lesson_in_a_room, family_link):
    before = family_link.fetch()

    lesson_update(lesson=lesson_in_a_room, notes="Tired today.", family_note="Scales, please.")

    assert family_link.fetch(if_none_match=before["ETag"]).status_code == 304
    assert family_link.fetch().content == before.content


def test_another_familys_lesson_leaves_this_familys_etag_alone(week, lesson_in_a_room, family_link):
    _, other_child, _ = week.another_family()
    before = family_link.fetch()

    week.lesson_in(hours=120, student=other_child)

    assert family_link.fetch(if_none_match=before["ETag"]).status_code == 304


def test_not_modified_reads_no_lesson(week, lesson_in_a_room, family_link, django_assert_num_queries):
    first = family_link.fetch()

    with django_assert_num_queries(2) as captured:  # the link, then its stamps
        again = family_link.fetch(if_none_match=first["ETag"])

    assert again.status_code == 304
    assert not [query for query in captured.captured_queries if "scheduling_lesson" in query["sql"]]


def test_the_text_is_the_same_bytes_until_something_printed_changes_and_so_is_its_hash(week, lesson_in_a_room):
    """Where there are no stamps (SQLite), the validator is the text's hash: it holds only if building the same
    calendar twice gives the same bytes (no build time in DTSTAMP, no random UID)."""
    feed = link_of(week.parent, CalendarFeed.Scope.FAMILY).feed
    first, again = feed_text(feed=feed), feed_text(feed=feed)

    _moved(week, lesson_in_a_room)
    moved = feed_text(feed=feed)

    assert first.text == again.text and feed_text_validators(first) == feed_text_validators(again)
    assert feed_text_validators(moved).etag != feed_text_validators(first).etag
    assert feed_text_validators(moved).last_modified > feed_text_validators(first).last_modified
    assert len(events_of(first.text)) == 1
