import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from cedarheights.selectors import school_today
from cedarheights.services import record_save
from enrollment.models import Enrollment, PreferredWindow, TuitionPlan
from scheduling.models import Student, WeeklyLesson
from scheduling.services import weekly_slot_free
from scheduling.slots import Window
from scheduling.weekly_lessons import weekly_lesson_end


def tuition_plan_create(**fields: Any) -> TuitionPlan:
    """A plan the school sells, validated as the model states it (billing_sync_catalog puts it on Stripe)."""
    return record_save(TuitionPlan(), fields)


def tuition_plan_update(*, plan: TuitionPlan, **fields: Any) -> TuitionPlan:
    return record_save(plan, fields)


def tuition_plan_delete(*, plan: TuitionPlan) -> None:
    plan.delete()


def tuition_plan_stripe_link(*, plan: TuitionPlan, **stripe_fields) -> TuitionPlan:
    """Billing keeps a plan's Stripe product and price (`stripe_product_id`, `stripe_price_id`, and dj-stripe's
    `djstripe_price`): only the fields given are written."""
    unknown = set(stripe_fields) - {"stripe_product_id", "stripe_price_id", "djstripe_price"}
    if unknown:
        raise TypeError(f"Not a Stripe field of a tuition plan: {', '.join(sorted(unknown))}")
    TuitionPlan.objects.filter(pk=plan.pk).update(**stripe_fields)
    for name, value in stripe_fields.items():
        setattr(plan, name, value)
    return plan


@transaction.atomic(savepoint=False)  # as cedarheights.services.audited_create
def enrollment_create(
    *,
    student: Student,
    instrument_id: int,
    lesson_minutes: int,
    tuition_plan_id: int | None,
    idempotency_key: uuid.UUID,
    windows: Sequence[Window],
    source: str = Enrollment.Source.WEB,
    status: str = Enrollment.Status.PENDING,
    submission_key: uuid.UUID | None = None,
) -> Enrollment:
    """A child's enrollment and the weekly windows in which the family can come: pending, as a submission makes
    it before a teacher is found, or in the `status` the owner already knows (the demo's booked children)."""
    enrollment = Enrollment.objects.create(
        student=student,
        instrument_id=instrument_id,
        lesson_minutes=lesson_minutes,
        tuition_plan_id=tuition_plan_id,
        idempotency_key=idempotency_key,
        submission_key=submission_key,
        source=source,
        status=status,
    )
    PreferredWindow.objects.bulk_create(
        PreferredWindow(enrollment=enrollment, weekday=w.weekday, start_time=w.start_time, end_time=w.end_time)
        for w in windows
    )
    return enrollment


def enrollment_pause_unpaid(*, enrollment_id: int) -> None:
    """The compensating service billing calls when tuition stays unpaid (the last retry failed, or Stripe stopped
    the subscription): an active enrollment pauses, the student's future weekly lessons are released, so the slot
    goes back on offer, and their standing weekly time ends (no later term books it). A second call changes
    nothing."""
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().filter(pk=enrollment_id).first()
        if enrollment is None or enrollment.status != Enrollment.Status.ACTIVE:
            return
        Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.PAUSED)
        weekly_slot_free(student_id=enrollment.student_id, reason="Enrollment paused: tuition unpaid")
        # After the lessons (their teachers and students locked first, as a rollover takes them): no later term
        # books the weekly time.
        for weekly_lesson in WeeklyLesson.objects.filter(student_id=enrollment.student_id, ended_on__isnull=True):
            weekly_lesson_end(weekly_lesson=weekly_lesson, on=school_today())


def enrollment_resume_paid(*, enrollment_id: int) -> None:
    """Billing calls it when a failed payment is recovered: an enrollment it paused is active again (its freed
    weekly slot is not booked back; the owner offers one)."""
    Enrollment.objects.filter(pk=enrollment_id, status=Enrollment.Status.PAUSED).update(status=Enrollment.Status.ACTIVE)
