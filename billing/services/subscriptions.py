"""Tuition subscriptions: billing started (the pipeline handed to the worker), Stripe's state applied in order,
an invoice Stripe charged routed to the ledger or to dunning, and the first month charged now."""

from django.db import transaction

from accounts.models import Family
from billing import stripe_gateway
from billing.errors import NoCardOnFile
from billing.fees import registration_fee_charge_for_start
from billing.models import BillingProfile, Payment, TuitionSubscription
from billing.services.dunning import payment_failure_open, payment_settle
from billing.stripe_mirror import payment_mirror
from billing.tuition.stripe_sync import family_items_sync_enqueue
from cedarheights.emails import email_owner
from cedarheights.errors import InvalidInput
from cedarheights.outbox import task_enqueue_with_commit
from enrollment.models import TuitionPlan
from enrollment.services import enrollment_pause_unpaid

BILLING_TASK = "billing.tasks.billing_pipeline"

TERMINAL = {TuitionSubscription.Status.CANCELED}


@transaction.atomic
def billing_start(
    *, family: Family, tuition_plan: TuitionPlan, payment_method_id: str = "", enrollment=None, starts_at=None
) -> TuitionSubscription:
    """Start billing a family for a plan (from `starts_at`, the first regular lesson, if given) on the card given,
    else the card on file (`NoCardOnFile` when there is none): the pipeline runs in django-q2 once this commits.
    The card is kept on the subscription and the task is recorded in this transaction, so billing whose task is
    lost anyway can be started again (`billing_handoffs_recover`)."""
    if not payment_method_id and not (
        BillingProfile.objects.filter(family=family).exclude(default_payment_method_id="").exists()
    ):
        raise NoCardOnFile()
    subscription = TuitionSubscription.objects.create(
        family=family,
        tuition_plan=tuition_plan,
        enrollment=enrollment,
        starts_at=starts_at,
        payment_method_id=payment_method_id,
    )
    task_enqueue_with_commit(BILLING_TASK, subscription.pk)
    registration_fee_charge_for_start(family=family, starts_at=starts_at)
    return subscription


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
    if status == TuitionSubscription.Status.CANCELED and previous != status:
        family_items_sync_enqueue(family_id=ours.family_id)  # a child leaving moves the siblings' discounts
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


def invoice_payment_ensure(
    *,
    subscription: TuitionSubscription,
    invoice_id: str,
    amount_cents: int,
    currency: str | None = None,
    payment_intent_id: str | None = None,
    description: str = "",
) -> Payment:
    """Our payment for one of the subscription's Stripe invoices: the one we hold, or one made now (the first
    invoice routed by the pipeline, a renewal first seen in a webhook). One per invoice (a unique column). Its
    `description`, on the family's ledger and receipt, is the plan's name unless one is given."""
    payment, _ = Payment.objects.get_or_create(
        stripe_invoice_id=invoice_id,
        defaults={
            "family_id": subscription.family_id,
            "amount_cents": amount_cents,
            "currency": currency or subscription.tuition_plan.currency,
            "description": description or str(subscription.tuition_plan),
            "stripe_payment_intent_id": payment_intent_id,
        },
    )
    return payment


@transaction.atomic
def subscription_invoice_route(*, subscription: TuitionSubscription, outcome: stripe_gateway.ChargeOutcome) -> Payment:
    """A subscription's invoice that Stripe charged: paid → ledger, receipt, email; declined → failure
    recorded, retries scheduled, parents told. Routing it again (a retried run) writes nothing twice."""
    payment = invoice_payment_ensure(
        subscription=subscription,
        invoice_id=outcome.invoice_id,
        amount_cents=outcome.amount_cents,
        payment_intent_id=outcome.payment_intent_id,
    )
    if outcome.succeeded:
        return payment_settle(payment=payment)
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
