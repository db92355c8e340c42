"""The school's tuition plans as Stripe products and prices (`manage.py billing_sync_catalog`)."""

from billing import stripe_gateway
from billing.stripe_mirror import plan_mirror
from enrollment.models import TuitionPlan
from enrollment.services import tuition_plan_stripe_link


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
        tuition_plan_stripe_link(plan=plan, stripe_product_id=product_id, stripe_price_id=price_id)
        plan_mirror(plan=plan)
        synced.append(plan)
        if progress:
            progress(n, len(plans), plan)
    return synced
