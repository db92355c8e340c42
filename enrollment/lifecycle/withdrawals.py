"""A withdrawal with notice (`SchoolSettings.withdrawal_notice_days`, 30 by default): the last lesson is the last
one on or before that many days after notice was given. Lessons after it are released and the weekly time ends
with it, the enrollment's open make-up credits expire with it, and billing stops the subscription after that
month, settling what was paid beyond the last lesson (`enrollment_withdrawn`). The enrollment stays active until
its last lesson has passed; the daily job `withdrawals_complete_due` then cancels it.

Parents give notice in the portal, the owner in the admin, anyone allowed through the API: all call
`enrollment_withdraw`."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Max

from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent, SchoolSettings
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from enrollment.credits import credits_with_balance
from enrollment.errors import AlreadyWithdrawn, NotActive
from enrollment.lifecycle.lessons import (
    enrollment_teachers,
    lessons_release,
    lessons_to_come,
    local_midnight,
    open_weekly_lessons,
    teacher_email,
)
from enrollment.models import Enrollment, MakeupCredit
from enrollment.signals import enrollment_withdrawn
from scheduling.models import Lesson
from scheduling.weekly_lessons import weekly_lesson_end

UnusedLessons = SchoolSettings.UnusedLessons


@dataclass(frozen=True)
class WithdrawalQuote:
    """What notice given on `notice_given_on` means: the deadline (notice + the school's days) and the last lesson
    on or before it (the notice day itself when no lesson is left)."""

    notice_given_on: date
    deadline: date
    last_lesson_on: date
    lessons_left: int


def withdrawal_quote(*, enrollment: Enrollment, notice_given_on: date) -> WithdrawalQuote:
    """The last lesson date of a withdrawal, as the portal shows it before the parent confirms: the child's last
    regular lesson (taught or to come, not cancelled: a closure's week has none) on or before the deadline."""
    deadline = notice_given_on + timedelta(days=school_settings_get().withdrawal_notice_days)
    lessons = Lesson.objects.filter(
        student_id=enrollment.student_id,
        kind=Lesson.Kind.REGULAR,
        start_at__gte=local_midnight(notice_given_on),
        start_at__lt=local_midnight(deadline + timedelta(days=1)),
    ).exclude(status=Lesson.Status.CANCELLED)
    found = lessons.aggregate(last=Max("start_at"))["last"]
    zone = school_settings_get().zone
    last = found.astimezone(zone).date() if found else notice_given_on
    return WithdrawalQuote(
        notice_given_on=notice_given_on, deadline=deadline, last_lesson_on=last, lessons_left=lessons.count()
    )


def _credits_expire_with(*, enrollment: Enrollment, on: date, actor) -> int:
    """Open make-up credits of the enrollment last no longer than its last lesson: the nightly job expires them
    the day after (a teacher's or a closure's then becomes money, as any of theirs unused)."""
    open_credits = credits_with_balance(MakeupCredit.objects.filter(enrollment=enrollment, expires_on__gt=on)).filter(
        balance=1
    )
    cut = 0
    for credit in open_credits.select_for_update(of=("self",)):
        audit_record(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=credit,
            changes={"expires_on": [credit.expires_on.isoformat(), on.isoformat()], "reason": ["", "Withdrawal"]},
        )
        cut += 1
    MakeupCredit.objects.filter(pk__in=[credit.pk for credit in open_credits]).update(expires_on=on)
    return cut


@transaction.atomic
def enrollment_withdraw(
    *, actor, enrollment: Enrollment, notice_given_on: date, unused_lessons: str | None = None
) -> Enrollment:
    """Notice given on `notice_given_on` (today or earlier): the last lesson date is set (`withdrawal_quote`), the
    lessons after it released, the weekly time ended with it, open make-up credits cut to it; parents and teacher
    emailed once with the date; billing stops the subscription and turns lessons paid beyond the last one into a
    credit or a refund (`unused_lessons`; None: the school's setting). Notice is given once."""
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("student__family", "student__teacher")
        .get(pk=enrollment.pk)
    )
    if enrollment.withdrawal_given_on is not None:
        raise AlreadyWithdrawn(
            f"Notice was given on {enrollment.withdrawal_given_on:%-d %b %Y}: the last lesson is on "
            f"{enrollment.ends_on:%-d %b %Y}."
        )
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise NotActive(f"{enrollment.student}'s enrollment is {enrollment.get_status_display().lower()}.")
    today = school_today()
    if notice_given_on > today or notice_given_on < today - timedelta(days=31):
        raise InvalidInput(
            "Notice is given today, or dated back at most a month.", fields={"notice_given_on": ["Not in the future."]}
        )
    unused_lessons = unused_lessons or school_settings_get().withdrawal_unused_lessons
    if unused_lessons not in UnusedLessons.values:
        raise InvalidInput(
            "Unused lessons become a credit or a refund.", fields={"unused_lessons": ["credit or refund"]}
        )
    quote = withdrawal_quote(enrollment=enrollment, notice_given_on=notice_given_on)
    teachers = enrollment_teachers(enrollment=enrollment)
    enrollment.withdrawal_given_on, enrollment.ends_on = notice_given_on, quote.last_lesson_on
    enrollment.save(update_fields=["withdrawal_given_on", "ends_on", "updated_at"])
    after = quote.last_lesson_on + timedelta(days=1)
    released = lessons_release(
        lessons=lessons_to_come(enrollment=enrollment, from_day=after),
        reason=f"Withdrawn: last lesson {quote.last_lesson_on:%-d %b %Y}",
    )
    for weekly_lesson in open_weekly_lessons(enrollment=enrollment):
        weekly_lesson_end(weekly_lesson=weekly_lesson, on=quote.last_lesson_on)
    credits_cut = _credits_expire_with(enrollment=enrollment, on=quote.last_lesson_on, actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=enrollment,
        changes={
            "withdrawal_given_on": [None, notice_given_on.isoformat()],
            "ends_on": [None, quote.last_lesson_on.isoformat()],
            "lessons_released": [None, released],
            "credits_expiring": [None, credits_cut],
            "unused_lessons": [None, unused_lessons],
        },
    )
    context = {"enrollment": enrollment, "student": enrollment.student, "quote": quote}
    key = f"enrollment_withdrawal:{enrollment.pk}"
    email_parents(
        family=enrollment.student.family,
        template="enrollment_withdrawal",
        related=enrollment,
        dedupe_key=key,
        context={**context, "for_family": True},
    )
    for teacher in teachers:
        teacher_email(
            teacher=teacher, template="enrollment_withdrawal", context=context, dedupe_key=key, related=enrollment
        )
    enrollment_withdrawn.send(sender=Enrollment, enrollment=enrollment, unused_lessons=unused_lessons)
    return enrollment


def withdrawals_complete_due(*, today: date | None = None) -> int:
    """The daily job: an active enrollment whose last lesson date has passed is cancelled. Running it again changes
    nothing."""
    today = today or school_today()
    return Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, ends_on__lt=today).update(
        status=Enrollment.Status.CANCELLED
    )
