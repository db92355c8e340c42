"""Our tuition subscriptions hold Stripe's dates, and the owner charges the first month now. (Stripe's own events
in any order: tests/reliability/test_stripe_event_replays.py.)"""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from billing.models import Payment, PaymentFailure, TuitionSubscription
from enrollment.selectors import first_regular_lesson
from tests.billing.enrolled import enroll_two_children
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DECLINES = "4000000000000341"


def test_the_parents_billing_page_names_the_first_regular_lesson_as_the_first_payment(
    school_ready, django_capture_on_commit_callbacks
):
    """Before the fix the page showed the local server's period end (a month after enrolling) once its event
    arrived, and no date before."""
    enrollments = enroll_two_children(django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(enrollments[0].student.family.parents.get())
    page = client.get("/billing/").content.decode()
    for enrollment in enrollments:
        first = timezone.localtime(first_regular_lesson(enrollment=enrollment).start_at)
        assert first.date() > timezone.localdate()
        assert f"next payment {first:%B} {first.day}</p>" in page.replace("\n", "")


def test_the_owner_charges_the_first_month_now_and_sees_a_declined_card_at_once(
    school_ready, django_capture_on_commit_callbacks
):
    """The decline path a new school can reach the day it starts: enroll with the 0341 card, then the
    subscription admin's "Charge the first month now". Before it, a decline waited for the first lesson."""
    enrollment = enroll_two_children(django_capture_on_commit_callbacks, card=DECLINES)[0]
    subscription = TuitionSubscription.objects.get(enrollment=enrollment)
    assert subscription.status == "trialing"
    mail.outbox.clear()
    owner = Client()
    owner.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        answer = owner.post(
            "/admin/billing/tuitionsubscription/",
            {"action": "charge_now", "_selected_action": [subscription.pk]},
            follow=True,
        )

    failure = PaymentFailure.objects.get(payment__stripe_invoice_id__isnull=False)
    assert failure.status == "open" and failure.subscription_id == subscription.pk
    assert failure.payment.status == Payment.Status.FAILED and failure.reason == "Your card was declined."
    retry = timezone.localtime(failure.next_retry_at)
    assert f"declined (Your card was declined.). Next retry {retry:%B} {retry.day}" in answer.content.decode()
    parent = enrollment.student.family.parents.get()
    assert [m.subject for m in mail.outbox if m.to == [parent.email] and "did not go through" in m.subject]
    subscription.refresh_from_db()
    theirs = school_ready["stripe"].request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert subscription.status == theirs["status"] == "past_due"
    assert subscription.current_period_end == datetime.fromtimestamp(theirs["billing_cycle_anchor"], tz=UTC)

    again = owner.post(
        "/admin/billing/tuitionsubscription/",
        {"action": "charge_now", "_selected_action": [subscription.pk]},
        follow=True,
    )
    assert "Only a subscription still waiting for its first lesson can be charged now." in again.content.decode()
    assert Payment.objects.filter(family=subscription.family).count() == 1
