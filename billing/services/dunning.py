"""A declined payment: its failure recorded, retried on a schedule, given up on (the enrollment paused), or
recovered when the money arrives after all; and the owner's daily digest of new failures."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.fees import late_fee_charge
from billing.models import BillingProfile, Payment, PaymentFailure, TuitionSubscription
from billing.services.ledger import payment_record_failed, payment_record_succeeded
from cedarheights.emails import email_owner, email_parents
from cedarheights.money import format_cents
from cedarheights.pipeline import run_pipeline, step
from cedarheights.selectors import school_settings_get
from enrollment.services import enrollment_pause_unpaid, enrollment_resume_paid

logger = logging.getLogger(__name__)


def _retry_at(attempt: int):
    """When the `attempt`-th retry is due (1-based), or None after the last."""
    delays = settings.BILLING_RETRY_DAYS
    return timezone.now() + timedelta(days=delays[attempt - 1]) if attempt <= len(delays) else None


@transaction.atomic
def payment_failure_open(
    *, payment: Payment, reason: str, decline_code: str = "", subscription: TuitionSubscription | None = None
) -> PaymentFailure:
    """Record why a payment failed, schedule its retries, and tell the parents (update-card link).

    The owner hears of it in the next daily digest, not in an email per failure.
    """
    payment_record_failed(payment=payment, reason=reason)
    failure, created = PaymentFailure.objects.get_or_create(
        payment=payment,
        defaults={
            "family_id": payment.family_id,
            "subscription": subscription,
            "reason": reason[:255] or "Declined",
            "decline_code": decline_code[:100],
            "next_retry_at": _retry_at(1),
        },
    )
    if created:
        email_parents(
            family=payment.family,
            template="payment_failed",
            related=failure,
            dedupe_key=f"payment-failed:{failure.pk}",
            context={
                "failure": failure,
                "update_card_url": f"{settings.SITE_URL}/billing/",
                "amount": format_cents(payment.amount_cents, payment.currency),
            },
        )
    return failure


@transaction.atomic
def payment_failure_recover(*, failure: PaymentFailure, paid_at=None) -> PaymentFailure:
    """The payment went through after all: the ledger and receipt follow, a paused enrollment resumes."""
    failure = PaymentFailure.objects.select_for_update().get(pk=failure.pk)
    payment_record_succeeded(payment=failure.payment, paid_at=paid_at)
    if failure.status != PaymentFailure.Status.RECOVERED:
        failure.status, failure.resolved_at, failure.next_retry_at = (
            PaymentFailure.Status.RECOVERED,
            timezone.now(),
            None,
        )
        failure.save(update_fields=["status", "resolved_at", "next_retry_at"])
    if failure.subscription_id:
        TuitionSubscription.objects.filter(pk=failure.subscription_id).exclude(
            status=TuitionSubscription.Status.CANCELED
        ).update(status=TuitionSubscription.Status.ACTIVE)
        if enrollment_id := failure.subscription.enrollment_id:
            enrollment_resume_paid(enrollment_id=enrollment_id)
    return failure


@transaction.atomic
def payment_settle(*, payment: Payment, paid_at=None) -> Payment:
    """Stripe says a payment went through (a webhook, the reconciler, an invoice routed): a payment that failed
    before is recovered (whatever its failure's status, so a paused enrollment resumes), any other is recorded as a
    success. Safe to call again: the two services it calls write nothing twice.

    No lock of its own: `payment_failure_recover` locks the failure then the payment, as a retry does."""
    if failure := PaymentFailure.objects.filter(payment=payment).first():
        payment_failure_recover(failure=failure, paid_at=paid_at)
        return Payment.objects.get(pk=payment.pk)
    return payment_record_succeeded(payment=payment, paid_at=paid_at)


@transaction.atomic
def payment_failure_give_up(*, failure: PaymentFailure) -> PaymentFailure:
    """After the last retry: the enrollment is paused and its weekly slot offered to others."""
    failure.status, failure.next_retry_at, failure.resolved_at = PaymentFailure.Status.GAVE_UP, None, timezone.now()
    failure.save(update_fields=["status", "next_retry_at", "resolved_at"])
    if failure.subscription_id and (enrollment_id := failure.subscription.enrollment_id):
        enrollment_pause_unpaid(enrollment_id=enrollment_id)
    late_fee_charge(failure=failure)
    email_parents(
        family=failure.family,
        template="enrollment_paused",
        related=failure,
        dedupe_key=f"paused:{failure.pk}",
        context={"failure": failure, "update_card_url": f"{settings.SITE_URL}/billing/"},
    )
    return failure


def payment_retry(*, failure: PaymentFailure) -> PaymentFailure:
    """Try a failed payment again now, with the family's current card (Stripe is called outside any lock)."""
    payment = failure.payment
    if payment.stripe_invoice_id:
        outcome = stripe_gateway.invoice_pay(invoice_id=payment.stripe_invoice_id, attempt=failure.attempts)
    else:
        profile = BillingProfile.objects.get(family_id=failure.family_id)
        outcome = stripe_gateway.payment_intent_charge(
            payment_id=payment.pk,
            attempt=failure.attempts,
            customer_id=profile.stripe_customer_id,
            payment_method_id=profile.default_payment_method_id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            description=payment.description,
        )
        if outcome.payment_intent_id:
            Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=outcome.payment_intent_id)
    if outcome.succeeded:
        return payment_failure_recover(failure=failure)
    with transaction.atomic():
        failure = PaymentFailure.objects.select_for_update().get(pk=failure.pk)
        failure.attempts += 1
        failure.reason = (outcome.reason or failure.reason)[:255]
        failure.next_retry_at = _retry_at(failure.attempts)
        failure.save(update_fields=["attempts", "reason", "next_retry_at"])
        Payment.objects.filter(pk=payment.pk).update(failure_reason=failure.reason)
        if failure.next_retry_at is None:
            return payment_failure_give_up(failure=failure)
    return failure


@dataclass
class RetryContext:
    failure: PaymentFailure

    @property
    def reference(self) -> str:
        return f"payment_failure:{self.failure.pk}"


@step("Retry the declined payment")
def retry_payment(ctx: RetryContext) -> None:
    ctx.failure = payment_retry(failure=ctx.failure)


def billing_retry_due(*, now=None) -> list[PaymentFailure]:
    """Run every retry that is due and return those that ran. Each runs in its own transaction with its own
    run record (pipeline `billing_retry`): an error in one family's retry rolls back only that retry, is
    recorded for the owner, and never stops the others."""
    due = PaymentFailure.objects.filter(status=PaymentFailure.Status.OPEN, next_retry_at__lte=now or timezone.now())
    retried = []
    for failure in due.select_related("payment", "subscription").order_by("next_retry_at", "pk"):
        ctx = RetryContext(failure=failure)
        try:
            run_pipeline("billing_retry", (retry_payment,), ctx)
        except Exception:
            logger.exception("The retry of payment failure %s raised; it stays open and the others go on.", failure.pk)
            continue
        retried.append(ctx.failure)
    return retried


def failed_payments_digest_send() -> int:
    """One email a day to the owner listing failures not reported yet; nothing when there are none."""
    with transaction.atomic():
        failures = list(
            PaymentFailure.objects.select_for_update()
            .filter(owner_notified_at__isnull=True)
            .select_related("family", "payment")
            .order_by("created_at")
        )
        if not failures:
            return 0
        school = school_settings_get()
        email_owner(
            template="failed_payments_digest",
            dedupe_key=f"digest:{timezone.localdate():%Y-%m-%d}:{failures[0].pk}",
            context={"school": school, "failures": failures, "admin_url": f"{settings.SITE_URL}/admin/"},
        )
        PaymentFailure.objects.filter(pk__in=[f.pk for f in failures]).update(owner_notified_at=timezone.now())
    return len(failures)
