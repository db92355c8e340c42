"""Django's own error answers (handler400/403/404/500 in cedarheights/urls.py, CSRF_FAILURE_VIEW): under /api/
the one error body, as every API error; elsewhere Django's pages. They answer what no view could: no route, a
request refused before any view, an error no view caught."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import csrf, defaults

from cedarheights.error_body import error_body, is_api

CSRF_FAILED = "CSRF check failed: send the token from GET /api/v1/auth/csrf/ as X-CSRFToken."
PERMISSION_DENIED = "You do not have permission to perform this action."  # DRF's words for the same refusal
SERVER_ERROR = "Something went wrong on our side and was logged; quote the request id if it happens again."


def json_bad_request(request, exception=None):
    """A request Django refuses before any view can (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields)."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        message = f"The request body is too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."
        return JsonResponse(error_body(request, code="too_large", message=message), status=413)
    return JsonResponse(error_body(request, code="bad_request", message="The request is malformed."), status=400)


def json_permission_denied(request, exception=None):
    """Django's PermissionDenied raised outside a DRF view (DRF's own views answer it through its handler)."""
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(error_body(request, code="permission_denied", message=PERMISSION_DENIED), status=403)


def json_not_found(request, exception=None):
    """An API path no route matches."""
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body(request, code="not_found", message="No such API endpoint."), status=404)


def json_server_error(request):
    """An error no view caught (DRF re-raises what its handler does not know): JSON for an API client, never
    Django's HTML page. An outage is answered 503 instead, by cedarheights/outage.py."""
    if not is_api(request):
        return defaults.server_error(request)
    return JsonResponse(error_body(request, code="server_error", message=SERVER_ERROR), status=500)


def csrf_failure(request, reason=""):
    """A refused CSRF check (the session sign-in, which checks it itself)."""
    if not is_api(request):
        return csrf.csrf_failure(request, reason)
    return JsonResponse(error_body(request, code="csrf_failed", message=CSRF_FAILED), status=403)
