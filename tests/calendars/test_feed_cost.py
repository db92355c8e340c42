"""What a feed costs (issue 16, "Shown": a teacher with 40 lessons a week over the window; the time is measured in
bench/, row `ical_feed_teacher`): its queries do not grow with its lessons (no N+1 over children, instruments,
teachers or rooms), and a feed fetched again unchanged is answered from the cache, reading no lesson.

The cache test failed before `feed_text_cached` (every fetch without a validator read and built the half-year again).
"""

from datetime import datetime, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cedarheights.selectors import school_settings_get, school_today
from scheduling.calendar_feeds import DAYS_AHEAD, DAYS_BACK, feed_lessons, feed_window, lesson_page_url
from scheduling.calendars import _event_key
from scheduling.models import CalendarFeed, Lesson
from scheduling.services import lesson_reschedule
from tests.calendars.conftest import events_of, link_of
from tests.factories import InstrumentFactory, RoomFactory, StudentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def busy_week(week, *, per_day: int) -> int:
    """`per_day` lessons a day, Monday to Saturday, over the whole window, each child with their own family and
    one of three instruments and rooms (so a missing join would cost a query per lesson); how many."""
    zone = school_settings_get().zone
    instruments = [InstrumentFactory(name=name) for name in ("Piano", "Cello", "Flute")]
    rooms = [RoomFactory() for _ in range(3)]
    children = [StudentFactory(instrument=instruments[n % 3], teacher=week.teacher) for n in range(per_day)]
    lessons = []
    for offset in range(-DAYS_BACK, DAYS_AHEAD + 1):
        day = school_today() + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        for n, child in enumerate(children):
            start = datetime.combine(day, time(14), tzinfo=zone) + timedelta(minutes=30 * n)
            lessons.append(
                Lesson(
                    teacher=week.teacher,
                    student=child,
                    start_at=start,
                    end_at=start + timedelta(minutes=30),
                    room=rooms[n % 3],
                    kind=Lesson.Kind.MAKEUP if n == 0 else Lesson.Kind.REGULAR,
                )
            )
    Lesson.objects.bulk_create(lessons)  # the setup of many lessons, as bench/ builds its school
    return len(lessons)


def queries_of_a_first_fetch(link) -> tuple[int, list[str], int]:
    school_settings_get()  # read once a process by every page: not this feed's cost
    with CaptureQueriesContext(connection) as captured:
        response = link.fetch()
    assert response.status_code == 200
    return len(captured), [query["sql"] for query in captured], len(events_of(response.content))


@pytest.mark.parametrize("per_day", [2, 7])
def test_a_teachers_half_year_is_read_in_three_queries_whatever_its_size(week, per_day):
    """7 a day, six days a week: the issue's 40 lessons a week, over 30 days back and 180 ahead."""
    booked = busy_week(week, per_day=per_day)
    link = link_of(week.teacher.user, CalendarFeed.Scope.TEACHER)

    count, queries, events = queries_of_a_first_fetch(link)

    assert events == booked
    assert count == 3  # the link, its stamps, the lessons with all they print
    assert sum("scheduling_lesson" in sql for sql in queries) == 1


def test_an_unchanged_feed_fetched_again_is_the_same_bytes_read_from_no_lesson(week, django_assert_num_queries):
    busy_week(week, per_day=7)
    link = link_of(week.teacher.user, CalendarFeed.Scope.TEACHER)
    first = link.fetch()

    with django_assert_num_queries(2) as captured:  # the link, its stamps
        again = link.fetch()

    assert again.status_code == 200 and again.content == first.content and again["ETag"] == first["ETag"]
    assert not [query for query in captured.captured_queries if "scheduling_lesson" in query["sql"]]


def test_a_feed_rebuilt_after_one_lesson_moved_serializes_that_lesson_alone(week):
    """The cache holds each event's text under a hash of what it shows (scheduling.calendars._event_key): after a
    move, the moved lesson is the only one of the feed's lessons not found there. Failed before events were kept
    (every rebuild serialized the whole half-year, a second or two)."""
    busy_week(week, per_day=2)
    link = link_of(week.teacher.user, CalendarFeed.Scope.TEACHER)
    link.fetch()
    lesson = Lesson.objects.filter(teacher=week.teacher, start_at__gt=timezone.now() + timedelta(days=2)).first()
    later = lesson.start_at + timedelta(hours=3)
    lesson_reschedule(lesson=lesson, start_at=later)
    school = school_settings_get()

    def not_kept() -> list[int]:
        lessons = feed_lessons(feed=link.feed, window=feed_window(today=school_today()))
        keys = {
            _event_key(
                shown, zone=school.zone, school_name=school.name, url=lesson_page_url(lesson=shown, scope="teacher")
            ): shown.pk
            for shown in lessons
        }
        return [pk for key, pk in keys.items() if cache.get(key) is None]

    assert not_kept() == [lesson.pk]
    moved = events_of(link.fetch().content)
    assert not_kept() == []
    assert moved[f"lesson-{lesson.uid}@127.0.0.1"]["DTSTART"].dt == later
