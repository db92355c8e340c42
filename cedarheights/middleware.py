import time
from dataclasses import asdict
from urllib.parse import urlsplit

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.http import JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from cedarheights.error_body import error_body
from cedarheights.selectors import school_settings_get


def database_free(view):
    """Mark a view no middleware may read the database for (the health probes): liveness never touches it, and
    readiness asks it once, itself, so an outage is its 503 body at once, not an error met on the way."""
    view.database_free = True
    return view


class SchoolTimeZoneMiddleware:
    """Show every time in the school's zone, as the owner set it in the admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "database_free", False):
            timezone.activate(school_settings_get().zone)


class RejectNulBytesMiddleware:
    """A NUL character can reach no query: PostgreSQL refuses it in text, which would be a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = (part for key, items in request.GET.lists() for part in (key, *items))
        if "\x00" in request.path or any("\x00" in value for value in values):
            body = error_body(request, code="invalid", message="Requests may not contain NUL characters.")
            return JsonResponse(body, status=400)
        return self.get_response(request)


class SessionLifetimeMiddleware:
    """End a signed-in session after SESSION_IDLE_MINUTES without a request, or SESSION_MAX_HOURS after sign-in,
    whoever it belongs to (the owner's admin included). The last request is written down only when a minute has
    passed since the last time, so an active session is saved once a minute rather than on every request."""

    STARTED = "_session_started"
    SEEN = "_session_seen"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session, now = request.session, int(time.time())
        if SESSION_KEY in session and self.STARTED in session:
            idle, age = now - session[self.SEEN], now - session[self.STARTED]
            if idle > settings.SESSION_IDLE_MINUTES * 60 or age > settings.SESSION_MAX_HOURS * 3600:
                logout(request)  # the session's row is deleted, and the request goes on signed out
            elif idle >= settings.SESSION_ACTIVITY_RESOLUTION:
                session[self.SEEN] = now
        response = self.get_response(request)
        if SESSION_KEY in session and self.STARTED not in session:  # signed in by this request (or before the limits)
            session[self.STARTED] = session[self.SEEN] = now
        return response


class NoStoreForCallersMiddleware:
    """`Cache-Control: no-store` on every answer made for one caller, so no browser or proxy keeps a copy: whatever a
    signed-in request gets (pages, receipts, API answers; DRF sets `request.user` for token callers too), and the
    sign-in roads, where credentials and tokens pass. Public pages and the public API keep their caching."""

    SIGN_IN_PATHS = ("/accounts/", "/api/v1/auth/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated or request.path.startswith(self.SIGN_IN_PATHS):
            patch_cache_control(response, no_store=True, private=True)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY) plus the origin STRIPE_JS_URL names, for its script, its
    card frames and its calls: Stripe's own in production, the local Stripe server's elsewhere.

    A response whose page used no nonce and whose view changed nothing of the policy (every API answer, most pages)
    gets the same header every time: it is built once per settings and reused, where django-csp rebuilds it on every
    response (a quarter of what the middleware stack costs a request). Every other response goes through
    django-csp's own road."""

    PER_RESPONSE = tuple(f"_csp_{part}{ro}" for part in ("config", "update", "replace", "exempt") for ro in ("", "_ro"))
    _fixed: tuple[tuple, str] | None = None

    def process_response(self, request, response):
        if (
            getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in self.PER_RESPONSE)
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES")
            or (settings.DEBUG and response.status_code in (404, 500))
        ):
            return super().process_response(request, response)
        # The settings objects themselves are the key: a test's override replaces them, and the header follows.
        key = (id(settings.CONTENT_SECURITY_POLICY), settings.STRIPE_JS_URL)
        if self._fixed is None or self._fixed[0] != key:
            self._fixed = (key, build_policy(**asdict(self.get_policy_parts(request, response))))
        if HEADER not in response:
            response[HEADER] = self._fixed[1]
        # As django-csp does once the header is written: a nonce asked for now could no longer reach it.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            stripe = "{0.scheme}://{0.netloc}".format(urlsplit(settings.STRIPE_JS_URL))
            stripe_directives = {name: [stripe] for name in ("script-src", "frame-src", "connect-src")}
            parts.update = stripe_directives | (parts.update or {})
        return parts


class LazyMessageMiddleware(MessageMiddleware):
    """Django's, with a request's message storage made when something first adds or reads a message, not on every
    request: an API answer or a calendar feed never does (the storage's cookie and session parts cost about a tenth
    of what the middleware stack costs a request)."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if type(messages) is SimpleLazyObject and messages._wrapped is empty:
            return response  # nothing touched the messages: nothing to store
        return super().process_response(request, response)
