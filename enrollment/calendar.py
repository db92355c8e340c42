"""Calendar files (.ics) for lessons: the "add to calendar" link and email attachments."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.text import slugify

from scheduling.models import Lesson

STAMP = "%Y%m%dT%H%M%SZ"


def _escape(text: str) -> str:
    """RFC 5545 text: backslash, semicolon, comma and newline escaped."""
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def lesson_ics(lesson: Lesson) -> str:
    """One lesson as an iCalendar event, its times in UTC so every calendar shows them in its own zone."""
    summary = f"{lesson.get_kind_display()} lesson: {lesson.student.first_name} with {lesson.teacher}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Cedar Heights Music Academy//Lessons//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:lesson-{lesson.pk}@cedarheights",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART:{_utc(lesson.start_at)}",
        f"DTEND:{_utc(lesson.end_at)}",
        f"SUMMARY:{_escape(summary)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def lesson_ics_filename(lesson: Lesson) -> str:
    """A file name safe in any header or file system (`demo-lucia.ics`): the child's name, slugged."""
    return f"{slugify(f'{lesson.kind} {lesson.student.first_name}')}.ics"
