"""Error reports to Sentry (only when `SENTRY_DSN` is set), scrubbed so that no one's data leaves the school.

A report keeps what finds the bug: the exception's type and module, the stack (files, functions, line numbers and
the lines of our code), the request's method and its view's route (not the path itself, which can hold a secret
token), the status, the logger's name and level, the signed-in user's id, release and environment. It never carries
a message: exception messages and log lines interpolate values (an IntegrityError's "Key (email)=(…)", a pipeline's
JSON line with its error text), so none is sent, and the message is read in the server's own log instead. Nor
request bodies, cookies, query strings, headers but the few in SAFE_HEADERS, a frame's local variables, or a
breadcrumb's message or data (SQL parameters, log lines). The SDK is also told not to gather them
(`send_default_pii=False`, no request bodies, no local variables); the scrubber holds even if a later SDK gathers
more.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration

# Headers that describe the request, never the person: everything else (Cookie, Authorization, X-Forwarded-For,
# Referer with its query, User-Agent) is dropped.
SAFE_HEADERS = frozenset({"content-type", "content-length", "accept", "host"})
# What a breadcrumb keeps: when and what kind, never what it said.
BREADCRUMB_KEYS = frozenset({"type", "category", "level", "timestamp"})
# What a frame keeps: where it is and our code's lines there.
FRAME_KEYS = frozenset(
    {
        *("filename", "abs_path", "module", "function", "lineno", "colno", "in_app"),
        *("pre_context", "context_line", "post_context"),
    }
)
# `message` is a captured message's text; `extra` whatever a caller attached.
REMOVED_TOP_LEVEL = ("message", "extra")


def sentry_init(*, dsn: str, environment: str, release: str | None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        integrations=[DjangoIntegration(transaction_style="url")],
        before_send=error_report_scrub,
        before_breadcrumb=breadcrumb_scrub,
    )


def error_report_scrub(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's `before_send`: the event with everything that could be someone's data removed (module docstring)."""
    for key in REMOVED_TOP_LEVEL:
        event.pop(key, None)
    if "request" in event:
        event["request"] = _request_scrub(event["request"], route=event.get("transaction"))
    if "user" in event:
        event["user"] = {"id": event["user"]["id"]} if event["user"].get("id") is not None else {}
    if "logentry" in event:
        # The logger's template too may carry values (f-strings, JSON lines): only that there was a message stays.
        event["logentry"] = {"message": "(message removed)"}
    for exception in (event.get("exception") or {}).get("values") or []:
        exception.pop("value", None)
        _stacktrace_scrub(exception.get("stacktrace"))
    for thread in (event.get("threads") or {}).get("values") or []:
        _stacktrace_scrub(thread.get("stacktrace"))
    _stacktrace_scrub(event.get("stacktrace"))
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [breadcrumb_scrub(crumb) for crumb in breadcrumbs.get("values") or []]
    elif isinstance(breadcrumbs, list):
        event["breadcrumbs"] = [breadcrumb_scrub(crumb) for crumb in breadcrumbs]
    return event


def breadcrumb_scrub(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's `before_breadcrumb`: a breadcrumb's kind and time, not its message or data."""
    return {key: value for key, value in crumb.items() if key in BREADCRUMB_KEYS}


def _request_scrub(request: dict[str, Any], *, route: str | None) -> dict[str, Any]:
    """The method, the safe headers, and the URL with its path replaced by the view's route (`/cal/{token}.ics`):
    a path can carry a secret (a calendar link's token, a password-reset link)."""
    headers = request.get("headers") or {}
    scheme, _, rest = (request.get("url") or "").partition("://")
    host = rest.split("/", 1)[0]
    path = route if route and route.startswith("/") else "/(path removed)"
    return {
        "method": request.get("method"),
        "url": f"{scheme}://{host}{path}" if scheme else path,
        "headers": {name: value for name, value in headers.items() if name.lower() in SAFE_HEADERS},
    }


def _stacktrace_scrub(stacktrace: dict[str, Any] | None) -> None:
    if stacktrace:
        stacktrace["frames"] = [
            {key: value for key, value in frame.items() if key in FRAME_KEYS} for frame in stacktrace.get("frames", [])
        ]
