"""Our billing records against Stripe's: what differs, and the repairs that are safe to make."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from billing import stripe_gateway
from billing.handoffs import (
    billing_handoff_restart,
    stripe_event_restart,
    stripe_events_lost,
    subscriptions_billing_lost,
)
from billing.models import BillingProfile, Payment, TuitionSubscription
from billing.services.dunning import payment_settle
from billing.services.subscriptions import TERMINAL, subscription_state_apply
from enrollment.models import TuitionPlan


@dataclass
class Mismatch:
    record: str
    problem: str
    repair: Callable[[], None] | None = None  # None: a person must look at it

    def __str__(self) -> str:
        return f"{self.record}: {self.problem}" + ("" if self.repair else " (needs a person)")


def _subscription_status(ours: TuitionSubscription, theirs: dict | None, read_at: datetime) -> Mismatch | None:
    if theirs is None:
        return Mismatch(str(ours), f"Stripe has no subscription {ours.stripe_subscription_id}")
    status = theirs.get("status")
    if status == ours.status or status not in TuitionSubscription.Status.values:
        return None
    problem = f"status here {ours.status}, at Stripe {status}"
    if ours.status in TERMINAL:
        return Mismatch(str(ours), problem)  # a canceled subscription never comes back by itself

    def repair():
        # Stripe's state as of when it was read, applied as its event would be (unpaid or canceled pauses the
        # enrollment), unless an event as new was applied meanwhile.
        subscription_state_apply(
            subscription=ours,
            status=status,
            state_at=read_at,
            next_charge_at=stripe_gateway.subscription_next_charge_at(theirs),
        )

    return Mismatch(str(ours), problem, repair)


def _invoice_payment(payment: Payment, invoice: dict | None) -> Mismatch | None:
    if invoice is None:
        return Mismatch(str(payment), f"Stripe has no invoice {payment.stripe_invoice_id}")
    if invoice.get("status") == "paid" and payment.status != Payment.Status.SUCCEEDED:

        def repair():
            payment_settle(payment=payment)

        return Mismatch(str(payment), "paid at Stripe, not recorded as paid here", repair)
    if invoice.get("status") != "paid" and payment.status == Payment.Status.SUCCEEDED:
        return Mismatch(str(payment), f"recorded as paid here, {invoice.get('status')} at Stripe")
    return None


def billing_reconcile(*, commit: bool = False, progress: Callable[[int, int], None] | None = None) -> list[Mismatch]:
    """Compare customers, plans' prices, subscriptions and invoice payments, and find billing work whose hand-off
    to the worker was lost; with `commit`, repair what is safe (a lost hand-off is started again)."""
    checks: list[Callable[[], Mismatch | None]] = []
    for subscription in subscriptions_billing_lost().select_related("family", "tuition_plan"):
        checks.append(
            lambda s=subscription: Mismatch(
                str(s),
                "billing never started (no billing run, no queued task, no Stripe subscription)",
                lambda: billing_handoff_restart(subscription=s),
            )
        )
    for event in stripe_events_lost():
        checks.append(
            lambda e=event: Mismatch(
                str(e), "received and never processed (no queued task)", lambda: stripe_event_restart(event=e)
            )
        )
    for profile in BillingProfile.objects.exclude(stripe_customer_id=None).select_related("family"):
        checks.append(
            lambda p=profile: (
                None
                if stripe_gateway.object_retrieve(kind="customers", stripe_id=p.stripe_customer_id)
                else Mismatch(str(p), "Stripe has no such customer")
            )
        )
    for plan in TuitionPlan.objects.exclude(stripe_price_id=""):

        def check_plan(plan=plan):
            price = stripe_gateway.object_retrieve(kind="prices", stripe_id=plan.stripe_price_id)
            if price is None or price.get("unit_amount") != plan.price_cents:
                return Mismatch(
                    str(plan),
                    f"price at Stripe is {price and price.get('unit_amount')}, "
                    f"here {plan.price_cents}: run billing_sync_catalog after clearing it",
                )
            return None

        checks.append(check_plan)
    for subscription in TuitionSubscription.objects.exclude(stripe_subscription_id=None).select_related("family"):
        checks.append(
            lambda s=subscription: _subscription_status(
                s,
                stripe_gateway.object_retrieve(kind="subscriptions", stripe_id=s.stripe_subscription_id),
                timezone.now(),
            )
        )
    for payment in Payment.objects.exclude(stripe_invoice_id=None).select_related("family"):
        checks.append(
            lambda p=payment: _invoice_payment(
                p, stripe_gateway.object_retrieve(kind="invoices", stripe_id=p.stripe_invoice_id)
            )
        )

    mismatches = []
    for n, check in enumerate(checks, start=1):
        if (mismatch := check()) is not None:
            mismatches.append(mismatch)
            if commit and mismatch.repair:
                mismatch.repair()
        if progress:
            progress(n, len(checks))
    return mismatches
