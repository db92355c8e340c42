"""Lessons as calendar events (RFC 5545, RFC 7986): the one builder behind every feed (`/cal/<token>.ics`), the
welcome email's file and the demo's, so a lesson is the same event everywhere.

What calendar clients need (../shared/notes/school-policies.md, "Calendar feeds"): one VEVENT per lesson with a UID
that never changes (`lesson-<uuid>@<site host>`); a SEQUENCE that rises with each change (`Lesson.revision`), else
Google keeps the old time; local times with a full VTIMEZONE (STANDARD and DAYLIGHT parts, or Outlook refuses
it); a cancelled lesson kept as STATUS:CANCELLED. Feeds show a child's first name, the instrument, the teacher and
the room, never notes, birth dates or money.
"""

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from icalendar import Calendar, Event, Timezone, vDuration

from scheduling.models import Lesson

PRODID = "-//Cedar Heights//Lessons//EN"
# Clients may poll this often (REFRESH-INTERVAL, RFC 7986; X-PUBLISHED-TTL, Outlook's). Google ignores both.
REFRESH_INTERVAL = timedelta(hours=1)

KIND_PREFIX = {
    Lesson.Kind.DEMO: "Demo ",
    Lesson.Kind.MAKEUP: "Make-up ",
    Lesson.Kind.DROP_IN: "Drop-in ",
    Lesson.Kind.REGULAR: "",
}

# What the builder reads of a lesson and its relations (the feeds' `only()`).
EVENT_RELATED = ("student__instrument", "teacher__user", "room")
EVENT_FIELDS = (
    "uid",
    "revision",
    "revised_at",
    "created_at",
    "start_at",
    "end_at",
    "kind",
    "status",
    "student__first_name",
    "student__instrument__name",
    "teacher__user__first_name",
    "teacher__user__last_name",
    "teacher__user__email",
    "room__name",
)


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def lesson_event_uid(lesson: Lesson) -> str:
    """The lesson's UID in every calendar, for its whole life: a reschedule, a substitute or a cancellation keeps it."""
    return f"lesson-{lesson.uid}@{site_host()}"


def lesson_summary(lesson: Lesson) -> str:
    what = f"{KIND_PREFIX[lesson.kind]}{lesson.student.instrument.name.lower()} lesson"
    summary = f"{what[0].upper()}{what[1:]}: {lesson.student.first_name} with {lesson.teacher}"
    return f"Cancelled: {summary}" if lesson.status == Lesson.Status.CANCELLED else summary


def lesson_event(*, lesson: Lesson, zone: ZoneInfo, school_name: str, url: str) -> Event:
    event = Event()
    event.add("uid", lesson_event_uid(lesson))
    event.add("sequence", lesson.revision)
    # The time of the last change, in UTC: the same bytes on every fetch until the lesson changes.
    event.add("dtstamp", lesson.revised_at.astimezone(UTC))
    event.add("last-modified", lesson.revised_at.astimezone(UTC))
    event.add("created", lesson.created_at.astimezone(UTC))
    event.add("dtstart", lesson.start_at.astimezone(zone))
    event.add("dtend", lesson.end_at.astimezone(zone))
    event.add("summary", lesson_summary(lesson))
    cancelled = lesson.status == Lesson.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    room = lesson.room.name if lesson.room_id else ""
    event.add("location", f"{room}, {school_name}" if room else school_name)
    lines = [f"Teacher: {lesson.teacher}", *([f"Room: {room}"] if room else []), f"Lesson page: {url}"]
    event.add("description", "\n".join(lines))
    event.add("url", url)
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event


# The calendar's last line: the events go before it.
CALENDAR_END = b"END:VCALENDAR\r\n"
# Raised when an event's text changes shape (what `lesson_event` prints), so no text kept before is used again.
EVENT_FORMAT = 1
# An event's text is kept this long after it was last needed; its key names everything it shows.
EVENT_TEXT_SECONDS = 2 * 24 * 3600


def calendar_ics(
    *,
    name: str | None,
    lessons: Sequence[Lesson],
    zone: ZoneInfo,
    school_name: str,
    lesson_url: Callable[[Lesson], str],
    first_day: date,
    last_day: date,
) -> str:
    """A calendar of `lessons` as iCalendar text, its times in `zone` with that zone's definition for the whole years
    around [first_day, last_day], so both its standard and daylight parts are present. A subscription has a `name` and
    a refresh interval; a file (name None: an email's attachment, a download) has neither, so a calendar app adds its
    event to a calendar the person has rather than opening the file as a calendar of its own.

    Every line is icalendar's. Serializing is its slow part (about a millisecond an event, most of it folding long
    lines), so each event's text is made once per version of what it shows and kept in the cache under a hash of all
    of it (`_event_key`): a teacher's half-year rebuilt after one lesson changed serializes that one lesson."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name is not None:
        calendar.add("name", name)
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", zone.key)
        calendar.add("refresh-interval", vDuration(REFRESH_INTERVAL), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))
    calendar.add_component(
        Timezone.from_tzinfo(
            zone, tzid=zone.key, first_date=date(first_day.year, 1, 1), last_date=date(last_day.year + 1, 1, 1)
        )
    )
    head = calendar.to_ical()
    events = _event_texts(lessons=lessons, zone=zone, school_name=school_name, lesson_url=lesson_url)
    return (head.removesuffix(CALENDAR_END) + b"".join(events) + CALENDAR_END).decode()


def _event_key(lesson: Lesson, *, zone: ZoneInfo, school_name: str, url: str) -> str:
    """Everything `lesson_event` prints of the lesson, hashed: a change to any of it is another key."""
    shown = (
        EVENT_FORMAT,
        lesson.uid,
        lesson.revision,
        lesson.revised_at,
        lesson.created_at,
        lesson.start_at,
        lesson.end_at,
        lesson.kind,
        lesson.status,
        lesson.student.first_name,
        lesson.student.instrument.name,
        str(lesson.teacher),
        lesson.room.name if lesson.room_id else "",
        zone.key,
        school_name,
        url,
    )
    return "calendar-event:" + hashlib.sha256(repr(shown).encode()).hexdigest()


def _event_texts(
    *, lessons: Sequence[Lesson], zone: ZoneInfo, school_name: str, lesson_url: Callable[[Lesson], str]
) -> list[bytes]:
    urls = [lesson_url(lesson) for lesson in lessons]
    keys = [
        _event_key(lesson, zone=zone, school_name=school_name, url=url)
        for lesson, url in zip(lessons, urls, strict=True)
    ]
    kept = cache.get_many(keys)
    made = {
        key: lesson_event(lesson=lesson, zone=zone, school_name=school_name, url=url).to_ical()
        for lesson, url, key in zip(lessons, urls, keys, strict=True)
        if key not in kept
    }
    if made:
        cache.set_many(made, EVENT_TEXT_SECONDS)
    return [kept.get(key) or made[key] for key in keys]
