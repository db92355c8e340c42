"""The billing pipeline: Stripe customer → card → subscription → route on the outcome.

Steps call Stripe, so the run is not one transaction: each step stores the Stripe id it got before
anything else, and a retried run skips what is already stored (a task killed after Stripe answered
replays the same idempotency key and gets the same object back).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from billing import stripe_gateway
from billing.errors import NoCardOnFile, PlanNotInStripe
from billing.models import BillingProfile, Payment, TuitionSubscription
from billing.services.customers import billing_profile_card_attach, billing_profile_customer_ensure
from billing.services.subscriptions import subscription_invoice_route, subscription_state_apply
from billing.stripe_mirror import payment_mirror, profile_mirror, subscription_mirror
from billing.tuition.stripe_sync import family_items_sync_enqueue, first_month_charge, subscription_item_terms
from cedarheights.pipeline import run_pipeline, step
from enrollment.models import TuitionPlan

# A billing run's reference: "subscription:42" (the sweeper looks runs up by it).
REFERENCE_PREFIX = "subscription:"


@dataclass
class BillingContext:
    subscription_id: int
    payment_method_id: str = ""  # a card named by a task queued before cards were kept on the subscription
    outcome: stripe_gateway.ChargeOutcome | None = None

    @property
    def reference(self) -> str:
        return f"{REFERENCE_PREFIX}{self.subscription_id}"


def _subscription(ctx: BillingContext) -> TuitionSubscription:
    return TuitionSubscription.objects.select_related("family", "tuition_plan").get(pk=ctx.subscription_id)


@step("Find or create the Stripe customer")
def ensure_customer(ctx: BillingContext) -> None:
    billing_profile_customer_ensure(family=_subscription(ctx).family)


@step("Attach the card")
def attach_payment_method(ctx: BillingContext) -> None:
    subscription = _subscription(ctx)
    profile = BillingProfile.objects.get(family_id=subscription.family_id)
    method = ctx.payment_method_id or subscription.payment_method_id or profile.default_payment_method_id
    if not method:
        raise NoCardOnFile("The family has no card on file.")
    if method != profile.default_payment_method_id:
        billing_profile_card_attach(profile=profile, payment_method_id=method)


@step("Create the Stripe subscription")
def create_subscription(ctx: BillingContext) -> None:
    subscription = _subscription(ctx)
    if subscription.stripe_subscription_id:
        return
    plan = subscription.tuition_plan
    if not plan.stripe_price_id:
        raise PlanNotInStripe(f"{plan} has no Stripe price yet: run `manage.py billing_sync_catalog`.")
    profile = BillingProfile.objects.get(family_id=subscription.family_id)
    trial_end, anchor = billing_start_times(subscription)
    price_id, coupons = subscription_item_terms(subscription=subscription)
    state = stripe_gateway.subscription_create(
        subscription_id=subscription.pk,
        customer_id=profile.stripe_customer_id,
        price_id=price_id,
        payment_method_id=profile.default_payment_method_id,
        trial_end=trial_end,
        billing_cycle_anchor=anchor,
        coupons=coupons,
    )
    ctx.outcome = state.outcome
    TuitionSubscription.objects.filter(pk=subscription.pk).update(
        stripe_subscription_id=state.id, item_terms={"price": price_id, "coupons": coupons}
    )
    # Stamped with its time, so the `customer.subscription.created` event, as old, cannot overwrite it.
    subscription_state_apply(
        subscription=subscription, status=state.status, state_at=state.state_at, next_charge_at=state.next_charge_at
    )


@step("Charge the first month's lessons")
def charge_first_month(ctx: BillingContext) -> None:
    """The lessons left in the first lesson's month, as an item joining the invoice made at the first lesson
    (billing.tuition.stripe_sync; a retried run finds the row and adds nothing). Not when Stripe charged a whole
    month at once (billing started after the first lesson, so no trial and no anchor were used)."""
    if ctx.outcome is not None and ctx.outcome.invoice_id is not None:
        return
    first_month_charge(subscription=_subscription(ctx))


def billing_start_times(subscription: TuitionSubscription) -> tuple[datetime | None, datetime | None]:
    """Billing starts with the first regular lesson: nothing is charged before it (a trial until then), and a
    monthly plan is then anchored to the 1st of each month; Stripe charges nothing for the days before the 1st
    (proration "none"): the first partial month is billed by its lessons (`charge_first_month`)."""
    if subscription.starts_at is None or subscription.starts_at <= timezone.now():
        return None, None
    if subscription.tuition_plan.interval != TuitionPlan.Interval.MONTH:
        return subscription.starts_at, None
    local = timezone.localtime(subscription.starts_at)
    first_of_next_month = (local.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    return subscription.starts_at, first_of_next_month


@step("Act on Stripe's answer")
def route_outcome(ctx: BillingContext) -> None:
    """The first invoice: paid → ledger, receipt, email; declined → failure recorded, retries, parent told."""
    if ctx.outcome is None or ctx.outcome.invoice_id is None:
        return  # nothing charged yet (billing starts with the first lesson), or routed by an earlier run
    subscription_invoice_route(subscription=_subscription(ctx), outcome=ctx.outcome)


@step("Copy to the Stripe mirror")
def mirror_to_djstripe(ctx: BillingContext) -> None:
    """dj-stripe's copy of what this run created at Stripe, linked from our rows (best effort)."""
    subscription = _subscription(ctx)
    profile_mirror(profile=BillingProfile.objects.get(family_id=subscription.family_id))
    subscription_mirror(subscription=subscription)
    for payment in Payment.objects.filter(family_id=subscription.family_id, djstripe_invoice__isnull=True).exclude(
        stripe_invoice_id=None
    ):
        payment_mirror(payment=payment)


@step("Bring the family's other subscriptions up to date")
def sync_family_items(ctx: BillingContext) -> None:
    """A child joining moves the siblings' discounts: the family's other items follow in the worker (idempotent)."""
    family_items_sync_enqueue(family_id=_subscription(ctx).family_id)


STEPS = (
    ensure_customer,
    attach_payment_method,
    create_subscription,
    charge_first_month,
    route_outcome,
    mirror_to_djstripe,
    sync_family_items,
)


def billing_pipeline_run(*, subscription_id: int, payment_method_id: str = "") -> BillingContext:
    ctx = BillingContext(subscription_id=subscription_id, payment_method_id=payment_method_id)
    run_pipeline("billing", STEPS, ctx, atomic=False)
    return ctx
