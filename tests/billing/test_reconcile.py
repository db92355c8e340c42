from io import StringIO

import pytest
from django.core.management import call_command

from billing.models import Payment, TuitionSubscription
from billing.services.catalog import catalog_sync
from billing.services.subscriptions import billing_start
from enrollment.models import Enrollment
from tests.factories import EnrollmentFactory, ParentFactory, StudentFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


def test_reconcile_lists_mismatches_and_repairs_them_with_commit(
    stripe_server, school, django_capture_on_commit_callbacks
):
    family = ParentFactory().family
    plan = TuitionPlanFactory(price_cents=14_000)
    catalog_sync()
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family,
            tuition_plan=plan.__class__.objects.get(pk=plan.pk),
            payment_method_id=stripe_server.card("4242424242424242"),
        )
    assert "0 mismatch" in _run()

    # Our records drift: a lost webhook left the payment pending and the subscription incomplete.
    Payment.objects.filter(family=family).update(status="pending")
    TuitionSubscription.objects.filter(pk=subscription.pk).update(status="incomplete")
    listed = _run()
    assert "2 mismatch" in listed and "paid at Stripe" in listed and "status here incomplete" in listed
    assert Payment.objects.get(family=family).status == "pending"  # listing changes nothing

    assert "repaired:" in _run("--commit")
    assert Payment.objects.get(family=family).status == "succeeded"
    assert TuitionSubscription.objects.get(pk=subscription.pk).status == "active"
    assert "0 mismatch" in _run()


def _run(*args) -> str:
    out = StringIO()
    call_command("billing_reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_cancellation_whose_webhook_was_lost_is_repaired_as_its_webhook_would_have_been(
    stripe_server, school, django_capture_on_commit_callbacks
):
    """Failed before the fix: the repair copied Stripe's status onto our row alone, so the enrollment stayed active
    and kept its weekly slot though nobody pays for it any more."""
    family = ParentFactory().family
    plan = TuitionPlanFactory(price_cents=14_000)
    catalog_sync()
    enrollment = EnrollmentFactory(student=StudentFactory(family=family), tuition_plan=plan, status="active")
    with django_capture_on_commit_callbacks(execute=True):
        subscription = billing_start(
            family=family,
            tuition_plan=plan.__class__.objects.get(pk=plan.pk),
            enrollment=enrollment,
            payment_method_id=stripe_server.card("4242424242424242"),
        )
    subscription.refresh_from_db()
    assert subscription.status == "active"

    # The owner cancels it at Stripe; its webhook never arrives.
    stripe_server.request("DELETE", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert "status here active, at Stripe canceled" in _run()

    _run("--commit")

    assert TuitionSubscription.objects.get(pk=subscription.pk).status == "canceled"
    assert Enrollment.objects.get(pk=enrollment.pk).status == "paused"
    assert "0 mismatch" in _run()
