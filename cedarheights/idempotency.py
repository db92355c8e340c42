"""Idempotent creates: a creating POST with an `Idempotency-Key` runs once per caller and request, and the same
request again replays the first answer (`Idempotent-Replayed: true`)."""

import hashlib
import uuid
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from rest_framework import status
from rest_framework.response import Response

from cedarheights.errors import DomainError, InvalidInput
from cedarheights.models import IdempotencyRecord


class _Replayable(Exception):
    """Carries a failed response out of the transaction, so its key is released for a retry."""

    def __init__(self, response):
        self.response = response


def _idempotency_terms(request) -> tuple[str, str, str] | None:
    """(scope, key, fingerprint) of a request sent with an `Idempotency-Key`: the key belongs to its caller (the
    signed-in user, else every anonymous caller), and the fingerprint (method, path, body) is kept with it, so a
    replay answers only the same request from the same caller."""
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        return None
    if len(key) > 255 or not key.isprintable():
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 printable characters.", fields={"Idempotency-Key": ["Use a UUID."]}
        )
    scope = f"user:{request.user.pk}" if request.user.is_authenticated else "anonymous"
    fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()
    return scope, key, fingerprint


def idempotent(request, create: Callable[[], Response]) -> Response:
    """Run a creating POST once per `Idempotency-Key`: the same key replays the first successful response.

    The key is claimed by a unique insert in the same transaction as the create: a concurrent duplicate
    waits for it, then replays it. A failed create releases the key so the client can try again.
    """
    terms = _idempotency_terms(request)
    if terms is None:
        return create()
    scope, key, fingerprint = terms
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=fingerprint)
            except IntegrityError:
                return _replay(IdempotencyRecord.objects.get(scope=scope, key=key), fingerprint=fingerprint)
            response = create()
            if response.status_code >= 400:
                raise _Replayable(response)
            record.status_code, record.response_body = response.status_code, response.data
            record.save(update_fields=["status_code", "response_body"])
            return response
    except _Replayable as failed:
        return failed.response


def idempotent_durable(request, create: Callable[[uuid.UUID], Response]) -> Response:
    """`idempotent` for a create that owns its durable transaction and replays itself by a key it is given (the
    enrollment pipeline).

    The claim commits first; `create` gets a key the server derives from the claim (caller, client's key and
    body) with its secret: the same request from the same caller reaches the same result, even after a first
    try stopped midway, and no one can derive another caller's. Without an `Idempotency-Key`, a fresh key.
    """
    terms = _idempotency_terms(request)
    if terms is None:
        return create(uuid.uuid4())
    scope, key, fingerprint = terms
    try:
        with transaction.atomic():
            record, claimed = IdempotencyRecord.objects.create(scope=scope, key=key, fingerprint=fingerprint), True
    except IntegrityError:
        record, claimed = IdempotencyRecord.objects.get(scope=scope, key=key), False
        if record.fingerprint != fingerprint or record.status_code is not None:
            return _replay(record, fingerprint=fingerprint)
        # Still running, or stopped midway: running again with the same derived key reaches the same result.
    derived = salted_hmac("idempotency-durable", f"{scope}\n{key}\n{fingerprint}", algorithm="sha256").digest()
    try:
        response = create(uuid.UUID(bytes=derived[:16], version=4))
    except Exception:
        if claimed:
            record.delete()
        raise
    if response.status_code >= 400:
        if claimed:
            record.delete()
        return response
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code, response_body=response.data)
    return response


def _replay(record: IdempotencyRecord, *, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise DomainError(
            "This Idempotency-Key was already used for a different request.", code="idempotency_key_reused"
        )
    return Response(
        record.response_body,
        status=record.status_code or status.HTTP_201_CREATED,
        headers={"Idempotent-Replayed": "true"},
    )


class IdempotentCreateMixin:
    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs))
