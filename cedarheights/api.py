"""What every API view shares: one error body, pagination, the schema's error responses, idempotent creates."""

import copy
import hashlib
import logging
import re
import uuid
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.utils.crypto import salted_hmac
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from cedarheights.errors import DatabaseUnavailable, DomainError, InvalidInput, LessonConflict, ServiceUnavailable
from cedarheights.filters import check_offset
from cedarheights.models import IdempotencyRecord
from cedarheights.outage import MESSAGE as OUTAGE_MESSAGE
from cedarheights.outage import is_outage, outage_note

logger = logging.getLogger(__name__)

ERROR_STATUSES = ("400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "429", "503")
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API returns has this shape.",
    "properties": {
        "code": {"type": "string", "description": "Stable machine-readable reason, e.g. `invalid`, `not_found`."},
        "message": {"type": "string", "description": "A sentence a person can act on."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field of invalid input; nested fields are named like "
            "`children-0-date_of_birth`, the whole body `non_field_errors`.",
        },
        "request_id": {"type": "string", "description": "Quote it when reporting a problem."},
        "conflicting_lesson": {"type": "integer", "nullable": True, "description": "On `lesson_conflict`."},
        "retry_after": {
            "type": "integer",
            "description": "On `service_unavailable` (Stripe) and `unavailable` (our database): seconds before trying "
            "again, as in the `Retry-After` header.",
        },
    },
    "required": ["code", "message", "fields", "request_id"],
}


def error_body(request, *, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {
        "code": code,
        "message": message,
        "fields": fields or {},
        "request_id": getattr(request, "request_id", ""),
        **extra,
    }


def exception_handler(exc, context):
    request = context.get("request")
    outage = is_outage(exc)
    if outage:  # the database went away mid-request: nothing was kept (cedarheights/outage.py)
        outage_note(request._request, exc)
        exc = DatabaseUnavailable(OUTAGE_MESSAGE)
    if isinstance(exc, DomainError):
        extra = {"conflicting_lesson": exc.conflicting_lesson_id} if isinstance(exc, LessonConflict) else {}
        headers = {}
        if isinstance(exc, ServiceUnavailable):
            extra, headers = {"retry_after": exc.retry_after}, {"Retry-After": str(exc.retry_after)}
        body = error_body(request, code=exc.code, message=exc.message, fields=exc.fields, **extra)
        response = Response(body, status=exc.status, headers=headers)
        response._has_been_logged = outage  # an outage's one line is outage_note's warning
        return response
    if isinstance(exc, ProtectedError | RestrictedError):
        blocking = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        used_by = sorted({str(type(obj)._meta.verbose_name_plural) for obj in blocking})
        message = f"It is still in use by {', '.join(used_by)}; remove or move those first."
        return Response(error_body(request, code="in_use", message=message), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DataError):
        logger.warning("DataError reached the API: %s", exc)
        message = "A value is outside what can be stored (too large, or out of range)."
        return Response(error_body(request, code="invalid", message=message), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        # Last resort: validation should have caught it; a clash with stored data is still not a 500.
        logger.warning("IntegrityError reached the API: %s", exc)
        message = "This conflicts with data already stored."
        return Response(error_body(request, code="conflict", message=message), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flat_field_errors(response.data)
        response.data = error_body(request, code="invalid", message="Some fields need attention.", fields=fields)
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        code = "not_found" if isinstance(exc, Http404) else getattr(detail, "code", None)
        if isinstance(exc, DjangoPermissionDenied):
            code = "permission_denied"
        response.data = error_body(request, code=code or "error", message=str(detail))
    return response


def flat_field_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as one flat map: `children-0-date_of_birth` → messages (the names forms use)."""
    flat: dict[str, list[str]] = {}

    def add(name: str, messages: list[str]) -> None:
        flat.setdefault(name or "non_field_errors", []).extend(messages)

    if isinstance(errors, dict):
        for key, value in errors.items():
            name = prefix if key == "non_field_errors" and prefix else f"{prefix}-{key}" if prefix else str(key)
            for field, messages in flat_field_errors(value, name).items():
                add(field, messages)
    elif isinstance(errors, list) and all(isinstance(item, str) for item in errors):
        add(prefix, [str(item) for item in errors])
    elif isinstance(errors, list):
        for index, item in enumerate(errors):
            for field, messages in flat_field_errors(item, f"{prefix}-{index}").items():
                add(field, messages)
    else:
        add(prefix, [str(errors)])
    return flat


def json_not_found(request, exception=None):
    """404 for API paths no route matches: the same JSON body as every other API error."""
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse(error_body(request, code="not_found", message="No such API endpoint."), status=404)
    return page_not_found(request, exception)


def json_bad_request(request, exception=None):
    """A request Django refuses before any view can (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields):
    the same JSON body as every other API error under /api/ (it was Django's HTML page), Django's page elsewhere."""
    from django.views.defaults import bad_request

    if not request.path.startswith("/api/"):
        return bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        message = f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        return JsonResponse(error_body(request, code="too_large", message=message), status=413)
    return JsonResponse(error_body(request, code="bad_request", message="The request is malformed."), status=400)


def csrf_failure(request, reason=""):
    """A refused CSRF check: JSON under /api/, Django's page elsewhere."""
    from django.views.csrf import csrf_failure as page

    if request.path.startswith("/api/"):
        message = "CSRF check failed: send the token from GET /api/v1/auth/csrf/ as X-CSRFToken."
        return JsonResponse(error_body(request, code="csrf_failed", message=message), status=403)
    return page(request, reason)


REFUSED_FIELDS_DESCRIPTION = (
    "Invalid input (see `Error`). A field the caller may not write (read-only, unknown, or not theirs by role) "
    "is refused too, never ignored: each is named in `fields`, and nothing is changed."
)


UNAVAILABLE_RESPONSE = {
    "description": "Our database (`unavailable`) or Stripe (`service_unavailable`) could not be reached: nothing was "
    "kept. Send the same request again after `Retry-After` seconds, with the same `Idempotency-Key`.",
    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds before trying again."}},
}


# gunicorn (or the proxy in front) refuses a request line over its limit before the app sees it, in its own words.
URI_TOO_LONG_DESCRIPTION = "The address is longer than the server accepts (answered by the web server, not the API)."


def document_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents the one error body for every error status, and a request
    body admits only the fields it lists."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":  # COMPONENT_SPLIT_REQUEST's request bodies
            schema["additionalProperties"] = False
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("400", {"description": REFUSED_FIELDS_DESCRIPTION, **reference})
            responses.setdefault("503", {**UNAVAILABLE_RESPONSE, **reference})
            for code in ERROR_STATUSES:
                responses.setdefault(code, {"description": "Error (see `Error`).", **reference})
            responses.setdefault("414", {"description": URI_TOO_LONG_DESCRIPTION})
            for parameter in operation.setdefault("parameters", []):
                if parameter.get("in") == "query":  # `?page=&term=` as a form sends it: the same as leaving it out
                    parameter["allowEmptyValue"] = True
    return result


class StrictCharField(serializers.CharField):
    """Text must be sent as text, and its length is checked before surrounding whitespace is trimmed."""

    def run_validation(self, data=serializers.empty):
        if data not in (serializers.empty, None) and not isinstance(data, str):
            self.fail("invalid")
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class SaneDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value):
        try:
            return check_offset(super().to_internal_value(value))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class StrictEmailField(StrictCharField, serializers.EmailField):
    pass


LOCAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": LOCAL_TIME_PATTERN,
        "example": "16:00",
        "description": "Local wall-clock time in the school's zone, HH:MM[:SS], no offset.",
    }
)
class LocalTimeField(serializers.TimeField):
    """A weekly time is a wall-clock time in the school's zone: an offset would be a lie."""

    def to_internal_value(self, value):
        if not isinstance(value, str) or not re.match(LOCAL_TIME_PATTERN, value):
            raise serializers.ValidationError("Use a local time as HH:MM or HH:MM:SS, without an offset.")
        return super().to_internal_value(value)


READ_ONLY_MESSAGE = "This field cannot be written here."
UNKNOWN_MESSAGE = "There is no such field."


class RefuseUnwritableFields:
    """A key the caller may not write (read-only, unknown, or not theirs by role) is a 400 naming it.

    DRF's `to_internal_value` reads only the writable fields and drops every other key without a word, so a
    parent's `teacher` was answered 200 and ignored. Each role's serializer lists what it may write; this
    makes the rest an error, at every level of a nested body.
    """

    def to_internal_value(self, data):
        refused = self.refused_fields(data)
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if refused and isinstance(invalid.detail, Mapping):
                raise serializers.ValidationError({**invalid.detail, **refused}) from invalid
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

    def refused_fields(self, data) -> dict[str, list[str]]:
        if not isinstance(data, Mapping):
            return {}  # not an object at all: DRF's own error says so
        writable = {name for name, field in self.fields.items() if not field.read_only}
        return {
            name: [READ_ONLY_MESSAGE if name in self.fields else UNKNOWN_MESSAGE]
            for name in data
            if name not in writable
        }


class Serializer(RefuseUnwritableFields, serializers.Serializer):
    """The project's serializer for request bodies."""


class ModelSerializer(RefuseUnwritableFields, serializers.ModelSerializer):
    """The project's model serializer: unwritable fields refused, strict text lengths, local wall-clock times."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.TimeField: LocalTimeField,
        models.DateTimeField: SaneDateTimeField,
    }


class ModelCleanSerializer(ModelSerializer):
    """Runs the model's own validation (clean(), unique and database constraints) before a write.

    DRF skips `Model.full_clean()`; without this, a rule the model states would first be met as a 500.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        many = {f.name for f in model._meta.many_to_many}
        for name, value in attrs.items():
            if name not in many:
                setattr(candidate, name, value)
        try:
            candidate.full_clean()
        except DjangoValidationError as error:
            raise serializers.ValidationError(as_serializer_error(error)) from error
        return attrs


class Pagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        asked = request.query_params.get(self.page_size_query_param)
        if asked is not None and not (asked.isdigit() and 1 <= int(asked) <= self.max_page_size):
            message = f"A whole number from 1 to {self.max_page_size}."
            raise exceptions.ValidationError({self.page_size_query_param: [message]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size})
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


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
