"""Stripe webhooks through the real endpoint: verified, applied, and followed by dunning. Deliveries twice, at once or
in any order: tests/reliability/test_stripe_event_replays.py and test_billing_races.py."""

import math
import time

import pytest
from django.core import mail
from django.test import Client

from billing.models import Payment, PaymentFailure, StripeEvent
from enrollment.models import Enrollment
from tests.billing.stripe_events import deliver, event, invoice, sign


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
