"""One-off charges and money given back: a lesson charged on the card on file, a refund through Stripe and on the
ledger."""

from django.db import transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.errors import NoCardOnFile
from billing.models import BillingProfile, LedgerEntry, Payment
from billing.services.dunning import payment_failure_open
from billing.services.ledger import ledger_entry_add, payment_record_succeeded
from billing.stripe_mirror import payment_mirror
from cedarheights.errors import InvalidInput
from cedarheights.money import format_cents
from scheduling.models import Lesson
from scheduling.services import lesson_update


def lesson_charge(*, lesson: Lesson, amount_cents: int) -> Payment:
    """Charge one lesson (demo, drop-in, make-up) with a payment intent; route success and failure as tuition."""
    family = lesson.student.family
    profile = BillingProfile.objects.filter(family=family).first()
    if profile is None or not profile.default_payment_method_id:
        raise NoCardOnFile(f"{family} has no card on file.")
    payment = Payment.objects.create(
        family=family,
        purpose=Payment.Purpose.LESSON,
        lesson=lesson,
        amount_cents=amount_cents,
        description=f"{lesson.get_kind_display()} lesson {timezone.localtime(lesson.start_at):%Y-%m-%d %H:%M}",
    )
    outcome = stripe_gateway.payment_intent_charge(
        payment_id=payment.pk,
        customer_id=profile.stripe_customer_id,
        payment_method_id=profile.default_payment_method_id,
        amount_cents=amount_cents,
        currency=payment.currency,
        description=payment.description,
    )
    with transaction.atomic():
        if outcome.payment_intent_id:
            Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id=outcome.payment_intent_id)
        if outcome.succeeded:
            payment_record_succeeded(payment=payment)
        else:
            payment_failure_open(payment=payment, reason=outcome.reason, decline_code=outcome.decline_code)
        transaction.on_commit(lambda: payment_mirror(payment=Payment.objects.get(pk=payment.pk)))
        lesson_update(
            lesson=lesson,
            payment_status=Lesson.PaymentStatus.PAID if outcome.succeeded else Lesson.PaymentStatus.FAILED,
        )
    return Payment.objects.get(pk=payment.pk)


def refund_issue(*, payment: Payment, amount_cents: int, reason: str = "") -> Payment:
    """Give money back: through Stripe when the payment went through Stripe, then on the ledger."""
    payment = Payment.objects.get(pk=payment.pk)
    refundable = payment.amount_cents - payment.amount_refunded_cents
    if not 0 < amount_cents <= refundable:
        raise InvalidInput(f"Refund between 0.01 and {format_cents(refundable, payment.currency)}.")
    reference = f"refund:{payment.pk}:{payment.amount_refunded_cents}:{amount_cents}"
    if payment.stripe_payment_intent_id:
        reference = stripe_gateway.refund_create(
            payment_intent_id=payment.stripe_payment_intent_id, amount_cents=amount_cents, refund_key=reference
        )
    return refund_record(payment=payment, amount_cents=amount_cents, reference=reference, reason=reason)


@transaction.atomic
def refund_record(*, payment: Payment, amount_cents: int, reference: str, reason: str = "") -> Payment:
    """Money returned to the family (full or partial). Never more than what was paid and not yet refunded."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND, reference=reference).exists():
        return payment  # this refund is already recorded
    if payment.status not in {Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED}:
        raise InvalidInput("Only a successful payment can be refunded.")
    refundable = payment.amount_cents - payment.amount_refunded_cents
    if not 0 < amount_cents <= refundable:
        raise InvalidInput(
            f"Refund between 0.01 and {format_cents(refundable, payment.currency)}.",
            fields={"amount_cents": [f"At most {refundable} cents."]},
        )
    payment.amount_refunded_cents += amount_cents
    payment.status = (
        Payment.Status.REFUNDED
        if payment.amount_refunded_cents == payment.amount_cents
        else Payment.Status.PARTIALLY_REFUNDED
    )
    payment.save(update_fields=["amount_refunded_cents", "status"])
    ledger_entry_add(
        family=payment.family,
        kind=LedgerEntry.Kind.REFUND,
        amount_cents=amount_cents,
        description=f"Refund{': ' + reason if reason else ''}",
        reference=reference,
        payment=payment,
        currency=payment.currency,
    )
    return payment
