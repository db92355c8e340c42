"""A database outage (PostgreSQL restarting, a backend terminated, the host out of reach) answers 503 with
`Retry-After`, whatever road the error takes: never a 500 page or a stack trace, with DEBUG on or off. Redis
(with REDIS_URL: the cache that rate limits, free time and settings are read from, and the task broker) out of
reach, or too slow to answer within its socket timeout, is an outage too and takes the same roads.

Django turns an exception into a response in more than one place. A view's error passes the middleware's
`process_exception`, but a middleware is wrapped in `convert_exception_to_response` on its own, so an error
raised inside one (the session loaded by `SessionLifetimeMiddleware`, the lazy user read by
`NoStoreForCallersMiddleware`, axes, the time zone's settings read in `process_view`) becomes a response right
there: `handler500`, or with DEBUG the technical 500 page (whose frames' querysets would query the dead database
again). No middleware above ever sees the exception. What every road does share is
`response_for_exception`, which sends `got_request_exception` for any error it does not know, while the
exception is being handled, before it builds that 500 or logs it. So:

1. `request_failed` (connected to that signal) recognises an outage and notes it on the request: the error,
   a reporter class that builds no technical page, and an anonymous user, so nothing later looks the user up;
   it logs one warning line.
2. `OutageMiddleware`, high in MIDDLEWARE (below the request log and the security headers, above everything
   that reads the database), swaps whatever 500 came back for the outage answer: the API's error body, or a
   short page rendered from a template with no request context (no context processor, no user, no session);
   a 5xx answer writes no session (Django's SessionMiddleware saves only below 500).
3. `OutageLogFilter` on `django.request` drops Django's "Internal Server Error" record with its traceback for
   a noted outage; the warning of step 1 is the one line.

The API's own exception handler (cedarheights/api_errors.py) answers the documented body itself and notes the outage
the same way; this middleware leaves a 503 it finds alone. A transaction that fails at commit, or whose
rollback fails because the connection died, raises the same OperationalError/InterfaceError out of
`atomic()` (Django drops the connection when the rollback fails), so it takes the same roads.
"""

import functools
import logging
import secrets
import sys

import redis
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.debug import ExceptionReporter
from django_redis.exceptions import ConnectionInterrupted

from cedarheights.error_body import domain_error_response
from cedarheights.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

MESSAGE = "We could not reach our records; try again in a moment."


# django-redis wraps what the client raised (a refused or lost connection, a timeout, a server still loading its
# data) in ConnectionInterrupted; the task broker and a plain client raise redis' own.
REDIS_OUTAGE_ERRORS = (ConnectionInterrupted, redis.ConnectionError, redis.TimeoutError)


@functools.cache
def outage_errors() -> tuple[type[Exception], ...]:
    """What the driver raises when the server is down, restarting, refusing connections, or ended our backend
    (psycopg: AdminShutdown, CannotConnectNow, a lost or closed connection), the task broker on the same database
    included: Django's wrapped errors, and the driver's own, which escape unwrapped where Django does not wrap the
    call (closing a server-side cursor, as `.iterator()` and a form's model choices do); and Redis out of reach."""
    drivers = {connections[alias].Database for alias in connections}
    return (
        OperationalError,
        InterfaceError,
        *(e for d in drivers for e in (d.OperationalError, d.InterfaceError)),
        *REDIS_OUTAGE_ERRORS,
    )


def _unreachable(error: BaseException) -> str:
    return "Redis" if isinstance(error, REDIS_OUTAGE_ERRORS) else "Database"


def is_outage(error: BaseException | None) -> bool:
    return isinstance(error, outage_errors())


def outage_note(request: HttpRequest, error: BaseException) -> None:
    """Mark the request as failed by an outage (once), so the roads after it answer 503 without the database."""
    from django.contrib.auth.models import AnonymousUser  # here: LOGGING loads this module before the apps

    if getattr(request, "outage", None) is not None:
        return
    request.outage = error
    request.exception_reporter_class = QuietOutageReporter
    request.user = AnonymousUser()
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    logger.warning(
        "%s unavailable, answered 503: %s %s (%s: %s)",
        _unreachable(error),
        request.method,
        request.path,
        type(error).__name__,
        first_line,
    )


def request_failed(sender, request=None, **kwargs) -> None:
    """`got_request_exception` receiver: called inside Django's `except`, so the error is `sys.exc_info()`'s."""
    error = sys.exc_info()[1]
    if request is not None and is_outage(error):
        outage_note(request, error)


def wants_page(request: HttpRequest) -> bool:
    """A browser asking for a page gets the page; the API, Stripe and any other client the JSON body."""
    if request.path.startswith("/api/"):
        return False
    return request.get_preferred_type(["application/json", "text/html"]) == "text/html"


def outage_response(request: HttpRequest) -> HttpResponse:
    """The 503 answer, made without the database: the page or the error body, both with `Retry-After`."""
    error = DatabaseUnavailable(MESSAGE)
    if wants_page(request):
        nonce = secrets.token_urlsafe(16)
        page = render_to_string("outage.html", {"retry_after": error.retry_after, "nonce": nonce})
        response = HttpResponse(page, status=error.status, headers=error.headers())
        response["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'"
        )
    else:
        response = domain_error_response(request, error)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # the warning in `outage_note` is its one line
    return response


class OutageMiddleware:
    """Answers 503 for a request an outage failed anywhere below (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "outage", None) is not None and response.status_code != 503:
            return outage_response(request)
        return response


class OutageLogFilter(logging.Filter):
    """Drops Django's 500 record (with its traceback) for a request an outage failed: it was logged once already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(getattr(record, "request", None), "outage", None) is None


class QuietOutageReporter(ExceptionReporter):
    """With DEBUG on, the technical 500 page is not built for an outage (OutageMiddleware replaces it anyway):
    rendering its frames' local values could run querysets against the database that is down."""

    def get_traceback_html(self):
        return MESSAGE

    def get_traceback_text(self):
        return MESSAGE
