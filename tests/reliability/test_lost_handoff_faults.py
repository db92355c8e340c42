"""Billing whose hand-off to the worker was lost is started by the next sweep, once; work on its way is left alone.

Real PostgreSQL commits and the local Stripe server. The hand-off is made on django-q2's ORM queue (the tests'
`sync` mode turned off while the enrollment commits), and lost the way a crash or a purge loses it: its
queue row deleted after the commit.
"""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from billing.handoffs import billing_handoffs_recover
from billing.models import BillingProfile, StripeEvent, TuitionSubscription
from billing.services.subscriptions import BILLING_TASK, billing_start
from cedarheights.models import PipelineRun
from enrollment.pipelines import enrollment_submit
from tests.concurrency import at_once
from tests.factories import EnrollmentInputFactory, ParentFactory

# As in tests/billing: whatever reaches for Stripe reaches the local Stripe server.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.usefixtures("local_stripe")]


@pytest.fixture
def queued_on_the_orm_broker(monkeypatch):
    """Hand-offs made while this is on are queued for a worker (django-q2's ORM queue), not run inline."""

    def queue(on: bool = True):
        monkeypatch.setattr(Conf, "SYNC", not on)

    return queue


def lose_billing_task(subscription: TuitionSubscription) -> None:
    """The hand-off is lost after the commit: its queue row is gone."""
    for row in OrmQ.objects.all():
        if row.func() == BILLING_TASK and row.args() == (subscription.pk,):
            row.delete()


def made_ago(subscription: TuitionSubscription, minutes: int) -> None:
    TuitionSubscription.objects.filter(pk=subscription.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


def grace_minutes(settings) -> int:
    return settings.BILLING_HANDOFF_GRACE_SECONDS // 60


def test_an_enrollment_whose_billing_hand_off_was_lost_is_billed_by_the_next_sweep_once(
    school_ready, queued_on_the_orm_broker, settings
):
    """Made to fail first: without the sweeper nothing ever starts it (the issue's family never billed)."""
    # Given a real enrollment, committed, whose billing task was lost after the commit
    queued_on_the_orm_broker()
    enrollment = enrollment_submit(form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4())[0]
    subscription = TuitionSubscription.objects.get(enrollment=enrollment)
    lose_billing_task(subscription)
    made_ago(subscription, grace_minutes(settings) + 1)
    queued_on_the_orm_broker(False)  # the restarted billing runs inline, against the local Stripe server

    # When two sweeps run at once, and then another
    started = at_once(billing_handoffs_recover)
    again = billing_handoffs_recover()

    # Then billing started once, on the card given at enrollment, and the owner sees the restart
    assert sorted(len(s) for s in started) == [0, 1] and again == []
    subscription.refresh_from_db()
    assert subscription.stripe_subscription_id and subscription.status == TuitionSubscription.Status.TRIALING
    assert subscription.billing_restarted_at is not None
    assert len(school_ready["stripe"].list("subscriptions")) == 1
    assert len(school_ready["stripe"].list("customers")) == 1
    assert BillingProfile.objects.get(family=subscription.family).default_payment_method_id == (
        subscription.payment_method_id
    )
    reference = f"subscription:{subscription.pk}"
    sweeps = PipelineRun.objects.filter(pipeline="billing_sweep", reference=reference)
    assert [(run.status, [s.name for s in run.steps.all()]) for run in sweeps] == [
        ("succeeded", ["restart_lost_billing"])
    ]
    assert PipelineRun.objects.filter(pipeline="billing", reference=reference, status="succeeded").count() == 1


def test_the_sweep_leaves_alone_billing_still_queued_already_run_or_too_young(
    school_ready, queued_on_the_orm_broker, settings
):
    # Given three subscriptions whose billing has not started at Stripe
    queued_on_the_orm_broker()
    family, plan = ParentFactory().family, school_ready["plan"]
    card = school_ready["stripe"].card("4242424242424242")
    still_queued, already_run, young = (
        billing_start(family=family, tuition_plan=plan, payment_method_id=card) for _ in range(3)
    )
    made_ago(still_queued, grace_minutes(settings) + 5)  # a long queue: its task row is still there
    lose_billing_task(already_run)
    made_ago(already_run, grace_minutes(settings) + 5)
    PipelineRun.objects.create(
        pipeline="billing",
        reference=f"subscription:{already_run.pk}",
        status="failed",
        started_at=timezone.now(),
        duration_ms=1,
    )  # it ran and failed: the owner's to look at, not the sweeper's
    lose_billing_task(young)  # lost, but still within the grace period: it may be on its way
    made_ago(young, grace_minutes(settings) - 1)
    queued_on_the_orm_broker(False)

    # When the sweep runs, then Nothing is started
    assert billing_handoffs_recover() == []
    assert not PipelineRun.objects.filter(pipeline="billing_sweep").exists()
    assert school_ready["stripe"].list("subscriptions") == []
    assert TuitionSubscription.objects.filter(billing_restarted_at__isnull=False).count() == 0


def test_billing_reconcile_lists_a_lost_hand_off_and_starts_it_with_commit(
    school_ready, queued_on_the_orm_broker, settings
):
    queued_on_the_orm_broker()
    family = ParentFactory().family
    card = school_ready["stripe"].card("4242424242424242")
    subscription = billing_start(family=family, tuition_plan=school_ready["plan"], payment_method_id=card)
    lose_billing_task(subscription)
    made_ago(subscription, grace_minutes(settings) + 1)
    queued_on_the_orm_broker(False)

    listed = reconcile()
    assert "billing never started" in listed and "1 mismatch" in listed
    assert school_ready["stripe"].list("subscriptions") == []  # listing starts nothing

    assert "repaired:" in reconcile("--commit")
    assert TuitionSubscription.objects.get(pk=subscription.pk).stripe_subscription_id
    assert "0 mismatch" in reconcile()


def test_a_stripe_event_received_and_never_handed_to_the_worker_is_processed_by_the_sweep(school, settings):
    # Given an event stored long ago whose task was lost (a card's new expiry, for a family's card on file)
    profile = BillingProfile.objects.create(family=ParentFactory().family, default_payment_method_id="pm_lost")
    event = StripeEvent.objects.create(
        stripe_id="evt_lost",
        type="payment_method.updated",
        created=timezone.now(),
        payload={"data": {"object": {"id": "pm_lost", "card": {"brand": "visa", "last4": "4242", "exp_year": 2031}}}},
    )
    StripeEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=60))

    # When the sweep runs twice
    first, second = billing_handoffs_recover(), billing_handoffs_recover()

    # Then it was processed once
    assert [e.pk for e in first] == [event.pk] and second == []
    assert StripeEvent.objects.get(pk=event.pk).status == StripeEvent.Status.PROCESSED
    profile.refresh_from_db()
    assert (profile.card_last4, profile.card_exp_year) == ("4242", 2031)
    assert PipelineRun.objects.filter(pipeline="billing_sweep", reference="stripe_event:evt_lost").count() == 1


def reconcile(*args) -> str:
    out = StringIO()
    call_command("billing_reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()
