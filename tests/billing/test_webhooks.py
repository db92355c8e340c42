"""Stripe webhooks through the real endpoint: verified, deduplicated, processed once, in any order."""

import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import LedgerEntry, Payment, PaymentFailure, Receipt, StripeEvent, TuitionSubscription
from billing.services.ledger import payment_record_succeeded
from cedarheights.models import EmailLog
from enrollment.models import Enrollment
from tests.billing.stripe_events import event, sign
from tests.factories import EnrollmentFactory, ParentFactory, StudentFactory, TuitionPlanFactory

URL = "/billing/stripe/webhook/"


def deliver(client: Client, payload: bytes, signature: str | None):
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post(URL, payload, content_type="application/json", headers=headers)


@pytest.fixture
def subscription(school):
    parent = ParentFactory(email="parent@example.com")
    enrollment = EnrollmentFactory(student=StudentFactory(family=parent.family), status="active")
    return TuitionSubscription.objects.create(
        family=parent.family,
        tuition_plan=TuitionPlanFactory(price_cents=14_000),
        enrollment=enrollment,
        stripe_subscription_id="sub_test_1",
        status="active",
    )


def invoice(invoice_id: str, subscription_id: str = "sub_test_1", amount: int = 14_000, pi: str | None = None) -> dict:
    return {
        "id": invoice_id,
        "object": "invoice",
        "subscription": subscription_id,
        "amount_due": amount,
        "amount_paid": amount,
        "currency": "cad",
        "status": "paid",
        "payment_intent": pi,
    }


@pytest.mark.django_db
class TestBadDeliveries:
    @pytest.mark.parametrize(
        "case", ["tampered", "wrong secret", "missing header", "301 s old", "301 s ahead", "garbage header"]
    )
    def test_is_refused_with_400_and_nothing_is_written(self, subscription, case):
        payload = event("invoice.paid", invoice("in_1"), event_id="evt_bad")
        now = int(time.time())
        signature = {
            "tampered": sign(payload),
            "wrong secret": sign(payload, secret="whsec_someone_else"),
            "missing header": None,
            "301 s old": sign(payload, at=now - 301),
            "301 s ahead": sign(payload, at=math.ceil(time.time()) + 301),  # int() could make it 300.x
            "garbage header": "nonsense",
        }[case]
        body = payload.replace(b"14000", b"1") if case == "tampered" else payload
        response = deliver(Client(), body, signature)
        assert response.status_code == 400
        assert not StripeEvent.objects.exists() and not Payment.objects.exists()

    @pytest.mark.parametrize(
        "payload",
        [b'{"foo":1}', b"[1]", b'"event"', b'{"id":"evt_1","type":"invoice.paid","created":1,"data":[]}'],
    )
    def test_a_signed_body_that_is_not_an_event_is_a_400_with_the_error_body(self, subscription, payload):
        """Failed before the fix: `{"foo":1}` signed with the right secret was a KeyError, a 500."""
        response = deliver(Client(), payload, sign(payload))
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "not_an_event" and body["request_id"] and "not a Stripe event" in body["message"]
        assert not StripeEvent.objects.exists()

    def test_a_299_s_old_delivery_is_accepted(self, subscription, django_capture_on_commit_callbacks):
        payload = event("invoice.paid", invoice("in_1"), event_id="evt_ok")
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(Client(), payload, sign(payload, at=int(time.time()) - 299))
        assert response.status_code == 200
        assert StripeEvent.objects.get().status == "processed"

    def test_an_unknown_type_is_stored_as_ignored_with_a_200(self, subscription):
        payload = event("customer.tax_id.created", {"id": "txi_1", "object": "tax_id"}, event_id="evt_unknown")
        assert deliver(Client(), payload, sign(payload)).status_code == 200
        assert StripeEvent.objects.get().status == "ignored"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_events_each_delivered_3_times_concurrently_are_processed_exactly_once(school):
    parent = ParentFactory(email="parent@example.com")
    TuitionSubscription.objects.create(
        family=parent.family,
        tuition_plan=TuitionPlanFactory(price_cents=14_000),
        stripe_subscription_id="sub_test_1",
        status="active",
    )
    deliveries = []
    for n in range(200):
        payload = event("invoice.paid", invoice(f"in_{n}"), event_id=f"evt_{n}")
        deliveries += [(payload, sign(payload))] * 3

    def post(delivery):
        try:
            return deliver(Client(), *delivery).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, deliveries))

    assert statuses == [200] * 600
    assert StripeEvent.objects.filter(status="processed").count() == 200
    assert Payment.objects.filter(status="succeeded").count() == 200
    assert LedgerEntry.objects.count() == 400  # one charge and one payment per invoice
    assert sorted(Receipt.objects.values_list("sequence", flat=True)) == list(range(1, 201))
    assert EmailLog.objects.filter(template="receipt").count() == 200
    assert len(mail.outbox) == 200


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
def test_renewal_failure_and_dunning_through_signed_events(
    stripe_server, subscription, django_capture_on_commit_callbacks
):
    client = Client()
    base = int(time.time()) - 100

    def send(kind, obj, n):
        payload = event(kind, obj, event_id=f"evt_dunning_{n}", created=base + n)
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, payload, sign(payload)).status_code == 200

    send("invoice.payment_failed", {**invoice("in_renew", pi="pi_unknown_to_the_server"), "status": "open"}, 1)
    failure = PaymentFailure.objects.get(payment__stripe_invoice_id="in_renew")
    assert failure.status == "open" and failure.payment.status == "failed" and failure.next_retry_at
    assert any("did not go through" in m.subject for m in mail.outbox if m.to == ["parent@example.com"])

    send("customer.subscription.updated", {"id": "sub_test_1", "object": "subscription", "status": "past_due"}, 2)
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    assert Enrollment.objects.get(pk=subscription.enrollment_id).status == "active"  # the grace period

    send("customer.subscription.updated", {"id": "sub_test_1", "object": "subscription", "status": "unpaid"}, 3)
    assert Enrollment.objects.get(pk=subscription.enrollment_id).status == "paused"
    assert any(m.subject.startswith("Tuition stopped") for m in mail.outbox)

    send("invoice.paid", invoice("in_renew"), 4)
    failure.refresh_from_db()
    assert failure.status == "recovered" and failure.payment.status == "succeeded"
    assert Enrollment.objects.get(pk=subscription.enrollment_id).status == "active"


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
