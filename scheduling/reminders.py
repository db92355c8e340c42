"""Reminder emails (issue 16 §3), in the school's zone, each one a kind a person may turn off (accounts'
`ReminderPreference`; change notices are not reminders: scheduling/change_notices.py):

- the evening before, from the owner's `reminder_time` until local midnight: each parent one email listing all of the
  family's lessons of the next local day (every child's), each active teacher their next day's lessons; nobody
  without lessons that day gets one;
- six hours before a lesson's free-cancellation window closes (on the school's clock, as `cancellation_notice_given`
  counts), each parent of its family a nudge listing every lesson whose window closes that local day and is still
  open; none for a lesson booked after its nudge was due, and none while the owner has them off.

Run every 15 minutes by django-q2 (`scheduling.tasks.reminders`, migration 0015), any number of times, also after a
worker outage: each email carries a dedupe key (the person and the day), so it is queued once, ever; a run after
its moment has passed (after midnight, after the window closed) sends nothing late.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from django.utils import timezone

from accounts.models import ReminderPreference, User
from accounts.selectors import reminder_wanted, reminders_turned_off
from cedarheights.emails import email_consent_check, email_keys_used, email_queue
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson
from scheduling.selectors import cancellation_notice_given, cancellation_window_closes, lessons_of_days, local_midnight
from scheduling.transitions import STILL_TO_COME

Kind = ReminderPreference.Kind

NUDGE_BEFORE = timedelta(hours=6)
# The school's clock and the time elapsed differ by the hour a DST change moves the clock: ranges read by the
# clock are widened by it before the exact test.
DST_HOUR = timedelta(hours=1)
# The lessons a cancellation with notice earns a make-up credit for (enrollment's credit rules): a weekly lesson
# earns one, a make-up gives its credit back; a demo or a drop-in has no window to remind of.
CREDIT_KINDS = (Lesson.Kind.REGULAR, Lesson.Kind.MAKEUP)


# Each reminder's email and the kind of reminder a person turns off to stop it.
REMINDER_TEMPLATES = {
    "lessons_tomorrow": Kind.LESSONS_TOMORROW,
    "teaching_tomorrow": Kind.TEACHING_TOMORROW,
    "cancel_window": Kind.CANCEL_WINDOW,
}


def _still_wanted(log: EmailLog, *, kind: str) -> bool:
    """A reminder queued before its recipient turned its kind off is not sent."""
    return reminder_wanted(kind=kind, email=log.recipient)


for _template, _kind in REMINDER_TEMPLATES.items():
    email_consent_check(_template)(partial(_still_wanted, kind=_kind))


def lessons_tomorrow_key(user_id: int, day: date) -> str:
    return f"lessons-tomorrow:{user_id}:{day.isoformat()}"


def teaching_tomorrow_key(user_id: int, day: date) -> str:
    return f"teaching-tomorrow:{user_id}:{day.isoformat()}"


def cancel_window_key(user_id: int, day: date) -> str:
    return f"cancel-window:{user_id}:{day.isoformat()}"


@dataclass(frozen=True)
class ListedLesson:
    """A lesson in a family's reminder, with the moment a cancellation stops earning a make-up credit (None: that
    moment has passed, or the lesson earns none)."""

    lesson: Lesson
    cancel_by: datetime | None


def reminders_send(*, now: datetime | None = None) -> int:
    """Queue every reminder due at `now`; the number of emails queued."""
    now = now or timezone.now()
    return lessons_tomorrow_send(now=now) + teaching_tomorrow_send(now=now) + cancel_window_nudges_send(now=now)


def _evening_of(now: datetime) -> date | None:
    """The day the evening's reminders are about: tomorrow, once the school's clock shows the reminder time; None
    before it."""
    school = school_settings_get()
    local_now = now.astimezone(school.zone)
    if local_now.time() < school.reminder_time:
        return None
    return local_now.date() + timedelta(days=1)


def _cancel_by(lesson: Lesson, now: datetime) -> datetime | None:
    if lesson.kind not in CREDIT_KINDS or not cancellation_notice_given(start_at=lesson.start_at, now=now):
        return None
    return cancellation_window_closes(start_at=lesson.start_at)


# Someone to remind: the person, their email's dedupe key, and the lessons it lists.
Reminder = tuple[User, str, list[Lesson]]


def _to_remind(kind: str, reminders: list[Reminder]) -> list[Reminder]:
    """Of the reminders of `kind`, those to queue now: to an active person who has not turned `kind` off, not queued
    under their key yet. Two queries, however many people."""
    reminders = [reminder for reminder in reminders if reminder[0].is_active]
    off = reminders_turned_off(kind=kind, user_ids={person.pk for person, _, _ in reminders})
    sent = email_keys_used(key for _, key, _ in reminders)
    return [(person, key, lessons) for person, key, lessons in reminders if person.pk not in off and key not in sent]


def lessons_tomorrow_send(*, now: datetime) -> int:
    """Each parent of a family with lessons still to come tomorrow: one email listing them all (every child's)."""
    day = _evening_of(now)
    if day is None:
        return 0
    lessons = (
        lessons_of_days(teacher_id=None, first_day=day, last_day=day)
        .filter(outcome=STILL_TO_COME)
        .select_related("student__family")
        .prefetch_related("student__family__parents")
    )
    by_family: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_family[lesson.student.family_id].append(lesson)
    reminders = [
        (parent, lessons_tomorrow_key(parent.pk, day), family_lessons)
        for family_lessons in by_family.values()
        for parent in family_lessons[0].student.family.parents.all()
    ]
    zone = school_settings_get().zone
    queued = 0
    for parent, key, family_lessons in _to_remind(Kind.LESSONS_TOMORROW, reminders):
        listed = [ListedLesson(lesson, _cancel_by(lesson, now)) for lesson in family_lessons]
        context = {"parent": parent, "day": day, "listed": listed, "zone": zone}
        queued += _queue(parent, "lessons_tomorrow", key, related=family_lessons[0].student.family, context=context)
    return queued


def teaching_tomorrow_send(*, now: datetime) -> int:
    """Each active teacher with lessons still to come tomorrow: their agenda."""
    day = _evening_of(now)
    if day is None:
        return 0
    lessons = lessons_of_days(teacher_id=None, first_day=day, last_day=day).filter(
        outcome=STILL_TO_COME, teacher__active=True
    )
    by_teacher: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in lessons:
        by_teacher[lesson.teacher.user_id].append(lesson)
    reminders = [
        (agenda[0].teacher.user, teaching_tomorrow_key(user_id, day), agenda) for user_id, agenda in by_teacher.items()
    ]
    zone = school_settings_get().zone
    queued = 0
    for user, key, agenda in _to_remind(Kind.TEACHING_TOMORROW, reminders):
        context = {"teacher": user, "day": day, "lessons": agenda, "zone": zone}
        queued += _queue(user, "teaching_tomorrow", key, related=agenda[0].teacher, context=context)
    return queued


def nudge_due_at(lesson: Lesson) -> datetime:
    """When the lesson's nudge is due: six hours on the school's clock before its window closes (an instant)."""
    closes = cancellation_window_closes(start_at=lesson.start_at)
    return (closes.replace(tzinfo=None) - NUDGE_BEFORE).replace(tzinfo=closes.tzinfo).astimezone(UTC)


def _nudgeable(lesson: Lesson, now: datetime) -> bool:
    """Its window still open at `now`, and booked before its nudge was due (one booked inside the nudge's hours was
    booked knowing them)."""
    return cancellation_notice_given(start_at=lesson.start_at, now=now) and lesson.created_at <= nudge_due_at(lesson)


def _credit_lessons_to_come():
    return Lesson.objects.filter(outcome=STILL_TO_COME, kind__in=CREDIT_KINDS).select_related(
        "student__family", "student__instrument", "teacher__user", "room"
    )


def cancel_window_nudges_send(*, now: datetime) -> int:
    """Each parent of a family with a lesson whose nudge is due: one email per local day of closing, listing every
    lesson of the family whose window closes that day and is still open."""
    school = school_settings_get()
    if not school.cancel_window_reminder or not school.cancellation_notice_hours:
        return 0
    zone, notice = school.zone, timedelta(hours=school.cancellation_notice_hours)
    # Windows closing within the nudge's six hours: their lessons start notice hours after that, give or take DST.
    near = _credit_lessons_to_come().filter(
        start_at__gt=now + notice - DST_HOUR, start_at__lte=now + notice + NUDGE_BEFORE + DST_HOUR
    )
    due = [lesson for lesson in near if nudge_due_at(lesson) <= now and _nudgeable(lesson, now)]
    if not due:
        return 0
    closing = {
        (lesson.student.family_id, cancellation_window_closes(start_at=lesson.start_at).date()) for lesson in due
    }
    last_day = max(day for _, day in closing)
    same_days = _credit_lessons_to_come().filter(
        student__family_id__in={family_id for family_id, _ in closing},
        start_at__gt=now,
        start_at__lt=local_midnight(last_day + timedelta(days=1), zone) + notice + DST_HOUR,
    )
    closing_together: dict[tuple[int, date], list[Lesson]] = defaultdict(list)
    for lesson in same_days.prefetch_related("student__family__parents").order_by("start_at", "pk"):
        family_day = (lesson.student.family_id, cancellation_window_closes(start_at=lesson.start_at).date())
        if family_day in closing and _nudgeable(lesson, now):
            closing_together[family_day].append(lesson)
    reminders = [
        (parent, cancel_window_key(parent.pk, day), lessons)
        for (_, day), lessons in closing_together.items()
        for parent in lessons[0].student.family.parents.all()
    ]
    queued = 0
    for parent, key, lessons in _to_remind(Kind.CANCEL_WINDOW, reminders):
        listed_lessons = [ListedLesson(lesson, _cancel_by(lesson, now)) for lesson in lessons]
        context = {"parent": parent, "listed": listed_lessons, "zone": zone}
        queued += _queue(parent, "cancel_window", key, related=lessons[0].student.family, context=context)
    return queued


def _queue(person, template: str, key: str, *, related, context: dict) -> int:
    log = email_queue(to=person.email, template=template, related=related, dedupe_key=key, context=context)
    return int(log is not None)
