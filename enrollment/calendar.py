"""Calendar files (.ics) for lessons: the "add to calendar" link and email attachments."""

from datetime import UTC

from django.utils import timezone
from django.utils.text import slugify
from icalendar import Calendar, Event

from scheduling.models import Lesson


def lesson_ics(lesson: Lesson) -> str:
    """One lesson as an iCalendar event, its times in UTC so every calendar shows them in its own zone. The text is
    escaped by icalendar (RFC 5545), whatever a name holds."""
    event = Event()
    event.add("uid", f"lesson-{lesson.pk}@cedarheights")
    event.add("dtstamp", timezone.now())
    event.add("dtstart", lesson.start_at.astimezone(UTC))
    event.add("dtend", lesson.end_at.astimezone(UTC))
    event.add("summary", f"{lesson.get_kind_display()} lesson: {lesson.student.first_name} with {lesson.teacher}")
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//Cedar Heights Music Academy//Lessons//EN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    return calendar.to_ical().decode()


def lesson_ics_filename(lesson: Lesson) -> str:
    """A file name safe in any header or file system (`demo-lucia.ics`): the child's name, slugged."""
    return f"{slugify(f'{lesson.kind} {lesson.student.first_name}')}.ics"
