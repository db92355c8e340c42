"""Calendar files (.ics) for lessons: the "add to calendar" link and email attachments. A file holds the lesson as its
family's calendar shows it, made by the feeds' builder (scheduling.calendars): the same UID, summary and local times,
so adding the file and subscribing later give one event, not two."""

from django.utils.text import slugify

from cedarheights.selectors import school_settings_get
from scheduling.calendar_feeds import lesson_page_url
from scheduling.calendars import calendar_ics
from scheduling.models import CalendarFeed, Lesson


def lesson_ics(lesson: Lesson) -> str:
    """One lesson as an iCalendar file, its times in the school's zone (with the zone's definition), linking to the
    family's page of the lesson. The text is escaped by icalendar (RFC 5545), whatever a name holds."""
    school = school_settings_get()
    day = lesson.start_at.astimezone(school.zone).date()
    return calendar_ics(
        name=None,
        lessons=[lesson],
        zone=school.zone,
        school_name=school.name,
        lesson_url=lambda lesson: lesson_page_url(lesson=lesson, scope=CalendarFeed.Scope.FAMILY),
        first_day=day,
        last_day=day,
    )


def lesson_ics_filename(lesson: Lesson) -> str:
    """A file name safe in any header or file system (`demo-lucia.ics`): the child's name, slugged."""
    return f"{slugify(f'{lesson.kind} {lesson.student.first_name}')}.ics"
