"""Every feed read by three independent readers gives the lessons' own times (issue 16, "Shown"): icalendar (our
builder's library, reading the TZID from its zone database), vobject (its own parser, reading the times through
the feed's VTIMEZONE) and recurring-ical-events (expanding the window as a client does). Around both changes of the
clocks in the fixed school's window, every lesson is at 16:00 local time, so 20:00 UTC before 3 November and after
9 March, 21:00 UTC between: a wrong VTIMEZONE would move the winter or summer ones by an hour in vobject.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
import vobject
from icalendar import Calendar

from scheduling.calendar_feeds import feed_text, feed_window
from scheduling.models import CalendarFeed
from tests.calendars.fixed_school import TODAY, ZONE

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

Times = dict[str, tuple[datetime, datetime]]


def by_icalendar(text: str) -> Times:
    return {
        str(event["UID"]): (event["DTSTART"].dt.astimezone(UTC), event["DTEND"].dt.astimezone(UTC))
        for event in Calendar.from_ical(text).walk("VEVENT")
    }


def by_vobject(text: str) -> Times:
    # vobject keeps the first definition it meets of a TZID for the whole process, and knows well-known names from
    # pytz: under a name of its own, the zone is known to it only by this file's VTIMEZONE.
    own_name = f"feed-zone-{uuid.uuid4().hex}"
    renamed = text.replace(f"TZID={ZONE.key}:", f"TZID={own_name}:").replace(f"TZID:{ZONE.key}", f"TZID:{own_name}")
    assert ZONE.key not in renamed.replace(f"X-WR-TIMEZONE:{ZONE.key}", "")
    return {
        event.uid.value: (event.dtstart.value.astimezone(UTC), event.dtend.value.astimezone(UTC))
        for event in vobject.readOne(renamed).vevent_list
    }


def by_expanding_the_window(text: str) -> Times:
    window = feed_window(today=TODAY)
    occurrences = recurring_ical_events.of(Calendar.from_ical(text)).between(window.starts_from, window.starts_before)
    return {
        str(event["UID"]): (event["DTSTART"].dt.astimezone(UTC), event["DTEND"].dt.astimezone(UTC))
        for event in occurrences
    }


@pytest.mark.parametrize("scope", list(CalendarFeed.Scope))
def test_three_readers_agree_with_the_lessons_own_times_across_both_clock_changes(fixed_school, scope):
    text = feed_text(feed=fixed_school.feeds[scope], today=TODAY).text

    expected = {
        f"lesson-{lesson.uid}@cedarheights.example": (lesson.start_at.astimezone(UTC), lesson.end_at.astimezone(UTC))
        for lesson in fixed_school.shown(scope)
    }

    assert by_icalendar(text) == expected
    assert by_vobject(text) == expected
    assert by_expanding_the_window(text) == expected
    local_starts = {start.astimezone(ZONE).time().isoformat() for start, _ in expected.values()}
    utc_starts = {start.time().isoformat() for start, _ in expected.values()}
    assert local_starts == {"16:00:00"} and utc_starts == {"20:00:00", "21:00:00"}


def test_vobject_reads_the_feeds_own_zone_definition_not_a_zone_database(fixed_school):
    """Its times above come through the VTIMEZONE in the file: a daylight part shifted by a week moves them."""
    text = feed_text(feed=fixed_school.feeds[CalendarFeed.Scope.FAMILY], today=TODAY).text
    shifted = text.replace("DTSTART:20301103T020000", "DTSTART:20301110T020000")

    lesson_after_the_change = next(s for s, _ in by_vobject(text).values() if s.date() == datetime(2030, 11, 4).date())
    moved = next(s for s, _ in by_vobject(shifted).values() if s.date() == datetime(2030, 11, 4).date())

    assert moved == lesson_after_the_change - timedelta(hours=1)
