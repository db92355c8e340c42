"""Stripe's events delivered twice, or in any order: applied once, and our subscriptions end in Stripe's last
state (the real webhook endpoint, signed as Stripe signs)."""

import json
import random
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import LedgerEntry, Payment, StripeEvent, TuitionSubscription
from billing.services.ledger import payment_record_succeeded
from billing.tasks import stripe_event_process
from cedarheights.errors import InvalidInput
from enrollment.selectors import first_regular_lesson
from tests.billing.enrolled import enroll_two_children
from tests.billing.stripe_events import deliver, event, invoice, sign
from tests.factories import ParentFactory, TuitionPlanFactory

# As in tests/billing: whatever reaches for Stripe reaches the local Stripe server.
pytestmark = pytest.mark.usefixtures("local_stripe")


@pytest.fixture
def recorded_events(local_stripe):
    """The events the local Stripe server sends, recorded by a webhook endpoint of our own, in arrival order."""
    bodies: list[bytes] = []

    class Record(BaseHTTPRequestHandler):
        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    recorder = ThreadingHTTPServer(("127.0.0.1", 0), Record)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{recorder.server_port}/"
    local_stripe.request("POST", "/_config/webhooks/recorder", {"url": url, "secret": "whsec_recorder"})
    yield bodies
    local_stripe.request("DELETE", "/_config/webhooks/recorder")
    recorder.shutdown()


def wait_for(bodies: list[bytes], event_type: str, count: int) -> None:
    deadline = time.monotonic() + 15
    while sum(json.loads(b)["type"] == event_type for b in bodies) < count:
        assert time.monotonic() < deadline, f"the local server sent no {count} {event_type} events"
        time.sleep(0.2)


def test_a_new_subscription_with_a_trial_holds_stripes_state_whatever_order_its_events_arrive_in(
    school_ready, recorded_events, django_capture_on_commit_callbacks
):
    """Before the fix the local server's `customer.subscription.created` said `incomplete` (it was exported
    before the trial was applied) and overwrote the `trialing` our pipeline had stored without a time."""
    enrollments = enroll_two_children(django_capture_on_commit_callbacks)
    wait_for(recorded_events, "customer.subscription.created", 2)
    time.sleep(1.5)  # anything else the server sends for them
    ours = TuitionSubscription.objects.filter(enrollment__in=enrollments)
    after_billing = {s.pk: (s.status, s.stripe_state_at, s.current_period_end) for s in ours}
    theirs = {
        s.stripe_subscription_id: school_ready["stripe"].request("GET", f"/v1/subscriptions/{s.stripe_subscription_id}")
        for s in ours
    }
    assert {s["status"] for s in theirs.values()} == {"trialing"}
    for subscription in ours:  # Stripe charges first at the first regular lesson
        first_lesson = first_regular_lesson(enrollment=subscription.enrollment).start_at
        assert theirs[subscription.stripe_subscription_id]["trial_end"] == int(first_lesson.timestamp())

    orders = [list(recorded_events), list(reversed(recorded_events))]
    orders += [random.Random(seed).sample(recorded_events, len(recorded_events)) for seed in range(4)]
    client = Client()
    for order in orders:
        StripeEvent.objects.all().delete()
        for pk, (status, state_at, period_end) in after_billing.items():
            TuitionSubscription.objects.filter(pk=pk).update(
                status=status, stripe_state_at=state_at, current_period_end=period_end
            )
        for body in order:
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    "/billing/stripe/webhook/",
                    body,
                    content_type="application/json",
                    headers={"Stripe-Signature": sign(body)},
                )
            assert response.status_code == 200
        for subscription in ours.all():
            stripe = theirs[subscription.stripe_subscription_id]
            assert subscription.status == stripe["status"]
            assert subscription.current_period_end == datetime.fromtimestamp(stripe["trial_end"], tz=UTC)


STATUS_CHANGES = st.lists(
    st.sampled_from(["active", "past_due", "active", "unpaid", "past_due"]), min_size=1, max_size=6
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=STATUS_CHANGES, canceled_at_end=st.booleans(), order=st.randoms(use_true_random=False))
def test_subscription_events_in_any_order_end_in_stripes_last_state(
    school, django_capture_on_commit_callbacks, changes, canceled_at_end, order
):
    family = ParentFactory().family
    stripe_id = f"sub_{family.pk}"
    ours = TuitionSubscription.objects.create(
        family=family, tuition_plan=TuitionPlanFactory(), status="incomplete", stripe_subscription_id=stripe_id
    )
    base = int(time.time()) - 1000
    history = [("customer.subscription.created", "incomplete")]
    history += [("customer.subscription.updated", status) for status in changes]
    if canceled_at_end:
        history.append(("customer.subscription.deleted", "canceled"))
    events = [
        event(
            kind,
            {"id": stripe_id, "object": "subscription", "status": status},
            event_id=f"evt_{stripe_id}_{i}",
            created=base + i,
        )
        for i, (kind, status) in enumerate(history)
    ]
    # Interleave renewals that do not touch the status.
    events += [
        event(
            "invoice.paid",
            invoice(f"in_{stripe_id}_{i}", stripe_id),
            event_id=f"evt_{stripe_id}_paid{i}",
            created=base + i,
        )
        for i in range(2)
    ]
    order.shuffle(events)

    client = Client()
    seen_canceled = False
    for payload in events:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, payload, sign(payload)).status_code == 200
        ours.refresh_from_db()
        seen_canceled = seen_canceled or ours.status == "canceled"
        assert not (seen_canceled and ours.status != "canceled"), "a canceled subscription came back"
    assert ours.status == history[-1][1]


@pytest.mark.django_db
def test_a_refund_event_delivered_twice_refunds_once(subscription, django_capture_on_commit_callbacks):
    payment = payment_record_succeeded(
        payment=Payment.objects.create(
            family=subscription.family, amount_cents=5_000, stripe_payment_intent_id="pi_lesson_1"
        )
    )
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_lesson_1",
        "amount_refunded": 2_000,
        "refunds": {"data": [{"id": "re_1", "amount": 2_000, "reason": "requested_by_customer"}]},
    }
    for n in range(2):
        payload = event("charge.refunded", charge, event_id=f"evt_refund_{n}")
        with django_capture_on_commit_callbacks(execute=True):
            deliver(Client(), payload, sign(payload))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded_cents) == ("partially_refunded", 2_000)
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


@pytest.mark.django_db
def test_an_event_processed_again_by_its_task_changes_nothing(subscription, django_capture_on_commit_callbacks):
    """django-q2 hands a task out again when its worker died before acknowledging it: the event is applied once.
    Made to fail first: without the status check in `stripe_event_process`, the event was applied again."""
    payload = event("invoice.paid", invoice("in_again"), event_id="evt_again")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(Client(), payload, sign(payload)).status_code == 200
    processed = StripeEvent.objects.get(stripe_id="evt_again")
    assert processed.status == "processed"

    with django_capture_on_commit_callbacks(execute=True):
        stripe_event_process(processed.pk)

    assert StripeEvent.objects.get(pk=processed.pk).processed_at == processed.processed_at
    assert Payment.objects.get(stripe_invoice_id="in_again").status == "succeeded"
    assert LedgerEntry.objects.filter(family=subscription.family).count() == 2  # one charge, one payment
    assert len([m for m in mail.outbox if m.subject.startswith("Your receipt")]) == 1


def refund_beyond_what_was_paid(subscription) -> StripeEvent:
    """A stored `charge.refunded` whose refund exceeds what we hold as paid: applying it fails (InvalidInput)."""
    payment_record_succeeded(
        payment=Payment.objects.create(family=subscription.family, amount_cents=5_000, stripe_payment_intent_id="pi_x")
    )
    too_much = {
        "id": "ch_x",
        "object": "charge",
        "payment_intent": "pi_x",
        "refunds": {"data": [{"id": "re_x", "amount": 6_000}]},
    }
    payload = event("charge.refunded", too_much, event_id="evt_too_much")
    assert deliver(Client(), payload, sign(payload)).status_code == 200  # stored; its task runs after the commit
    return StripeEvent.objects.get(stripe_id="evt_too_much")


@pytest.mark.django_db
def test_an_event_that_fails_is_raised_for_django_q2_and_applied_again_by_the_retry(subscription):
    stored = refund_beyond_what_was_paid(subscription)

    for _attempt in range(2):  # the task, then django-q2's retry: each applies it (and fails) again
        with pytest.raises(InvalidInput):
            stripe_event_process(stored.pk)

    assert StripeEvent.objects.get(pk=stored.pk).status != "processed"
    assert Payment.objects.get(stripe_payment_intent_id="pi_x").amount_refunded_cents == 0
    assert not LedgerEntry.objects.filter(kind="refund").exists()


@pytest.mark.django_db
def test_an_event_that_fails_is_recorded_failed_with_its_error(subscription):
    """Made to fail first: the failure was saved inside the transaction its own raise rolled back."""
    stored = refund_beyond_what_was_paid(subscription)

    with pytest.raises(InvalidInput):
        stripe_event_process(stored.pk)

    stored.refresh_from_db()
    assert stored.status == "failed" and stored.error.startswith("InvalidInput: ")
