from datetime import timedelta

import pytest
from icalendar import Calendar

from cedarheights.selectors import school_today
from scheduling.calendar_feeds import calendar_feed_issue, calendar_feed_revoke
from scheduling.models import CalendarFeed
from scheduling.services import lesson_reschedule

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_family_feed_answers_not_modified_until_a_lesson_moves_and_404_once_revoked(
    week, client, django_assert_max_num_queries
):
    # at noon in three days: an hour later is inside the teacher's hours whatever time the test runs
    lesson = week.lesson_on(school_today() + timedelta(days=3))
    feed, token = calendar_feed_issue(holder=week.parent, scope=CalendarFeed.Scope.FAMILY, actor=week.parent)
    first = client.get(f"/cal/{token}.ics")
    assert first.status_code == 200, first.content
    assert first["Content-Type"] == "text/calendar; charset=utf-8"
    event = Calendar.from_ical(first.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"lesson-{lesson.uid}@127.0.0.1" and int(event["SEQUENCE"]) == 0
    with django_assert_max_num_queries(3):
        again = client.get(f"/cal/{token}.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    lesson_reschedule(lesson=lesson, start_at=lesson.start_at + timedelta(hours=1))
    moved = client.get(f"/cal/{token}.ics", HTTP_IF_NONE_MATCH=first["ETag"])
    assert moved.status_code == 200 and moved["ETag"] != first["ETag"]
    event = Calendar.from_ical(moved.content).walk("VEVENT")[0]
    assert str(event["UID"]) == f"lesson-{lesson.uid}@127.0.0.1" and int(event["SEQUENCE"]) == 1
    calendar_feed_revoke(feed=feed, actor=week.parent)
    assert client.get(f"/cal/{token}.ics").status_code == 404
