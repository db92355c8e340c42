"""What the reminder tests share: moments on Toronto's wall clock relative to today, lessons booked through the
service, and the emails the log holds."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from cedarheights.models import EmailLog
from scheduling.models import Lesson
from scheduling.services import lesson_create
from tests.factories import ParentFactory
from tests.scheduling.monday import TORONTO


def day_from_today(days: int) -> date:
    return timezone.localdate(timezone=TORONTO) + timedelta(days=days)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """`day` at hour:minute on Toronto's wall clock."""
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def book(
    week, start: datetime, *, student=None, teacher=None, kind=Lesson.Kind.REGULAR, room=None, actor=None
) -> Lesson:
    """A 30-minute lesson of the week's child (or `student`) with the week's teacher (or `teacher`), booked by
    `actor` (None: the school's own work)."""
    return lesson_create(
        teacher=teacher or week.teacher,
        student=student or week.student,
        start_at=start,
        end_at=start + timedelta(minutes=30),
        kind=kind,
        room=room,
        term=week.term,
        check_availability=False,
        actor=actor,
    )


def second_parent(family):
    return ParentFactory(family=family)


def sent(template: str, to: str | None = None) -> list[EmailLog]:
    emails = EmailLog.objects.filter(template=template).order_by("pk")
    return list(emails.filter(recipient=to) if to else emails)
