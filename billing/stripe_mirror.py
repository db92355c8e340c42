"""dj-stripe's mirror of our Stripe objects, and our records' links to it.

Our own rows (BillingProfile, TuitionSubscription, Payment) are what billing decides on; dj-stripe keeps
Stripe's full objects beside them, for the admin and for reports. Mirroring is best effort: a failure is
logged, never fails a payment, and the next webhook or `billing_reconcile` run mirrors the object again.
"""

import logging

from djstripe import models as djstripe

from billing import stripe_gateway
from billing.models import BillingProfile, Payment, TuitionSubscription
from enrollment.models import TuitionPlan
from enrollment.services import tuition_plan_stripe_link

logger = logging.getLogger(__name__)

MIRRORED = {
    "customers": djstripe.Customer,
    "payment_methods": djstripe.PaymentMethod,
    "products": djstripe.Product,
    "prices": djstripe.Price,
    "subscriptions": djstripe.Subscription,
    "invoices": djstripe.Invoice,
    "payment_intents": djstripe.PaymentIntent,
    "charges": djstripe.Charge,
}


def mirror(*, kind: str, stripe_id: str | None):
    """Fetch one object from Stripe and sync it into dj-stripe; None when Stripe has none or the sync failed."""
    if not stripe_id:
        return None
    try:
        found = stripe_gateway.object_fetch(kind=kind, stripe_id=stripe_id)
        if found is None:
            return None
        with stripe_gateway.djstripe_api():
            return MIRRORED[kind].sync_from_stripe_data(found)
    except Exception:  # best effort by design (see the module's docstring)
        logger.warning("dj-stripe could not mirror %s %s", kind, stripe_id, exc_info=True)
        return None


def plan_mirror(*, plan: TuitionPlan) -> None:
    mirror(kind="products", stripe_id=plan.stripe_product_id)
    if price := mirror(kind="prices", stripe_id=plan.stripe_price_id):
        tuition_plan_stripe_link(plan=plan, djstripe_price=price)


def profile_mirror(*, profile: BillingProfile) -> None:
    if customer := mirror(kind="customers", stripe_id=profile.stripe_customer_id):
        BillingProfile.objects.filter(pk=profile.pk).update(djstripe_customer=customer)
    mirror(kind="payment_methods", stripe_id=profile.default_payment_method_id)


def subscription_mirror(*, subscription: TuitionSubscription) -> None:
    if mirrored := mirror(kind="subscriptions", stripe_id=subscription.stripe_subscription_id):
        TuitionSubscription.objects.filter(pk=subscription.pk).update(djstripe_subscription=mirrored)


def payment_mirror(*, payment: Payment) -> None:
    links = {}
    if invoice := mirror(kind="invoices", stripe_id=payment.stripe_invoice_id):
        links["djstripe_invoice"] = invoice
    if intent := mirror(kind="payment_intents", stripe_id=payment.stripe_payment_intent_id):
        links["djstripe_payment_intent"] = intent
    if links:
        Payment.objects.filter(pk=payment.pk).update(**links)
