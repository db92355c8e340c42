"""The ledger, receipts, refunds and credits: nothing written twice, nothing lost, always balanced."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Family
from billing import stripe_gateway
from billing.models import (
    BillingProfile,
    LedgerEntry,
    Payment,
    PaymentFailure,
    Receipt,
    ReceiptSequence,
    TuitionSubscription,
)
from billing.stripe_mirror import payment_mirror, plan_mirror
from cedarheights.emails import email_owner, email_parents
from cedarheights.errors import InvalidInput, ServiceUnavailable
from cedarheights.money import format_cents
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.pipeline import run_pipeline, step
from cedarheights.selectors import school_settings_get
from enrollment.models import TuitionPlan
from enrollment.services import enrollment_pause_unpaid, enrollment_resume_paid
from scheduling.models import Lesson
from scheduling.services import lesson_update

logger = logging.getLogger(__name__)


def ledger_entry_add(
    *,
    family: Family,
    kind: str,
    amount_cents: int,
    description: str,
    reference: str = "",
    payment: Payment | None = None,
    currency: str | None = None,
) -> LedgerEntry:
    """Write one ledger line. With a `reference`, writing it again (a replayed event) returns the first."""
    if kind != LedgerEntry.Kind.ADJUSTMENT and amount_cents <= 0:
        raise InvalidInput(
            "A charge, payment, refund or credit is a positive amount.",
            fields={"amount_cents": ["Must be more than 0."]},
        )
    if amount_cents == 0:
        raise InvalidInput("An adjustment cannot be zero.", fields={"amount_cents": ["Must not be 0."]})
    entry = LedgerEntry(
        family=family,
        kind=kind,
        amount_cents=amount_cents,
        description=description[:255],
        reference=reference,
        payment=payment,
    )
    if currency:
        entry.currency = currency
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        if not reference:
            raise
        return LedgerEntry.objects.get(kind=kind, reference=reference)
    return entry


@transaction.atomic
def receipt_issue(*, payment: Payment) -> Receipt:
    """A numbered receipt for a successful payment: YYYY-NNNNN, no gaps, one per payment."""
    if existing := Receipt.objects.filter(payment=payment).first():
        return existing
    issued_at = payment.paid_at or timezone.now()
    year = timezone.localtime(issued_at).year
    ReceiptSequence.objects.get_or_create(year=year)
    sequence = ReceiptSequence.objects.select_for_update().get(year=year)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return Receipt.objects.create(
        payment=payment,
        family_id=payment.family_id,
        year=year,
        sequence=sequence.last_number,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        issued_at=issued_at,
    )


def _charge_for(payment: Payment) -> str:
    """The ledger charge a payment settles, written once whether the payment succeeds or fails."""
    description = payment.description or payment.get_purpose_display()
    ledger_entry_add(
        family=payment.family,
        kind=LedgerEntry.Kind.CHARGE,
        amount_cents=payment.amount_cents,
        description=description,
        reference=f"payment:{payment.pk}",
        payment=payment,
        currency=payment.currency,
    )
    return description


@transaction.atomic
def payment_record_succeeded(*, payment: Payment, paid_at=None) -> Payment:
    """Money arrived: the payment, its ledger lines (the charge it settles and the payment), a receipt and
    its email. Safe to call again for the same payment (a replayed webhook): nothing is written twice."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status != Payment.Status.SUCCEEDED:
        payment.status, payment.failure_reason = Payment.Status.SUCCEEDED, ""
        payment.paid_at = paid_at or timezone.now()
        payment.save(update_fields=["status", "paid_at", "failure_reason"])
    description = _charge_for(payment)
    ledger_entry_add(
        family=payment.family,
        kind=LedgerEntry.Kind.PAYMENT,
        amount_cents=payment.amount_cents,
        description=f"Card payment: {description}",
        reference=f"payment:{payment.pk}",
        payment=payment,
        currency=payment.currency,
    )
    receipt = receipt_issue(payment=payment)
    email_parents(
        family=payment.family,
        template="receipt",
        related=receipt,
        dedupe_key=f"receipt:{receipt.pk}",
        context={
            "receipt": receipt,
            "payment": payment,
            "amount": format_cents(payment.amount_cents, payment.currency),
        },
    )
    return payment


@transaction.atomic
def payment_record_failed(*, payment: Payment, reason: str) -> Payment:
    """The charge stays on the ledger (the family owes it); the payment records Stripe's reason."""
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return payment  # a late failure event never undoes a success
    payment.status, payment.failure_reason = Payment.Status.FAILED, reason[:255]
    payment.save(update_fields=["status", "failure_reason"])
    _charge_for(payment)
    return payment


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


def credit_issue(*, family: Family, amount_cents: int, reason: str, reference: str = "") -> LedgerEntry:
    """A credit on the family's account (a goodwill gesture, a missed lesson) that lowers what they owe."""
    return ledger_entry_add(
        family=family,
        kind=LedgerEntry.Kind.CREDIT,
        amount_cents=amount_cents,
        description=f"Credit: {reason}",
        reference=reference,
    )


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
    """Stripe says a payment went through (a webhook, or the reconciler): a payment that failed before is
    recovered (whatever its failure's status, so a paused enrollment resumes), any other is recorded as a
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


TERMINAL = {TuitionSubscription.Status.CANCELED}


@transaction.atomic
def subscription_state_apply(
    *, subscription: TuitionSubscription, status: str, state_at, next_charge_at=None
) -> TuitionSubscription:
    """Take Stripe's state of a subscription as of `state_at` (an answer of the API or an event), unless we
    already hold a state at least as new: events arrive late and in any order. A canceled subscription never
    comes back; unpaid or canceled pauses the enrollment and tells the owner."""
    ours = TuitionSubscription.objects.select_for_update().get(pk=subscription.pk)
    if status == "incomplete_expired":
        status = TuitionSubscription.Status.CANCELED
    if status not in TuitionSubscription.Status.values or ours.status in TERMINAL:
        return ours
    if ours.stripe_state_at and state_at <= ours.stripe_state_at:
        return ours  # older than, or as old as, what we already applied
    previous = ours.status
    ours.status, ours.stripe_state_at = status, state_at
    ours.current_period_end = next_charge_at or ours.current_period_end
    ours.save(update_fields=["status", "stripe_state_at", "current_period_end"])
    if status in {TuitionSubscription.Status.UNPAID, TuitionSubscription.Status.CANCELED} and previous != status:
        if ours.enrollment_id:
            enrollment_pause_unpaid(enrollment_id=ours.enrollment_id)
        email_owner(
            template="subscription_stopped",
            related=ours,
            dedupe_key=f"stopped:{ours.pk}:{status}",
            context={"subscription": ours, "status": status},
        )
    return ours


@transaction.atomic
def subscription_invoice_route(*, subscription: TuitionSubscription, outcome: stripe_gateway.ChargeOutcome) -> Payment:
    """A subscription's invoice that Stripe charged: paid → ledger, receipt, email; declined → failure
    recorded, retries scheduled, parents told. Routing it again (a retried run) writes nothing twice."""
    payment, _ = Payment.objects.get_or_create(
        stripe_invoice_id=outcome.invoice_id,
        defaults={
            "family": subscription.family,
            "amount_cents": outcome.amount_cents,
            "currency": subscription.tuition_plan.currency,
            "description": f"{subscription.tuition_plan}",
            "stripe_payment_intent_id": outcome.payment_intent_id,
        },
    )
    if outcome.succeeded:
        return payment_record_succeeded(payment=payment)
    payment_failure_open(
        payment=payment, reason=outcome.reason, decline_code=outcome.decline_code, subscription=subscription
    )
    return Payment.objects.get(pk=payment.pk)


def subscription_charge_now(*, subscription: TuitionSubscription) -> Payment:
    """The owner charges a subscription that waits for its first lesson now: Stripe ends its trial and charges
    the card on file. A decline shows at once what a failed first lesson would: the failed payment, its retry
    schedule and the parents' email."""
    if subscription.status != TuitionSubscription.Status.TRIALING or not subscription.stripe_subscription_id:
        raise InvalidInput("Only a subscription still waiting for its first lesson can be charged now.")
    state = stripe_gateway.subscription_trial_end_now(stripe_subscription_id=subscription.stripe_subscription_id)
    if state.outcome is None:
        raise InvalidInput("Stripe made no invoice to charge for this subscription.")
    with transaction.atomic():
        subscription_state_apply(
            subscription=subscription,
            status=state.status,
            state_at=state.state_at,
            next_charge_at=state.next_charge_at,
        )
        payment = subscription_invoice_route(subscription=subscription, outcome=state.outcome)
    transaction.on_commit(lambda: payment_mirror(payment=payment))
    return payment


BILLING_TASK = "billing.tasks.billing_pipeline"


@transaction.atomic
def billing_start(
    *, family: Family, tuition_plan: TuitionPlan, payment_method_id: str = "", enrollment=None, starts_at=None
) -> TuitionSubscription:
    """Start billing a family for a plan (from `starts_at`, the first regular lesson, if given): the pipeline
    runs in django-q2 once this commits. The card is kept on the subscription and the task is recorded in this
    transaction, so billing whose task is lost anyway can be started again (`billing_handoffs_recover`)."""
    subscription = TuitionSubscription.objects.create(
        family=family,
        tuition_plan=tuition_plan,
        enrollment=enrollment,
        starts_at=starts_at,
        payment_method_id=payment_method_id,
    )
    task_enqueue_with_commit(BILLING_TASK, subscription.pk)
    return subscription


def lesson_charge(*, lesson, amount_cents: int) -> Payment:
    """Charge one lesson (demo, drop-in, make-up) with a payment intent; route success and failure as tuition."""
    family = lesson.student.family
    profile = BillingProfile.objects.filter(family=family).first()
    if profile is None or not profile.default_payment_method_id:
        raise InvalidInput(f"{family} has no card on file.")
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


def card_check(*, payment_method_id: str) -> None:
    """Before anything is booked on a card: Stripe must know it and accept it for later charges (`CardRefused`,
    an error on `payment_method_id`); Stripe out of reach is a "try again" (`ServiceUnavailable`)."""
    try:
        stripe_gateway.card_verify(payment_method_id=payment_method_id)
    except stripe_gateway.GatewayUnavailable as error:
        raise ServiceUnavailable(
            "We could not check your card just now. Nothing was saved: please try again in a minute."
        ) from error


def billing_profile_customer_ensure(*, family: Family) -> BillingProfile:
    """The family's billing profile with its Stripe customer: the one stored, or one made now and stored the
    moment Stripe answers. The idempotency key is the family's (`billing:family:<id>:customer`), so a call
    retried after Stripe answered and before the id was stored gets the same customer back. Stripe is called
    outside any lock or transaction."""
    profile, _ = BillingProfile.objects.get_or_create(family=family)
    if profile.stripe_customer_id:
        return profile
    parent = family.parents.order_by("id").first()
    customer_id = stripe_gateway.customer_create(
        family_id=family.pk, email=parent.email if parent else "", name=family.name
    )
    BillingProfile.objects.filter(pk=profile.pk).update(stripe_customer_id=customer_id)
    profile.stripe_customer_id = customer_id
    return profile


def payment_method_update(*, family: Family, payment_method_id: str) -> BillingProfile:
    """The parent's new card becomes the default for every invoice and charge; open failures retry on it."""
    profile = billing_profile_customer_ensure(family=family)
    card = stripe_gateway.payment_method_attach(
        family_id=family.pk, customer_id=profile.stripe_customer_id, payment_method_id=payment_method_id
    )
    profile.default_payment_method_id, profile.card_brand, profile.card_last4 = (
        payment_method_id,
        card.brand,
        card.last4,
    )
    profile.card_exp_month, profile.card_exp_year = card.exp_month, card.exp_year
    profile.save()
    # Due now: the next retry run tries the new card instead of waiting for the schedule.
    PaymentFailure.objects.filter(family=family, status=PaymentFailure.Status.OPEN).update(next_retry_at=timezone.now())
    return profile


def catalog_sync(*, progress=None) -> list[TuitionPlan]:
    """Every active tuition plan gets a Stripe product and price; running it again creates nothing new."""
    synced = []
    plans = list(TuitionPlan.objects.filter(active=True, stripe_price_id=""))
    for n, plan in enumerate(plans, start=1):
        product_id, price_id = stripe_gateway.product_and_price_create(
            plan_id=plan.pk,
            name=plan.name,
            amount_cents=plan.price_cents,
            currency=plan.currency,
            interval=plan.interval,
            existing_product_id=plan.stripe_product_id,
        )
        TuitionPlan.objects.filter(pk=plan.pk).update(stripe_product_id=product_id, stripe_price_id=price_id)
        plan.stripe_product_id, plan.stripe_price_id = product_id, price_id
        plan_mirror(plan=plan)
        synced.append(plan)
        if progress:
            progress(n, len(plans), plan)
    return synced


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
