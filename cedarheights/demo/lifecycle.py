"""The demo school's enrollment lifecycle (issue 17), told through its services as the owner would: Ewan is on a
vacation pause from next week (his lessons in it released), Sofia's family gave notice today (her last lesson
shown in the portal and the admin), and Ada's weekly lesson moves to another time of her teacher's from two weeks
on. Each part looks for what it made first, so seeding again changes nothing."""

import uuid
from datetime import date, datetime, time, timedelta

from accounts.models import User
from cedarheights.demo.school import ADMIN_EMAIL
from cedarheights.errors import DomainError
from enrollment.lifecycle.changes import enrollment_change, enrollment_change_preview
from enrollment.lifecycle.pauses import enrollment_pause
from enrollment.lifecycle.withdrawals import enrollment_withdraw
from enrollment.models import Enrollment, EnrollmentChange
from scheduling.models import WeeklyAvailability, WeeklyLesson

ON_VACATION, WITHDRAWING, CHANGED = "Ewan", "Sofia", "Ada"
CHANGE_KEY = uuid.UUID("6f1d3c52-2b7e-4a55-9a51-0c0ffee00017")


def _enrollment(first_name: str) -> Enrollment | None:
    return (
        Enrollment.objects.filter(student__first_name=first_name, status=Enrollment.Status.ACTIVE)
        .select_related("student")
        .first()
    )


def vacation_give(*, today: date, owner: User) -> None:
    enrollment = _enrollment(ON_VACATION)
    if enrollment is None or enrollment.pauses.exists():
        return
    enrollment_pause(
        actor=owner, enrollment=enrollment, starts_on=today + timedelta(days=7), resumes_on=today + timedelta(days=21)
    )


def notice_give(*, today: date, owner: User) -> None:
    enrollment = _enrollment(WITHDRAWING)
    if enrollment is None or enrollment.withdrawal_given_on is not None:
        return
    enrollment_withdraw(actor=owner, enrollment=enrollment, notice_given_on=today)


def _other_times(weekly: WeeklyLesson) -> list[tuple[int, time]]:
    """Her teacher's other half hours, each weekly window's start first."""
    times = []
    for window in WeeklyAvailability.objects.filter(teacher_id=weekly.teacher_id).order_by("weekday", "start_time"):
        at = datetime.combine(date.min, window.start_time)
        while (at + timedelta(minutes=weekly.minutes)).time() <= window.end_time and at.date() == date.min:
            if (window.weekday, at.time()) != (weekly.weekday, weekly.start_time):
                times.append((window.weekday, at.time()))
            at += timedelta(minutes=30)
    return times


def weekly_time_change(*, today: date, owner: User) -> None:
    """The first of the teacher's other times the preview finds free in every week becomes Ada's from two weeks on."""
    enrollment = _enrollment(CHANGED)
    if enrollment is None or EnrollmentChange.objects.filter(idempotency_key=CHANGE_KEY).exists():
        return
    weekly = WeeklyLesson.objects.filter(student_id=enrollment.student_id, ended_on__isnull=True).first()
    if weekly is None:
        return
    effective_on = today + timedelta(days=14)
    for weekday, at in _other_times(weekly)[:12]:
        try:
            preview = enrollment_change_preview(
                enrollment=enrollment, effective_on=effective_on, weekday=weekday, start_time=at
            )
        except DomainError:
            return
        if preview.possible:
            enrollment_change(
                actor=owner,
                enrollment=enrollment,
                effective_on=effective_on,
                weekday=weekday,
                start_time=at,
                idempotency_key=CHANGE_KEY,
            )
            return


def lifecycle_tell(*, today: date) -> None:
    owner = User.objects.get(email=ADMIN_EMAIL)
    vacation_give(today=today, owner=owner)
    notice_give(today=today, owner=owner)
    weekly_time_change(today=today, owner=owner)
