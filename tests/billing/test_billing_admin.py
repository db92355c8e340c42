"""The owner's billing actions in the admin: start billing, credit, refund, retry now."""

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import LedgerEntry, Payment, PaymentFailure, TuitionSubscription
from billing.selectors import family_balance_cents
from billing.services.catalog import catalog_sync
from billing.services.charges import lesson_charge
from billing.services.customers import payment_method_update
from billing.services.dunning import payment_failure_open
from billing.services.ledger import payment_record_succeeded
from scheduling.models import Lesson
from tests.factories import ParentFactory, StudentFactory, TeacherFactory, TuitionPlanFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(school):
    client = Client()
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    return client


def test_the_owner_starts_billing_from_the_family_page(stripe_server, owner_client, django_capture_on_commit_callbacks):
    family = ParentFactory().family
    plan = TuitionPlanFactory()
    catalog_sync()
    url = f"/admin/accounts/family/{family.pk}/start-billing/"
    refused = owner_client.post(url, {"tuition_plan": plan.pk})
    assert refused.status_code == 200 and "No card on file" in refused.content.decode()

    payment_method_update(family=family, payment_method_id=stripe_server.card("4242424242424242"))
    with django_capture_on_commit_callbacks(execute=True):
        done = owner_client.post(url, {"tuition_plan": plan.pk})
    assert done.status_code == 302
    assert TuitionSubscription.objects.get(family=family).status == "active"
    assert "Start billing" in owner_client.get(f"/admin/accounts/family/{family.pk}/change/").content.decode()


def test_the_owner_adds_a_credit_and_refunds_part_of_a_payment(stripe_server, owner_client):
    family = ParentFactory().family
    payment = payment_record_succeeded(payment=Payment.objects.create(family=family, amount_cents=10_000))
    assert (
        owner_client.post(
            f"/admin/accounts/family/{family.pk}/credit/", {"amount": "25.00", "reason": "missed lesson"}
        ).status_code
        == 302
    )
    too_much = owner_client.post(f"/admin/billing/payment/{payment.pk}/refund/", {"amount": "100.01", "reason": "x"})
    assert "Refund between" in too_much.content.decode()
    assert (
        owner_client.post(
            f"/admin/billing/payment/{payment.pk}/refund/", {"amount": "40.00", "reason": "sibling discount"}
        ).status_code
        == 302
    )
    assert Payment.objects.get(pk=payment.pk).amount_refunded_cents == 4_000
    assert family_balance_cents(family_id=family.pk) == -2_500 + 4_000
    ledger = owner_client.get(f"/admin/billing/ledgerentry/?family__id__exact={family.pk}").content.decode()
    assert "$15.00 CAD" in ledger  # the running balance after the last line


def test_retry_now_recovers_a_failure_on_a_new_card(stripe_server, owner_client, django_capture_on_commit_callbacks):

    family = ParentFactory().family
    payment_method_update(family=family, payment_method_id=stripe_server.card("4000000000000341"))
    student = StudentFactory(family=family)

    lesson = Lesson.objects.create(
        teacher=TeacherFactory(),
        student=student,
        start_at=timezone.now(),
        end_at=timezone.now() + timezone.timedelta(minutes=30),
        kind="makeup",
    )
    with django_capture_on_commit_callbacks(execute=True):
        lesson_charge(lesson=lesson, amount_cents=3_500)
    failure = PaymentFailure.objects.get(family=family)
    payment_method_update(family=family, payment_method_id=stripe_server.card("4242424242424242"))
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post("/admin/billing/paymentfailure/", {"action": "retry_now", "_selected_action": [failure.pk]})
    failure.refresh_from_db()
    assert failure.status == "recovered"
    assert LedgerEntry.objects.filter(family=family, kind="payment").count() == 1


def test_retry_and_refund_of_what_stripe_does_not_know_are_messages_not_errors(stripe_server, owner_client):
    """Found by the browser trial: the demo's payments name an invoice and a payment intent Stripe never made,
    and the admin's "Retry now" and "Refund in full" answered a 500 to Stripe's refusal."""
    family = ParentFactory().family
    unpaid = Payment.objects.create(family=family, amount_cents=18_500, stripe_invoice_id="in_nobody_knows")
    failure = payment_failure_open(payment=unpaid, reason="Your card was declined.")
    paid = payment_record_succeeded(
        payment=Payment.objects.create(family=family, amount_cents=18_500, stripe_payment_intent_id="pi_nobody_knows")
    )

    retried = owner_client.post(
        "/admin/billing/paymentfailure/", {"action": "retry_now", "_selected_action": [failure.pk]}, follow=True
    )
    refunded = owner_client.post(
        "/admin/billing/payment/", {"action": "refund_in_full", "_selected_action": [paid.pk]}, follow=True
    )

    assert retried.status_code == refunded.status_code == 200
    assert "Stripe refused to retry the invoice" in retried.content.decode()
    assert "Stripe refused the refund" in refunded.content.decode()
    assert PaymentFailure.objects.get(pk=failure.pk).status == "open"
    assert Payment.objects.get(pk=paid.pk).amount_refunded_cents == 0
