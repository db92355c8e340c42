"""Webhook bodies and Stripe-Signature headers as Stripe sends them."""

import hashlib
import hmac
import json
import time

from django.conf import settings as django_settings
from django.test import Client

WEBHOOK_URL = "/billing/stripe/webhook/"


def sign(payload: bytes, *, secret: str | None = None, at: int | None = None) -> str:
    """A Stripe-Signature header as Stripe makes it: t=…,v1=HMAC-SHA256(secret, "t.body")."""
    at = int(time.time()) if at is None else at
    secret = secret or django_settings.STRIPE_WEBHOOK_SECRET
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def event(event_type: str, obj: dict, *, event_id: str, created: int | None = None) -> bytes:
    """A webhook event in the current API shape."""
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "type": event_type,
            "created": created or int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
    ).encode()


def deliver(client: Client, payload: bytes, signature: str | None):
    """The body posted to our webhook endpoint, as Stripe posts it (without a signature header when None)."""
    headers = {"Stripe-Signature": signature} if signature is not None else {}
    return client.post(WEBHOOK_URL, payload, content_type="application/json", headers=headers)


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
