"""django-q2 tasks for billing. Each is idempotent: delivery is at least once."""

from billing import webhooks
from billing.handoffs import billing_handoffs_recover
from billing.models import TuitionCharge, TuitionSubscription
from billing.pipelines import billing_pipeline_run
from billing.services import lesson_fees
from billing.services.dunning import billing_retry_due, failed_payments_digest_send
from billing.tuition.stripe_sync import charge_send, family_items_sync


def billing_pipeline(subscription_id: int, payment_method_id: str = "") -> None:
    billing_pipeline_run(subscription_id=subscription_id, payment_method_id=payment_method_id)


def billing_handoffs_sweep() -> int:
    """Scheduled every 5 minutes (migration 0009): starts billing work whose hand-off was lost."""
    return len(billing_handoffs_recover())


def billing_retry_failed() -> int:
    return len(billing_retry_due())


def failed_payments_digest() -> int:
    return failed_payments_digest_send()


def stripe_event_process(event_id: int) -> None:
    webhooks.stripe_event_process(event_id=event_id)


def lesson_fees_post_due() -> int:
    """Scheduled every 15 minutes (migration 0013): pending fees past their review time post to the ledger."""
    return lesson_fees.lesson_fees_post_due()


def tuition_items_sync(family_id: int) -> int:
    """The family's subscription items brought to our lines (idempotent: an item already right is not touched)."""
    return family_items_sync(family_id=family_id)


def tuition_charge_send(charge_id: int) -> None:
    """A tuition charge recorded in a change's transaction, sent to Stripe once (its stored id; its own key)."""
    charge = TuitionCharge.objects.get(pk=charge_id)
    subscription = TuitionSubscription.objects.select_related("tuition_plan").get(enrollment_id=charge.enrollment_id)
    charge_send(charge=charge, subscription=subscription)
