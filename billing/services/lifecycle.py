"""Billing's side of an enrollment's life after it starts (enrollment/lifecycle, its signals answered in
billing/receivers.py): a vacation pauses the subscription's collection until the resume date; a withdrawal stops the
subscription once the last lesson's period is over and settles the lessons paid for after the last one.

The receivers write our rows in the enrollment's transaction and enqueue the Stripe work on commit; each task reads
the current state and stores each Stripe id as soon as Stripe answers, so a task run again repeats nothing (and
every call carries a key made of our own ids)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.models import BillingProfile, LedgerEntry, Payment, TuitionSubscription, WithdrawalSettlement
from billing.services.charges import refund_record
from billing.services.ledger import credit_issue
from cedarheights.outbox import task_enqueue_with_commit
from enrollment.lesson_prices import lesson_price_cents
from enrollment.lifecycle.lessons import local_midnight
from enrollment.models import Enrollment, EnrollmentPause, TuitionPlan
from enrollment.tuition import next_month_first
from scheduling.models import Lesson
from scheduling.outcomes import Outcome

PAUSE_TASK = "billing.services.lifecycle.subscription_pause_sync"
WITHDRAWAL_TASK = "billing.services.lifecycle.withdrawal_settle"
Remainder = WithdrawalSettlement.Remainder


def _stripe_subscription(enrollment: Enrollment) -> TuitionSubscription | None:
    """The enrollment's subscription at Stripe that still runs."""
    return (
        TuitionSubscription.objects.filter(enrollment=enrollment)
        .exclude(stripe_subscription_id=None)
        .exclude(status=TuitionSubscription.Status.CANCELED)
        .first()
    )


# Vacation pauses


def pause_collection_schedule(*, pause: EnrollmentPause) -> None:
    """A pause made or ended (in its transaction): Stripe is told once it commits."""
    task_enqueue_with_commit(PAUSE_TASK, pause.pk)


def subscription_pause_sync(pause_id: int) -> None:
    """Task: Stripe's collection as the pause now stands: paused until the resume date's midnight (void: no invoice
    meanwhile), or resumed at once when the school ended it early. Nothing for an enrollment not billed at Stripe."""
    pause = EnrollmentPause.objects.select_related("enrollment").get(pk=pause_id)
    subscription = _stripe_subscription(pause.enrollment)
    if subscription is None:
        return
    if pause.ended_on is not None and pause.ended_on < pause.resumes_on:
        stripe_gateway.subscription_resume_collection(
            stripe_subscription_id=subscription.stripe_subscription_id, key=f"billing:pause:{pause.pk}:resume"
        )
        return
    stripe_gateway.subscription_pause_collection(
        stripe_subscription_id=subscription.stripe_subscription_id,
        resumes_at=local_midnight(pause.resumes_on),
        key=f"billing:pause:{pause.pk}:pause",
    )


def subscription_paused_until(*, subscription: TuitionSubscription):
    """The resume date of the vacation its enrollment is on, or None: what the subscription's row shows."""
    if subscription.enrollment_id is None:
        return None
    live = EnrollmentPause.objects.filter(enrollment_id=subscription.enrollment_id, ended_at__isnull=True)
    return live.order_by("starts_on").values_list("resumes_on", flat=True).first()


# Withdrawals


def _released_after(*, enrollment: Enrollment, start: datetime, end: datetime) -> int:
    """The enrollment's lessons released by its withdrawal in [start, end)."""
    return Lesson.objects.filter(
        student_id=enrollment.student_id,
        kind=Lesson.Kind.REGULAR,
        outcome=Outcome.RELEASED,
        start_at__gte=start,
        start_at__lt=end,
    ).count()


@transaction.atomic
def withdrawal_settlement_open(*, enrollment: Enrollment, unused_lessons: str) -> WithdrawalSettlement:
    """What a withdrawal means for the tuition, decided in its transaction and done at Stripe once it commits:
    - the last lesson falls in a period already paid (`current_period_end` after it): the subscription stops at that
      period's end, and the lessons paid for after the last one become a credit or a refund (`unused_lessons`);
    - else the last lesson's month is still to be invoiced: the subscription stops at that month's end, and its
      renewal invoice carries a line taking off the month's lessons after the last one.
    Only a flat plan is settled by lessons: a per-lesson plan never charges a released lesson. Opened once per
    enrollment."""
    if existing := WithdrawalSettlement.objects.filter(enrollment=enrollment).first():
        return existing
    subscription = _stripe_subscription(enrollment)
    settlement = WithdrawalSettlement(enrollment=enrollment, subscription=subscription, ends_on=enrollment.ends_on)
    after_last = local_midnight(enrollment.ends_on + timedelta(days=1))
    month_end = local_midnight(next_month_first(enrollment.ends_on))
    paid_through = subscription.current_period_end if subscription is not None else None
    if subscription is not None and subscription.status == TuitionSubscription.Status.TRIALING:
        paid_through = None  # nothing charged yet: the first invoice comes with the first lesson
    if paid_through is not None and paid_through > after_last:
        settlement.cancel_at, settlement.remainder = paid_through, unused_lessons
        settlement.unused_lessons = _released_after(enrollment=enrollment, start=after_last, end=paid_through)
    else:
        settlement.cancel_at, settlement.remainder = month_end, Remainder.INVOICE_ITEM
        settlement.unused_lessons = _released_after(enrollment=enrollment, start=after_last, end=month_end)
    plan = enrollment.tuition_plan
    flat = plan is not None and plan.basis == TuitionPlan.Basis.FLAT
    settlement.amount_cents = settlement.unused_lessons * lesson_price_cents(enrollment=enrollment) if flat else 0
    settlement.currency = plan.currency if plan is not None else settlement.currency
    if settlement.amount_cents == 0:
        settlement.remainder = Remainder.NONE
    if subscription is None:
        settlement.cancel_at, settlement.remainder, settlement.amount_cents = None, Remainder.NONE, 0
    settlement.save()
    task_enqueue_with_commit(WITHDRAWAL_TASK, settlement.pk)
    return settlement


def _last_tuition_payment(settlement: WithdrawalSettlement) -> Payment | None:
    """The family's latest tuition payment through Stripe that can still give money back."""
    return (
        Payment.objects.filter(
            family_id=settlement.enrollment.student.family_id,
            purpose=Payment.Purpose.TUITION,
            status__in=[Payment.Status.SUCCEEDED, Payment.Status.PARTIALLY_REFUNDED],
        )
        .exclude(stripe_payment_intent_id=None)
        .order_by("-paid_at", "-pk")
        .first()
    )


def _store(settlement: WithdrawalSettlement, **fields) -> None:
    WithdrawalSettlement.objects.filter(pk=settlement.pk).update(**fields)
    for name, value in fields.items():
        setattr(settlement, name, value)


def _remainder_give_back(settlement: WithdrawalSettlement, customer_id: str) -> None:
    enrollment = settlement.enrollment
    description = (
        f"{enrollment.student.first_name}'s {settlement.unused_lessons} lesson(s) after {settlement.ends_on:%-d %b %Y}"
    )
    key = f"billing:enrollment:{enrollment.pk}:withdrawal"
    if settlement.remainder == Remainder.INVOICE_ITEM:
        if not settlement.stripe_object_id:
            item_id = stripe_gateway.invoice_item_create(
                key=f"{key}:last-month",
                customer_id=customer_id,
                amount_cents=-settlement.amount_cents,
                currency=settlement.currency,
                description=f"Withdrawal: {description}",
                subscription_id=settlement.subscription.stripe_subscription_id,
                metadata={"enrollment_id": str(enrollment.pk)},
            )
            _store(settlement, stripe_object_id=item_id)
        return
    payment = _last_tuition_payment(settlement) if settlement.remainder == Remainder.REFUND else None
    refundable = payment.amount_cents - payment.amount_refunded_cents if payment else 0
    if settlement.remainder == Remainder.REFUND and refundable >= settlement.amount_cents:
        if not settlement.stripe_object_id:
            refund_id = stripe_gateway.refund_create(
                payment_intent_id=payment.stripe_payment_intent_id,
                amount_cents=settlement.amount_cents,
                refund_key=f"withdrawal:{enrollment.pk}",
            )
            _store(settlement, stripe_object_id=refund_id)
        refund_record(
            payment=payment,
            amount_cents=settlement.amount_cents,
            reference=settlement.stripe_object_id,
            reason=f"withdrawal, {description}",
        )
        entry = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND, reference=settlement.stripe_object_id)
        _store(settlement, ledger_entry=entry)
        return
    # A credit (asked for, or a refund with no payment left to refund it from).
    if not settlement.stripe_object_id:
        transaction_id = stripe_gateway.customer_balance_credit(
            customer_id=customer_id,
            amount_cents=settlement.amount_cents,
            currency=settlement.currency,
            description=f"Withdrawal: {description}",
            key=f"{key}:credit",
        )
        _store(settlement, stripe_object_id=transaction_id, remainder=Remainder.CREDIT)
    entry = credit_issue(
        family=enrollment.student.family,
        amount_cents=settlement.amount_cents,
        reason=f"withdrawal, {description}",
        reference=f"withdrawal:{enrollment.pk}",
    )
    _store(settlement, ledger_entry=entry)


def withdrawal_settle(settlement_id: int) -> WithdrawalSettlement:
    """Task: the subscription stops at `cancel_at`, then the remainder is settled (see `withdrawal_settlement_open`).
    Each step is skipped when its Stripe id is stored already."""
    settlement = WithdrawalSettlement.objects.select_related("enrollment__student__family", "subscription").get(
        pk=settlement_id
    )
    if settlement.settled_at is not None:
        return settlement
    subscription = settlement.subscription
    if subscription is not None and settlement.stripe_cancel_set_at is None:
        stripe_gateway.subscription_cancel_at(
            stripe_subscription_id=subscription.stripe_subscription_id,
            cancel_at=settlement.cancel_at,
            key=f"billing:enrollment:{settlement.enrollment_id}:withdrawal:cancel-at",
        )
        _store(settlement, stripe_cancel_set_at=timezone.now())
    if settlement.remainder != Remainder.NONE and settlement.amount_cents > 0:
        profile = BillingProfile.objects.get(family_id=settlement.enrollment.student.family_id)
        _remainder_give_back(settlement, profile.stripe_customer_id)
    _store(settlement, settled_at=timezone.now())
    return settlement
