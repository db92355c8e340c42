"""Stripe webhooks: verified, stored once, answered at once, processed in the background in any order.

Delivery is at least once and unordered. The event id is claimed by a unique insert; processing runs in
django-q2 and applies an event only if it is newer than the state already applied to its object, so a
late `customer.subscription.updated` never overwrites a cancellation.
"""

from contextlib import suppress
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from billing import stripe_gateway
from billing.errors import NotAStripeEvent
from billing.models import Payment, StripeEvent, TuitionSubscription
from billing.services.charges import refund_record
from billing.services.customers import billing_profile_card_refresh
from billing.services.dunning import payment_failure_open, payment_settle
from billing.services.subscriptions import invoice_payment_ensure, subscription_state_apply
from billing.stripe_mirror import mirror, payment_mirror, subscription_mirror
from billing.tuition.stripe_sync import family_items_sync_enqueue, renewal_invoice_adjust
from cedarheights.emails import email_owner, email_parents
from cedarheights.outbox import task_enqueue_with_commit

EVENT_TASK = "billing.tasks.stripe_event_process"


def stripe_event_receive(*, payload: bytes, signature: str) -> StripeEvent | None:
    """Verify and store one delivery. Raises `SignatureRefused` on a bad signature, `NotAStripeEvent` on a signed
    body that is not an event; None when already received."""
    event = stripe_gateway.webhook_event_construct(
        payload=payload, signature=signature, secret=settings.STRIPE_WEBHOOK_SECRET
    )
    if not _is_event(event):
        raise NotAStripeEvent()
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.create(
                stripe_id=event["id"],
                type=event["type"],
                payload=event,
                created=datetime.fromtimestamp(int(event["created"]), tz=UTC),
                status=StripeEvent.Status.RECEIVED if event["type"] in HANDLERS else StripeEvent.Status.IGNORED,
            )
            if stored.status == StripeEvent.Status.RECEIVED:
                task_enqueue_with_commit(EVENT_TASK, stored.pk)
    except IntegrityError:
        return None  # a replay of an event we already hold
    return stored


def _is_event(body: object) -> bool:
    """Has what this module reads: a signature proves who sent a body, not that it is an event."""
    return (
        isinstance(body, dict)
        and isinstance(body.get("id"), str)
        and isinstance(body.get("type"), str)
        and isinstance(body.get("created"), int)
        and isinstance(body.get("data"), dict)
        and isinstance(body["data"].get("object"), dict)
    )


def stripe_event_process(*, event_id: int) -> None:
    """Apply one stored event, once. A failure is recorded after its rollback (so the owner sees it) and raised,
    so django-q2 tries again."""
    waiting = [StripeEvent.Status.RECEIVED, StripeEvent.Status.FAILED]
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(pk=event_id)
            if event.status not in waiting:
                return
            HANDLERS[event.type](event.payload["data"]["object"], event)
            event.status, event.processed_at, event.error = StripeEvent.Status.PROCESSED, timezone.now(), ""
            event.save(update_fields=["status", "processed_at", "error"])
    except Exception as error:
        with suppress(DatabaseError):  # the database itself away: the task's own failure says so
            StripeEvent.objects.filter(pk=event_id, status__in=waiting).update(
                status=StripeEvent.Status.FAILED, error=f"{type(error).__name__}: {error}"
            )
        raise
    mirror_event_object(event)


MIRROR_KIND = {
    "invoice": "invoices",
    "subscription": "subscriptions",
    "payment_intent": "payment_intents",
    "charge": "charges",
    "payment_method": "payment_methods",
}


def mirror_event_object(event: StripeEvent) -> None:
    """After the event is applied, dj-stripe's copy of its object is refreshed and linked (best effort)."""
    obj = event.payload["data"]["object"]
    kind = MIRROR_KIND.get(obj.get("object"))
    if kind == "subscriptions":
        for ours in TuitionSubscription.objects.filter(stripe_subscription_id=obj["id"]):
            subscription_mirror(subscription=ours)
    elif kind == "invoices":
        for payment in Payment.objects.filter(stripe_invoice_id=obj["id"]):
            payment_mirror(payment=payment)
    elif kind == "payment_intents":
        for payment in Payment.objects.filter(stripe_payment_intent_id=obj["id"]):
            payment_mirror(payment=payment)
    elif kind:
        mirror(kind=kind, stripe_id=obj["id"])


def _subscription_for(stripe_subscription_id: str | None) -> TuitionSubscription | None:
    if not stripe_subscription_id:
        return None
    return TuitionSubscription.objects.select_for_update().filter(stripe_subscription_id=stripe_subscription_id).first()


def _invoice_payment(invoice: dict) -> Payment | None:
    """Our payment for a Stripe invoice; a renewal invoice we have not seen yet gets one now."""
    if payment := Payment.objects.filter(stripe_invoice_id=invoice["id"]).first():
        return payment
    amount = invoice.get("amount_due") or invoice.get("total") or 0
    if amount <= 0:
        # Nothing to charge (a month voided by a pause, lessons given back, a credit spent): no payment to record.
        return None
    subscription = _subscription_for(invoice.get("subscription"))
    if subscription is None:
        return None
    intent = invoice.get("payment_intent")
    return invoice_payment_ensure(
        subscription=subscription,
        invoice_id=invoice["id"],
        amount_cents=amount,
        currency=invoice.get("currency", "cad"),
        payment_intent_id=intent if isinstance(intent, str) else None,
    )


def invoice_paid(invoice: dict, event: StripeEvent) -> None:
    payment = _invoice_payment(invoice)
    if payment is not None:
        payment_settle(payment=payment)


def invoice_payment_failed(invoice: dict, event: StripeEvent) -> None:
    payment = _invoice_payment(invoice)
    if payment is None or payment.status == Payment.Status.SUCCEEDED:
        return
    # The event's invoice names its payment intent; Stripe's words for the decline are on that.
    intent = invoice.get("payment_intent")
    reason = stripe_gateway.payment_failure_reason(payment_intent_id=intent) if isinstance(intent, str) else None
    payment_failure_open(
        payment=payment,
        reason=reason or "The card was declined.",
        subscription=_subscription_for(invoice.get("subscription")),
    )


def invoice_payment_action_required(invoice: dict, event: StripeEvent) -> None:
    payment = _invoice_payment(invoice)
    if payment is None:
        return
    email_parents(
        family=payment.family,
        template="payment_action_required",
        related=payment,
        dedupe_key=f"action-required:{invoice['id']}",
        context={"payment": payment, "update_card_url": f"{settings.SITE_URL}/billing/"},
    )


def subscription_changed(subscription: dict, event: StripeEvent) -> None:
    """Mirror Stripe's status, newest state wins; a canceled subscription never comes back."""
    ours = _subscription_for(subscription["id"])
    if ours is None:
        return
    subscription_state_apply(
        subscription=ours,
        status="canceled" if event.type == "customer.subscription.deleted" else subscription.get("status"),
        state_at=event.created,
        next_charge_at=stripe_gateway.subscription_next_charge_at(subscription),
    )


def payment_intent_succeeded(intent: dict, event: StripeEvent) -> None:
    if payment := Payment.objects.filter(stripe_payment_intent_id=intent["id"], stripe_invoice_id__isnull=True).first():
        payment_settle(payment=payment)


def payment_intent_failed(intent: dict, event: StripeEvent) -> None:
    payment = Payment.objects.filter(stripe_payment_intent_id=intent["id"], stripe_invoice_id__isnull=True).first()
    if payment is not None and payment.status != Payment.Status.SUCCEEDED:
        error = intent.get("last_payment_error") or {}
        payment_failure_open(
            payment=payment,
            reason=error.get("message") or "The card was declined.",
            decline_code=error.get("decline_code") or error.get("code") or "",
        )


def charge_refunded(charge: dict, event: StripeEvent) -> None:
    payment = Payment.objects.filter(stripe_payment_intent_id=charge.get("payment_intent")).first()
    if payment is None:
        return
    for refund in (charge.get("refunds") or {}).get("data", []):
        refund_record(
            payment=payment, amount_cents=refund["amount"], reference=refund["id"], reason=refund.get("reason") or ""
        )


def dispute_created(dispute: dict, event: StripeEvent) -> None:
    payment = Payment.objects.filter(stripe_payment_intent_id=dispute.get("payment_intent")).first()
    email_owner(
        template="dispute_created",
        related=payment,
        dedupe_key=f"dispute:{dispute['id']}",
        context={"dispute": dispute, "payment": payment},
    )


def payment_method_changed(method: dict, event: StripeEvent) -> None:
    card = method.get("card") or {}
    billing_profile_card_refresh(
        payment_method_id=method["id"],
        brand=card.get("brand", ""),
        last4=card.get("last4", ""),
        exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )


def invoice_created(invoice: dict, event: StripeEvent) -> None:
    """A renewal in its draft window: items bring it to the month's bill (billing.tuition.stripe_sync). Any order:
    the month is the invoice's own, and each item is written once per enrollment, month and kind."""
    if invoice.get("status") not in (None, "draft") or invoice.get("billing_reason") != "subscription_cycle":
        return
    subscription = _subscription_for(invoice.get("subscription"))
    if subscription is not None:
        renewal_invoice_adjust(subscription=subscription, invoice=invoice)
        family_items_sync_enqueue(family_id=subscription.family_id)  # next month's fee and discounts (a new term)


HANDLERS = {
    "invoice.created": invoice_created,
    "invoice.paid": invoice_paid,
    "invoice.payment_succeeded": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "invoice.payment_action_required": invoice_payment_action_required,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "payment_intent.succeeded": payment_intent_succeeded,
    "payment_intent.payment_failed": payment_intent_failed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "payment_method.attached": payment_method_changed,
    "payment_method.updated": payment_method_changed,
}
