"""Webhook bodies and Stripe-Signature headers as Stripe sends them."""

import hashlib
import hmac
import json
import time

from django.conf import settings as django_settings


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
