"""The demo school's reminders (issue 16), told through the services and the reminder jobs, so the admin's email
log shows each kind: the owner moves Leo's next lesson to tomorrow evening (a change notice to his family and his
teacher), the evening's emails as the 15-minute job sends them at the owner's reminder time (each family's lessons
of tomorrow, each teacher's day), and the next cancellation-window nudge, queued now as the job will send it. Julie
Tremblay has turned the nudges off, so her profile shows a recorded choice. Each part looks for what it made first
(the dedupe keys hold the emails), so seeding again changes nothing."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from accounts.models import ReminderPreference, User
from accounts.selectors import reminders_turned_off
from accounts.services import reminder_preferences_set
from cedarheights.demo.school import ADMIN_EMAIL
from cedarheights.errors import DomainError
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson
from scheduling.reminders import (
    CREDIT_KINDS,
    cancel_window_nudges_send,
    lessons_tomorrow_send,
    nudge_due_at,
    teaching_tomorrow_send,
)
from scheduling.selectors import local_midnight
from scheduling.services import lesson_change

NUDGES_OFF = "julie.tremblay@example.com"
MOVED_CHILD = "Leo"
MOVED_TO = time(18)


def cancel_window_turn_off() -> None:
    parent = User.objects.get(email=NUDGES_OFF)
    reminder_preferences_set(user=parent, choices={ReminderPreference.Kind.CANCEL_WINDOW: False}, actor=parent)


def lesson_move_to_tomorrow(*, today: date) -> None:
    """The owner moves Leo's next lesson to tomorrow at 18:00, outside his teacher's weekly hours by agreement: less
    than 48 hours ahead, so the family and the teacher are emailed at once. A closed day tomorrow moves nothing."""
    zone = school_settings_get().zone
    start = datetime.combine(today + timedelta(days=1), MOVED_TO, tzinfo=zone)
    lessons = Lesson.objects.filter(student__first_name=MOVED_CHILD, outcome="")
    if lessons.filter(start_at=start).exists():
        return
    lesson = lessons.filter(start_at__gt=timezone.now()).order_by("start_at").first()
    if lesson is None:
        return
    try:
        lesson_change(
            lesson=lesson,
            actor=User.objects.get(email=ADMIN_EMAIL),
            check_availability=False,
            start_at=start,
            end_at=start + (lesson.end_at - lesson.start_at),
        )
    except DomainError:
        return  # tomorrow is a holiday, or the time is taken: the demo has no move to show


def evening_reminders_send(*, today: date) -> None:
    school = school_settings_get()
    evening = datetime.combine(today, school.reminder_time, tzinfo=school.zone)
    lessons_tomorrow_send(now=evening)
    teaching_tomorrow_send(now=evening)


def next_nudge_send(*, today: date) -> None:
    """The first nudge due from tomorrow on to a family that has not turned them off, queued as the job will send
    it then (from tomorrow: every demo lesson was booked before it)."""
    from_moment = local_midnight(today + timedelta(days=1), school_settings_get().zone)
    parents = User.objects.filter(family__isnull=False).values_list("pk", flat=True)
    off = reminders_turned_off(kind=ReminderPreference.Kind.CANCEL_WINDOW, user_ids=list(parents))
    lessons = Lesson.objects.filter(
        outcome="", kind__in=CREDIT_KINDS, start_at__gt=from_moment, start_at__lt=from_moment + timedelta(days=14)
    ).prefetch_related("student__family__parents")
    for lesson in lessons.order_by("start_at", "pk"):
        reminded = {parent.pk for parent in lesson.student.family.parents.all()} - off
        if (due_at := nudge_due_at(lesson)) >= from_moment and reminded:
            cancel_window_nudges_send(now=due_at)
            return


def reminders_tell(*, today: date) -> None:
    cancel_window_turn_off()
    lesson_move_to_tomorrow(today=today)
    evening_reminders_send(today=today)
    next_nudge_send(today=today)
