"""The lessons and people an enrollment's lifecycle acts on: a child's regular lessons between two local days,
released through the scheduling services, and the teachers to tell."""

from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from cedarheights.emails import email_queue
from cedarheights.periods import local_midnight as day_start
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment
from scheduling.models import Lesson, Teacher, WeeklyLesson
from scheduling.outcomes import Outcome
from scheduling.services import lessons_cancel
from scheduling.transitions import STILL_TO_COME


def local_midnight(day: date) -> datetime:
    """The start of a school day (the zone's midnight, DST included), in the school's zone."""
    return day_start(day, school_settings_get().zone)


def lessons_to_come(*, enrollment: Enrollment, from_day: date, before_day: date | None = None) -> QuerySet[Lesson]:
    """The child's regular lessons still to come on local days from `from_day` (until `before_day`, excluded),
    never one that has begun."""
    lessons = Lesson.objects.filter(
        student_id=enrollment.student_id,
        kind=Lesson.Kind.REGULAR,
        outcome=STILL_TO_COME,
        start_at__gte=max(local_midnight(from_day), timezone.now()),
    )
    if before_day is not None:
        lessons = lessons.filter(start_at__lt=local_midnight(before_day))
    return lessons.order_by("start_at")


def lessons_release(*, lessons: QuerySet[Lesson], reason: str) -> int:
    """Give the times back to the teachers (outcome `released`: not taught, charged, paid nor made up). The
    school's own work (`actor=None`); the caller emails the family about it."""
    return lessons_cancel(lessons=lessons, actor=None, outcome=Outcome.RELEASED, reason=reason, family_emailed=True)


def open_weekly_lessons(*, enrollment: Enrollment) -> QuerySet[WeeklyLesson]:
    return WeeklyLesson.objects.filter(student_id=enrollment.student_id, ended_on__isnull=True).select_related(
        "teacher__user", "room"
    )


def enrollment_teachers(*, enrollment: Enrollment) -> list[Teacher]:
    """Who teaches the child: the teachers of their open weekly lessons, else the child's assigned teacher."""
    teachers = {weekly.teacher for weekly in open_weekly_lessons(enrollment=enrollment)}
    if not teachers and enrollment.student.teacher_id:
        teachers = {enrollment.student.teacher}
    return sorted(teachers, key=lambda teacher: teacher.pk)


def teacher_email(*, teacher: Teacher, template: str, context: dict, dedupe_key: str, related) -> None:
    """One email to a teacher, queued once under its key (sent on commit)."""
    email_queue(
        to=teacher.user.email,
        template=template,
        related=related,
        dedupe_key=f"{dedupe_key}:teacher:{teacher.pk}",
        context={**context, "teacher": teacher, "for_family": False},
    )
