"""Our tuition subscriptions hold Stripe's state and dates: after the local Stripe server's own events, in any
order, and when the owner charges the first month now."""

import json
import random
import threading
import time
import uuid
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from billing.models import Payment, PaymentFailure, StripeEvent, TuitionSubscription
from enrollment.inputs import ChildInput
from enrollment.pipelines import enrollment_submit
from enrollment.selectors import first_regular_lesson
from tests.billing.stripe_events import sign
from tests.enrollment.inputs import form_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
DECLINES = "4000000000000341"


@pytest.fixture
def recorded_events(stripe_server):
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
    stripe_server.request("POST", "/_config/webhooks/recorder", {"url": url, "secret": "whsec_recorder"})
    yield bodies
    stripe_server.request("DELETE", "/_config/webhooks/recorder")
    recorder.shutdown()


def enroll_two_children(school_ready, django_capture_on_commit_callbacks, card: str | None = None):
    piano, born = school_ready["piano"].pk, date(timezone.localdate().year - 9, 3, 4)
    form = form_for(
        school_ready,
        children=[ChildInput("Lucia", "Lopez", born, piano), ChildInput("Mateo", "Lopez", born, piano)],
        **({"payment_method_id": school_ready["stripe"].card(card)} if card else {}),
    )
    with django_capture_on_commit_callbacks(execute=True):
        return enrollment_submit(form=form, idempotency_key=uuid.uuid4())


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
    enrollments = enroll_two_children(school_ready, django_capture_on_commit_callbacks)
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


def test_the_parents_billing_page_names_the_first_regular_lesson_as_the_first_payment(
    school_ready, django_capture_on_commit_callbacks
):
    """Before the fix the page showed the local server's period end (a month after enrolling) once its event
    arrived, and no date before."""
    enrollments = enroll_two_children(school_ready, django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(enrollments[0].student.family.parents.get())
    page = client.get("/billing/").content.decode()
    for enrollment in enrollments:
        first = timezone.localtime(first_regular_lesson(enrollment=enrollment).start_at)
        assert first.date() > timezone.localdate()
        assert f"next payment {first:%B} {first.day}</p>" in page.replace("\n", "")


def test_the_owner_charges_the_first_month_now_and_sees_a_declined_card_at_once(
    school_ready, django_capture_on_commit_callbacks
):
    """The decline path a new school can reach the day it starts: enroll with the 0341 card, then the
    subscription admin's "Charge the first month now". Before it, a decline waited for the first lesson."""
    enrollment = enroll_two_children(school_ready, django_capture_on_commit_callbacks, card=DECLINES)[0]
    subscription = TuitionSubscription.objects.get(enrollment=enrollment)
    assert subscription.status == "trialing"
    mail.outbox.clear()
    owner = Client()
    owner.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))

    with django_capture_on_commit_callbacks(execute=True):
        answer = owner.post(
            "/admin/billing/tuitionsubscription/",
            {"action": "charge_now", "_selected_action": [subscription.pk]},
            follow=True,
        )

    failure = PaymentFailure.objects.get(payment__stripe_invoice_id__isnull=False)
    assert failure.status == "open" and failure.subscription_id == subscription.pk
    assert failure.payment.status == Payment.Status.FAILED and failure.reason == "Your card was declined."
    retry = timezone.localtime(failure.next_retry_at)
    assert f"declined (Your card was declined.). Next retry {retry:%B} {retry.day}" in answer.content.decode()
    parent = enrollment.student.family.parents.get()
    assert [m.subject for m in mail.outbox if m.to == [parent.email] and "did not go through" in m.subject]
    subscription.refresh_from_db()
    theirs = school_ready["stripe"].request("GET", f"/v1/subscriptions/{subscription.stripe_subscription_id}")
    assert subscription.status == theirs["status"] == "past_due"
    assert subscription.current_period_end == datetime.fromtimestamp(theirs["billing_cycle_anchor"], tz=UTC)

    again = owner.post(
        "/admin/billing/tuitionsubscription/",
        {"action": "charge_now", "_selected_action": [subscription.pk]},
        follow=True,
    )
    assert "Only a subscription still waiting for its first lesson can be charged now." in again.content.decode()
    assert Payment.objects.filter(family=subscription.family).count() == 1
