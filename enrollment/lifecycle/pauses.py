"""A vacation pause: no lessons and no tuition from a day until a resume date. Its lessons are released (the times
go back to the teachers) or kept, as the school's setting or the owner says; billing pauses Stripe's collection
until the resume date (`enrollment_paused`). Stripe's pause has no start date, so billing acts only once the pause
has begun: a pause made ahead is announced again on its first day by the daily job `pauses_begin_due`. Stripe
resumes collection by itself; the daily job `pauses_resume_due` mirrors it. The owner may end a pause early
(`enrollment_pause_end`).

Not the PAUSED status (`enrollment_pause_unpaid`, tuition unpaid): an enrollment on vacation stays active."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from cedarheights.emails import email_parents
from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from enrollment.errors import NotActive, PauseNotLive, PauseOverlaps
from enrollment.lifecycle.lessons import enrollment_teachers, lessons_release, lessons_to_come, teacher_email
from enrollment.models import Enrollment, EnrollmentPause
from enrollment.signals import enrollment_pause_ended, enrollment_paused

Lessons = EnrollmentPause.Lessons


def _locked_active(enrollment: Enrollment) -> Enrollment:
    enrollment = (
        Enrollment.objects.select_for_update(of=("self",)).select_related("student__teacher").get(pk=enrollment.pk)
    )
    if enrollment.status != Enrollment.Status.ACTIVE:
        raise NotActive(f"{enrollment.student}'s enrollment is {enrollment.get_status_display().lower()}.")
    return enrollment


LONGEST_PAUSE = timedelta(days=92)  # a summer


def _pause_dates_validate(*, enrollment: Enrollment, starts_on: date, resumes_on: date) -> None:
    if starts_on < school_today():
        raise InvalidInput("A pause starts today or later.", fields={"starts_on": ["Today or later."]})
    if resumes_on <= starts_on:
        raise InvalidInput("Lessons resume after the pause starts.", fields={"resumes_on": ["After the start."]})
    if resumes_on > starts_on + LONGEST_PAUSE:
        # A longer absence is a withdrawal: a pause keeps the child's weekly time for them, and tuition stopped.
        raise InvalidInput(
            f"A vacation pause lasts at most {LONGEST_PAUSE.days} days: for longer, withdraw and enroll again.",
            fields={"resumes_on": [f"On or before {starts_on + LONGEST_PAUSE:%-d %b %Y}."]},
        )
    if enrollment.ends_on is not None and starts_on > enrollment.ends_on:
        raise InvalidInput(
            f"The last lesson is on {enrollment.ends_on:%-d %b %Y}: there is nothing to pause after it.",
            fields={"starts_on": [f"On or before {enrollment.ends_on:%-d %b %Y}."]},
        )


@transaction.atomic
def enrollment_pause(
    *, actor, enrollment: Enrollment, starts_on: date, resumes_on: date, release_lessons: bool | None = None
) -> EnrollmentPause:
    """Pause an active enrollment from `starts_on` until `resumes_on` (the first day back). Its lessons in between
    are released, or kept (`release_lessons`; None: the school's `pause_lessons` setting). The family and the
    teacher are emailed once; billing pauses collection on commit when it starts today, else on its first day
    (`pauses_begin_due`). Two pauses of one enrollment never overlap (the
    database's exclusion constraint has the last word)."""
    enrollment = _locked_active(enrollment)
    _pause_dates_validate(enrollment=enrollment, starts_on=starts_on, resumes_on=resumes_on)
    if release_lessons is None:
        release_lessons = school_settings_get().pause_lessons == Lessons.RELEASE
    pause = EnrollmentPause(
        enrollment=enrollment,
        starts_on=starts_on,
        resumes_on=resumes_on,
        lessons=Lessons.RELEASE if release_lessons else Lessons.KEEP,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        began_at=timezone.now() if starts_on <= school_today() else None,
    )
    try:
        with transaction.atomic():
            pause.save()
    except IntegrityError as error:
        if getattr(getattr(error.__cause__, "diag", None), "constraint_name", None) != "enrollment_pause_no_overlap":
            raise
        raise PauseOverlaps(f"{enrollment.student} is already on a vacation pause on some of those days.") from error
    if release_lessons:
        inside = lessons_to_come(enrollment=enrollment, from_day=starts_on, before_day=resumes_on)
        pause.lessons_released = lessons_release(lessons=inside, reason=f"Vacation until {resumes_on:%-d %b %Y}")
        pause.save(update_fields=["lessons_released"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=pause,
        changes={"vacation": [None, {"from": starts_on.isoformat(), "resumes": resumes_on.isoformat()}]},
    )
    _pause_emails(pause=pause, template="enrollment_vacation_paused")
    enrollment_paused.send(sender=Enrollment, enrollment=enrollment, pause=pause)
    return pause


def _pause_emails(*, pause: EnrollmentPause, template: str) -> None:
    context = {"pause": pause, "enrollment": pause.enrollment, "student": pause.enrollment.student}
    key = f"{template}:{pause.pk}"
    email_parents(
        family=pause.enrollment.student.family,
        template=template,
        related=pause,
        dedupe_key=key,
        context={**context, "for_family": True},
    )
    for teacher in enrollment_teachers(enrollment=pause.enrollment):
        teacher_email(teacher=teacher, template=template, context=context, dedupe_key=key, related=pause)


def _over(*, pause: EnrollmentPause, on: date, actor) -> None:
    pause.ended_on, pause.ended_at = on, timezone.now()
    pause.ended_by = actor if actor is not None and actor.is_authenticated else None
    pause.save(update_fields=["ended_on", "ended_at", "ended_by"])


@transaction.atomic
def enrollment_pause_end(*, actor, pause: EnrollmentPause) -> EnrollmentPause:
    """The owner ends a pause before its resume date: lessons and tuition resume today (a pause not begun yet is
    called off). Lessons it released stay released; billing resumes collection on commit; the family and teacher
    are told once."""
    pause = (
        EnrollmentPause.objects.select_for_update(of=("self",)).select_related("enrollment__student").get(pk=pause.pk)
    )
    if not pause.live:
        raise PauseNotLive("This vacation pause is over already.")
    today = school_today()
    _over(pause=pause, on=max(min(today, pause.resumes_on), pause.starts_on), actor=actor)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=pause,
        changes={"ended_on": [pause.resumes_on.isoformat(), pause.ended_on.isoformat()]},
    )
    _pause_emails(pause=pause, template="enrollment_vacation_ended")
    enrollment_pause_ended.send(sender=Enrollment, enrollment=pause.enrollment, pause=pause)
    return pause


def pauses_begin_due(*, today: date | None = None) -> int:
    """The daily job: each pause made ahead whose first day has come begins, and `enrollment_paused` is sent again
    so billing pauses Stripe's collection now (Stripe's pause cannot wait for a start date). `began_at` marks it
    told: each pause begins once, each in its own transaction, so running the job again sends nothing."""
    today = today or school_today()
    begun = 0
    due = EnrollmentPause.objects.filter(
        ended_at__isnull=True, began_at__isnull=True, starts_on__lte=today, resumes_on__gt=today
    )
    for pause_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            locked = EnrollmentPause.objects.select_for_update(of=("self",)).select_related("enrollment")
            pause = locked.get(pk=pause_id)
            if pause.began_at is not None or not pause.live:
                continue
            pause.began_at = timezone.now()
            pause.save(update_fields=["began_at"])
            enrollment_paused.send(sender=Enrollment, enrollment=pause.enrollment, pause=pause)
            begun += 1
    return begun


def pauses_resume_due(*, today: date | None = None) -> int:
    """The daily job: each live pause whose resume date has come is over (Stripe resumed collection itself at the
    resume date's midnight). Each in its own transaction; running it again changes nothing."""
    today = today or school_today()
    resumed = 0
    for pause_id in EnrollmentPause.objects.filter(ended_at__isnull=True, resumes_on__lte=today).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            pause = EnrollmentPause.objects.select_for_update().get(pk=pause_id)
            if pause.live:
                _over(pause=pause, on=pause.resumes_on, actor=None)
                resumed += 1
    return resumed


def pause_live_get(*, enrollment: Enrollment, on: date | None = None) -> EnrollmentPause | None:
    """The vacation pause the enrollment is on, or will be on, from `on` (today): the one the portal shows."""
    on = on or school_today()
    return enrollment.pauses.filter(ended_at__isnull=True, resumes_on__gt=on).order_by("starts_on").first()
