"""The one error body every JSON answer carries: `{"code", "message", "fields", "request_id", …}`, documented as
`Error` in the API schema (cedarheights/api_schema.py) and its codes in cedarheights/errors.py (`ERROR_CODES`).

DRF's exception handler (cedarheights/api_errors.py), Django's own error handlers (cedarheights/error_handlers.py),
the outage answer, a paused sign-in and the Stripe webhook all build it here. Free of DRF and of models on purpose:
the outage's log filter loads this before the apps are ready.
"""

from django.http import JsonResponse

from cedarheights.errors import DomainError


def is_api(request) -> bool:
    """Under /api/ every error answer is this body, whatever refused the request."""
    return request.path.startswith("/api/")


def error_body(request, *, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {
        "code": code,
        "message": message,
        "fields": fields or {},
        "request_id": getattr(request, "request_id", ""),
        **extra,
    }


def domain_error_body(request, error: DomainError) -> dict:
    return error_body(request, code=error.code, message=error.message, fields=error.fields, **error.body_extra())


def domain_error_response(request, error: DomainError) -> JsonResponse:
    """A domain error answered outside DRF exactly as a DRF view answers it: its status, body and headers."""
    return JsonResponse(domain_error_body(request, error), status=error.status, headers=error.headers())
