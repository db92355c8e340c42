"""Notices of a change close to a lesson (issue 16 §3): a lesson moved, given another teacher, cancelled or back on
while its start (before or after the change) is less than 48 hours away is emailed at once to the family's parents
and to the teacher (both teachers when it changed hands), never to the person who made the change. They are not
reminders and cannot be turned off: a subscribed calendar may take a day to show the change.

The services call `lesson_change_notices_queue` when a lesson's revision rose, with the lesson as it was read
before (`LessonBefore`). A service that emails the family about that very change itself (a family's own
cancellation, a teacher's, a substitute, a closed day) passes `family_emailed=True`: only the teachers are told.
A lesson booked less than 48 hours ahead by someone other than its teacher tells the teacher, once
(`lesson_booked_notice_queue`).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from cedarheights.emails import email_queue
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson, Teacher

# A change to a lesson starting within this long is emailed: a calendar feed may not show it in time.
NOTICE_WITHIN = timedelta(hours=48)


@dataclass(frozen=True)
class LessonBefore:
    """A lesson as it was read before a change: what a notice compares the lesson with."""

    start_at: datetime
    end_at: datetime
    teacher: Teacher
    cancelled: bool

    @classmethod
    def of(cls, lesson: Lesson) -> "LessonBefore":
        return cls(lesson.start_at, lesson.end_at, lesson.teacher, lesson.status == Lesson.Status.CANCELLED)


def _soon(start_at: datetime, now: datetime) -> bool:
    return now < start_at <= now + NOTICE_WITHIN


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %-d %b, %-I:%M %p}"


def lesson_changes_in_words(*, lesson: Lesson, before: LessonBefore, zone: ZoneInfo) -> list[str]:
    """What changed that a family or a teacher must hear of: "moved from Tue 3 Dec, 4:00 PM to Wed 4 Dec, 5:30 PM", "now
    with Priya Raman instead of Marco Bellini", "cancelled: <reason>", "back on". Empty for any other change (a
    room, a kind, an attendance mark)."""
    changes = []
    if lesson.start_at != before.start_at:
        changes.append(f"moved from {_when(before.start_at, zone)} to {_when(lesson.start_at, zone)}")
    elif lesson.end_at != before.end_at:
        was, now = before.end_at.astimezone(zone), lesson.end_at.astimezone(zone)
        changes.append(f"now ends at {now:%-I:%M %p} instead of {was:%-I:%M %p}")
    if lesson.teacher_id != before.teacher.pk:
        changes.append(f"now with {lesson.teacher} instead of {before.teacher}")
    cancelled = lesson.status == Lesson.Status.CANCELLED
    if cancelled and not before.cancelled:
        reason = lesson.cancellation_reason or lesson.get_outcome_display().lower()
        changes.append(f"cancelled: {reason}")
    elif before.cancelled and not cancelled:
        changes.append("back on: it takes place after all")
    return changes


def lesson_change_notices_queue(
    *, lesson: Lesson, before: LessonBefore, actor, family_emailed: bool = False, now: datetime | None = None
) -> int:
    """Email a change to `lesson` (it was `before`) made by `actor` (None: the school's own work), when its start
    before or after lies within the next 48 hours and the change is one people must hear of; the number queued.
    Each person is emailed once per revision of the lesson, so the same change told twice goes once."""
    now = now or timezone.now()
    if not (_soon(before.start_at, now) or _soon(lesson.start_at, now)):
        return 0
    zone = school_settings_get().zone
    changes = lesson_changes_in_words(lesson=lesson, before=before, zone=zone)
    if not changes:
        return 0
    teachers = [lesson.teacher] + ([before.teacher] if before.teacher.pk != lesson.teacher_id else [])
    recipients = [(teacher.user, _teacher_link(lesson, teacher), False) for teacher in teachers]
    if not family_emailed:
        family_link = reverse("family-lesson", args=[lesson.pk])
        recipients = [(parent, family_link, True) for parent in lesson.student.family.parents.all()] + recipients
    queued = 0
    for person, link, for_family in recipients:
        if not person.is_active or (actor is not None and person.pk == actor.pk):
            continue
        key = f"lesson-changed:{lesson.pk}:{lesson.revision}:{person.pk}"
        queued += _notice_queue(lesson, person, link, for_family, changes, zone, dedupe_key=key)
    return queued


def lesson_booked_notice_queue(*, lesson: Lesson, actor, now: datetime | None = None) -> int:
    """Tell the teacher of a lesson just booked by someone else (a family's make-up, the owner) when it starts
    within 48 hours, once. The school's own bookings (`actor` None: an enrollment's demo lesson) are told to the
    teacher in their own email."""
    if actor is None or not _soon(lesson.start_at, now or timezone.now()):
        return 0
    teacher_user = lesson.teacher.user
    if actor.pk == teacher_user.pk or not teacher_user.is_active:
        return 0
    zone = school_settings_get().zone
    kind = "" if lesson.kind == Lesson.Kind.REGULAR else f" ({lesson.get_kind_display().lower()})"
    booked = f"newly booked for {_when(lesson.start_at, zone)}–{lesson.end_at.astimezone(zone):%-I:%M %p}{kind}"
    link = _teacher_link(lesson, lesson.teacher)
    return _notice_queue(lesson, teacher_user, link, False, [booked], zone, dedupe_key=f"lesson-booked:{lesson.pk}")


def _teacher_link(lesson: Lesson, teacher: Teacher) -> str:
    """The lesson's page for its teacher; the week's page for a teacher it was taken from (the lesson is not theirs)."""
    if teacher.pk == lesson.teacher_id:
        return reverse("teach-lesson", args=[lesson.pk])
    return reverse("teach-home")


def _notice_queue(
    lesson: Lesson, person, link: str, for_family: bool, changes: list[str], zone: ZoneInfo, *, dedupe_key: str
) -> int:
    log = email_queue(
        to=person.email,
        template="lesson_changed",
        related=lesson,
        dedupe_key=dedupe_key,
        context={
            "person": person,
            "for_family": for_family,
            "lesson": lesson,
            "changes": changes,
            "link": link,
            "zone": zone,
        },
    )
    return int(log is not None)
