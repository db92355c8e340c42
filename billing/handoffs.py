"""Billing work that never reached the worker: found and started again.

`billing_start` and the webhook record their tasks in the transaction that needs them
(`cedarheights.outbox`), so a crash after the commit no longer loses them. This sweeper is the net under that:
a task lost anyway (a queue purged, a broker that lost a relayed task, a row deleted by hand) leaves a
subscription incomplete with no Stripe id, no billing run and no queued task, or a Stripe event received and
never processed. Long after the work should have started (`BILLING_HANDOFF_GRACE_SECONDS`), it is started
again, and each restart is a `billing_sweep` pipeline run the owner sees in the admin.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from billing.models import StripeEvent, TuitionSubscription
from billing.pipelines import REFERENCE_PREFIX
from billing.services.subscriptions import BILLING_TASK
from billing.webhooks import EVENT_TASK
from cedarheights.models import PipelineRun
from cedarheights.outbox import task_args_queued, task_enqueue_with_commit
from cedarheights.pipeline import Step, run_pipeline, step
from enrollment.models import Enrollment

logger = logging.getLogger(__name__)


def _lost_before():
    return timezone.now() - timedelta(seconds=settings.BILLING_HANDOFF_GRACE_SECONDS)


def _queued_ids(func: str) -> set[int]:
    return {args[0] for args in task_args_queued(func=func) if args}


def subscriptions_billing_lost() -> QuerySet[TuitionSubscription]:
    """Subscriptions that should be billing and are not: incomplete, no Stripe subscription, no billing run and
    no queued billing task, older than the grace period (and not restarted within it); their enrollment, if any,
    still active."""
    lost_before = _lost_before()
    billing_runs = PipelineRun.objects.filter(
        pipeline="billing", reference=Concat(Value(REFERENCE_PREFIX), Cast(OuterRef("pk"), CharField()))
    )
    return (
        TuitionSubscription.objects.filter(
            status=TuitionSubscription.Status.INCOMPLETE,
            stripe_subscription_id=None,
            created_at__lt=lost_before,
        )
        # On the row itself: a sweep that locks the row just after another sweep committed its restart is
        # checked again by PostgreSQL against the row's new version (with its stamp), and leaves it.
        .filter(Q(billing_restarted_at=None) | Q(billing_restarted_at__lt=lost_before))
        .filter(Q(enrollment=None) | Q(enrollment__status=Enrollment.Status.ACTIVE))
        .exclude(Exists(billing_runs))
        .exclude(pk__in=_queued_ids(BILLING_TASK))
        .order_by("pk")
    )


def stripe_events_lost() -> QuerySet[StripeEvent]:
    """Stripe events stored as received, never processed, with no queued task, older than the grace period."""
    return (
        StripeEvent.objects.filter(status=StripeEvent.Status.RECEIVED, received_at__lt=_lost_before())
        .exclude(pk__in=_queued_ids(EVENT_TASK))
        .order_by("pk")
    )


@dataclass
class RestartContext:
    record_id: int
    reference: str


@step("Start billing whose hand-off to the worker was lost (no billing run, no queued task)")
def restart_lost_billing(ctx: RestartContext) -> None:
    # The claim: a sweep waiting on this row's lock then finds it restarted and leaves it.
    TuitionSubscription.objects.filter(pk=ctx.record_id).update(billing_restarted_at=timezone.now())
    task_enqueue_with_commit(BILLING_TASK, ctx.record_id)


@step("Process a Stripe event whose hand-off to the worker was lost (received, no queued task)")
def reprocess_lost_event(ctx: RestartContext) -> None:
    task_enqueue_with_commit(EVENT_TASK, ctx.record_id)


def _restart(*, lost: QuerySet, restart: Step, ctx: RestartContext) -> bool:
    """Start one lost piece of work, unless another sweep has it (locked: skipped) or it moved on meanwhile."""
    # Its own transaction from the schedule and billing_reconcile; inside the caller's when one is open (a test
    # that seeds the demo in a transaction it rolls back).
    with transaction.atomic():
        if lost.select_for_update(skip_locked=True, of=("self",)).filter(pk=ctx.record_id).first() is None:
            return False
        # The run's record commits with the task it enqueued, both in this transaction.
        run_pipeline("billing_sweep", (restart,), ctx, atomic=False)
    return True


def billing_handoff_restart(*, subscription: TuitionSubscription) -> bool:
    """Start one subscription's lost billing with the card stored on it; False when there was nothing to do."""
    ctx = RestartContext(record_id=subscription.pk, reference=f"{REFERENCE_PREFIX}{subscription.pk}")
    return _restart(lost=subscriptions_billing_lost(), restart=restart_lost_billing, ctx=ctx)


def stripe_event_restart(*, event: StripeEvent) -> bool:
    """Process one stored event whose task was lost; False when there was nothing to do."""
    ctx = RestartContext(record_id=event.pk, reference=f"stripe_event:{event.stripe_id}")
    return _restart(lost=stripe_events_lost(), restart=reprocess_lost_event, ctx=ctx)


def billing_handoffs_recover() -> list[TuitionSubscription | StripeEvent]:
    """Start every lost billing and every lost Stripe event; return those this sweep started. Safe to run in
    several processes at once: each is started by one of them. One failing never stops the others."""
    started: list[TuitionSubscription | StripeEvent] = []
    for subscription in subscriptions_billing_lost():
        if _tried(billing_handoff_restart, subscription=subscription):
            started.append(subscription)
    for event in stripe_events_lost():
        if _tried(stripe_event_restart, event=event):
            started.append(event)
    return started


def _tried(restart, **record) -> bool:
    try:
        return restart(**record)
    except Exception:  # recorded in the log; the next sweep tries again
        logger.exception("Restarting a lost hand-off (%s) raised; the others go on.", record)
        return False
