"""Attendance reminders (issue 15 §4): a lesson still without an outcome a day after it ended earns its teacher one
email; while any stay unmarked, the teacher gets one digest a local day listing them, with the link to /teach/.

Run hourly by django-q2 (`scheduling.tasks.attendance_reminders`, migration 0011), any number of times: every email
carries a dedupe key (the lesson; the teacher and the local day), so each is queued once, ever.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta

from django.utils import timezone

from cedarheights.emails import email_keys_used, email_queue
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson
from scheduling.selectors import lessons_unmarked, local_midnight

REMIND_AFTER = timedelta(hours=24)
# A lesson's own email goes within a day of falling due. Older ones (the worker was down for days, or lessons from
# before reminders existed) are listed in the digest only: a teacher never finds a pile of single emails.
OWN_EMAIL_WITHIN = timedelta(hours=24)
# The day's digest goes with the first run from this local hour on, not in the night.
DIGEST_FROM = time(7)
# Lessons one digest lists; it counts the rest, and /teach/ lists them all.
DIGEST_MOST = 30


def unmarked_email_key(lesson: Lesson) -> str:
    return f"attendance-unmarked:{lesson.pk}"


def digest_email_key(teacher_id: int, day) -> str:
    return f"attendance-digest:{teacher_id}:{day.isoformat()}"


def attendance_reminders_send(*, now: datetime | None = None) -> int:
    """Queue what is due at `now`: each lesson's own reminder, then the day's digests. The number of emails queued.
    Teachers no longer active are left out (the owner's dashboard still counts their lessons)."""
    now = now or timezone.now()
    zone = school_settings_get().zone
    due = lessons_unmarked(older_than=REMIND_AFTER, now=now).filter(teacher__active=True)
    fresh = list(due.filter(end_at__gte=now - REMIND_AFTER - OWN_EMAIL_WITHIN))
    queued = 0
    done = email_keys_used(unmarked_email_key(lesson) for lesson in fresh)
    for lesson in fresh:
        if unmarked_email_key(lesson) not in done:
            queued += _send(
                lesson.teacher, "attendance_unmarked", unmarked_email_key(lesson), lesson, {"lesson": lesson}, zone
            )
    local_now = now.astimezone(zone)
    if local_now.time() < DIGEST_FROM:
        return queued
    today = local_now.date()
    # The digest follows a lesson's own email: it lists the lessons that fell due before today.
    earlier = due.filter(end_at__lt=local_midnight(today, zone) - REMIND_AFTER)
    by_teacher: dict[int, list[Lesson]] = defaultdict(list)
    for lesson in earlier:
        by_teacher[lesson.teacher_id].append(lesson)
    done = email_keys_used(digest_email_key(teacher_id, today) for teacher_id in by_teacher)
    for teacher_id, lessons in by_teacher.items():
        key = digest_email_key(teacher_id, today)
        if key not in done:
            listed = {"lessons": lessons[:DIGEST_MOST], "more": max(len(lessons) - DIGEST_MOST, 0)}
            queued += _send(lessons[0].teacher, "attendance_digest", key, None, {**listed, "total": len(lessons)}, zone)
    return queued


def _send(teacher, template: str, key: str, related: Lesson | None, context: dict, zone) -> int:
    log = email_queue(
        to=teacher.user.email,
        template=template,
        related=related or teacher,
        dedupe_key=key,
        context={**context, "teacher": teacher, "zone": zone},
    )
    return int(log is not None)
