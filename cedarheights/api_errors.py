"""DRF's exception handler (REST_FRAMEWORK["EXCEPTION_HANDLER"]): whatever an API view raises, the one error body
(cedarheights/error_body.py) with a fitting status, never a 500 for bad input or a clash with stored data."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from cedarheights.error_body import domain_error_body, error_body
from cedarheights.errors import DatabaseUnavailable, DomainError
from cedarheights.outage import MESSAGE as OUTAGE_MESSAGE
from cedarheights.outage import is_outage, outage_note

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    request = context.get("request")
    outage = is_outage(exc)
    if outage:  # the database went away mid-request: nothing was kept (cedarheights/outage.py)
        outage_note(request._request, exc)
        exc = DatabaseUnavailable(OUTAGE_MESSAGE)
    if isinstance(exc, DomainError):
        response = Response(domain_error_body(request, exc), status=exc.status, headers=exc.headers())
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
        return None  # not an error of the request: Django's handler500 (cedarheights/error_handlers.py) answers
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
