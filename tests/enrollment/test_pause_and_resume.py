"""The compensating services billing calls when tuition stays unpaid, and when it is paid after all."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from billing.models import TuitionSubscription
from cedarheights.models import AuditEvent
from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from enrollment.services import enrollment_pause_unpaid, enrollment_resume_paid
from scheduling.models import Lesson
from scheduling.services import lesson_create, lesson_status_change
from tests.billing.stripe_events import event, sign
from tests.factories import EnrollmentFactory, EnrollmentInputFactory, UserFactory

pytestmark = pytest.mark.django_db
UNPAID_REASON = "Enrollment paused: tuition unpaid"


@pytest.fixture
def booked(school_ready) -> Enrollment:
    """Lucia, enrolled by the owner: a demo lesson, then her weekly lesson for the rest of the term; and a weekly
    lesson of last week, before she enrolled online."""
    form = EnrollmentInputFactory(source=Enrollment.Source.ADMIN, payment_method_id="")
    [enrollment] = enrollment_submit(form=form, idempotency_key=uuid.uuid4())
    assert enrollment.status == Enrollment.Status.ACTIVE
    last_week = enrollment.demo_lesson.start_at - timedelta(days=7)
    lesson_create(
        teacher=school_ready["teacher"],
        student=enrollment.student,
        start_at=last_week,
        end_at=last_week + timedelta(minutes=30),
        check_availability=False,
    )
    return enrollment


def future_weekly(enrollment: Enrollment):
    return Lesson.objects.filter(student=enrollment.student, kind=Lesson.Kind.REGULAR, start_at__gt=timezone.now())


def lessons_as_they_stand(enrollment: Enrollment) -> list[tuple]:
    rows = Lesson.objects.filter(student=enrollment.student).order_by("pk")
    return list(rows.values_list("pk", "status", "cancelled_at", "cancellation_reason"))


def test_pausing_cancels_the_future_weekly_lessons_so_the_slot_is_offered_again_and_keeps_the_others(booked):
    weekly = list(future_weekly(booked).values_list("pk", flat=True))
    assert weekly

    enrollment_pause_unpaid(enrollment_id=booked.pk)

    assert Enrollment.objects.get(pk=booked.pk).status == Enrollment.Status.PAUSED
    freed = Lesson.objects.filter(pk__in=weekly)
    assert {(lesson.status, lesson.cancellation_reason) for lesson in freed} == {
        (Lesson.Status.CANCELLED, UNPAID_REASON)
    }
    assert Lesson.objects.get(pk=booked.demo_lesson_id).status == Lesson.Status.SCHEDULED
    past = Lesson.objects.get(student=booked.student, kind=Lesson.Kind.REGULAR, start_at__lt=timezone.now())
    assert past.status == Lesson.Status.SCHEDULED


def test_pausing_again_changes_nothing_not_even_a_lesson_the_owner_booked_again_since(booked):
    """Made to fail first: without its "only an active enrollment" guard, the second call (Stripe's event after
    the last retry) cancelled the lesson the owner had just booked again."""
    enrollment_pause_unpaid(enrollment_id=booked.pk)
    kept = future_weekly(booked).order_by("start_at").first()
    lesson_status_change(lesson=kept, status=Lesson.Status.SCHEDULED, actor=UserFactory(role=User.Role.ADMIN))
    after_the_first, audit_rows = lessons_as_they_stand(booked), AuditEvent.objects.count()

    enrollment_pause_unpaid(enrollment_id=booked.pk)

    assert lessons_as_they_stand(booked) == after_the_first
    assert Lesson.objects.get(pk=kept.pk).status == Lesson.Status.SCHEDULED
    assert AuditEvent.objects.count() == audit_rows
    assert Enrollment.objects.get(pk=booked.pk).status == Enrollment.Status.PAUSED


@pytest.mark.parametrize("status", [Enrollment.Status.WAITLISTED, Enrollment.Status.CANCELLED])
def test_an_enrollment_that_is_not_active_is_not_paused_and_keeps_its_lessons(booked, status):
    Enrollment.objects.filter(pk=booked.pk).update(status=status)
    before = lessons_as_they_stand(booked)

    enrollment_pause_unpaid(enrollment_id=booked.pk)

    assert Enrollment.objects.get(pk=booked.pk).status == status
    assert lessons_as_they_stand(booked) == before


def test_resuming_reactivates_a_paused_enrollment_without_booking_its_freed_lessons_back(booked):
    enrollment_pause_unpaid(enrollment_id=booked.pk)
    paused_lessons = lessons_as_they_stand(booked)

    enrollment_resume_paid(enrollment_id=booked.pk)

    assert Enrollment.objects.get(pk=booked.pk).status == Enrollment.Status.ACTIVE
    assert lessons_as_they_stand(booked) == paused_lessons  # the owner offers a slot again


@pytest.mark.parametrize(
    "status",
    [Enrollment.Status.PENDING, Enrollment.Status.WAITLISTED, Enrollment.Status.CANCELLED, Enrollment.Status.COMPLETED],
)
def test_resuming_leaves_an_enrollment_that_was_not_paused_as_it_is(school, status):
    enrollment = EnrollmentFactory(status=status)

    enrollment_resume_paid(enrollment_id=enrollment.pk)

    assert Enrollment.objects.get(pk=enrollment.pk).status == status


def test_stripe_marking_a_subscription_unpaid_pauses_the_enrollment_and_frees_its_weekly_slot(
    booked, django_capture_on_commit_callbacks
):
    """Before `enrollment_pause_unpaid`, this road paused the enrollment and left its weekly lessons booked: only
    billing's last failed retry freed them."""
    TuitionSubscription.objects.create(
        family=booked.student.family,
        tuition_plan=booked.tuition_plan,
        enrollment=booked,
        stripe_subscription_id="sub_unpaid_1",
        status=TuitionSubscription.Status.ACTIVE,
    )
    unpaid = {"id": "sub_unpaid_1", "object": "subscription", "status": "unpaid"}
    payload = event("customer.subscription.updated", unpaid, event_id="evt_unpaid_1", created=int(time.time()))

    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            "/billing/stripe/webhook/",
            payload,
            content_type="application/json",
            headers={"Stripe-Signature": sign(payload)},
        )

    assert response.status_code == 200
    assert Enrollment.objects.get(pk=booked.pk).status == Enrollment.Status.PAUSED
    assert not future_weekly(booked).filter(status=Lesson.Status.SCHEDULED).exists()
    assert any(m.subject.startswith("Tuition stopped") for m in mail.outbox)
