"""payment_settle: the one answer to "Stripe says this payment went through" (both webhooks, the reconciler)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import LedgerEntry, Payment, PaymentFailure, Receipt
from billing.services.dunning import payment_failure_open, payment_settle
from tests.factories import ParentFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def test_settling_a_payment_without_a_failure_records_the_success_once(django_capture_on_commit_callbacks):
    parent = ParentFactory()
    payment = PaymentFactory(family=parent.family, amount_cents=14_000)
    paid_at = timezone.now() - timedelta(hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        settled = payment_settle(payment=payment, paid_at=paid_at)
        payment_settle(payment=payment)  # delivered again: a no-op

    assert (settled.status, settled.paid_at) == (Payment.Status.SUCCEEDED, paid_at)
    assert Payment.objects.get(pk=payment.pk).paid_at == paid_at  # the second call kept the first time
    kinds = sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["charge", "payment"]
    assert Receipt.objects.filter(payment=payment).count() == 1
    assert [m.to for m in mail.outbox] == [[parent.email]]
    assert not PaymentFailure.objects.exists()


@pytest.mark.parametrize("status", [PaymentFailure.Status.OPEN, PaymentFailure.Status.GAVE_UP])
def test_settling_a_failed_payment_recovers_its_failure_once(status, django_capture_on_commit_callbacks):
    """A failure the retries gave up on is recovered too (the webhooks and the reconciler always did), so its
    enrollment resumes. Made to fail first by looking up only open failures."""
    parent = ParentFactory()
    payment = PaymentFactory(family=parent.family, amount_cents=9_000)
    with django_capture_on_commit_callbacks(execute=True):
        failure = payment_failure_open(payment=payment, reason="Your card was declined.")
    PaymentFailure.objects.filter(pk=failure.pk).update(status=status)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        settled = payment_settle(payment=payment)
        payment_settle(payment=payment)  # delivered again: a no-op

    assert settled.status == Payment.Status.SUCCEEDED and settled.failure_reason == ""
    failure.refresh_from_db()
    assert failure.status == PaymentFailure.Status.RECOVERED and failure.next_retry_at is None
    kinds = sorted(LedgerEntry.objects.filter(payment=payment).values_list("kind", flat=True))
    assert kinds == ["charge", "payment"]
    assert Receipt.objects.filter(payment=payment).count() == 1
    assert [m.to for m in mail.outbox] == [[parent.email]]  # the receipt, once
