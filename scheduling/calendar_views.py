"""`/cal/<token>.ics`: a calendar subscription, read-only and rate-limited per link.

Calendar apps fetch it without signing in (the token is the secret), poll it, and ask "changed?" with the ETag or
date they were given: that answer costs the stamps, never the lessons (scheduling.calendar_feeds).
"""

from django.http import Http404, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe
from rest_framework.throttling import SimpleRateThrottle

from cedarheights.error_body import error_body
from cedarheights.selectors import school_today
from scheduling.calendar_feeds import (
    FeedValidators,
    calendar_feed_for_token,
    feed_text,
    feed_text_cached,
    feed_text_validators,
    feed_validators,
    token_hash,
)


class CalendarFeedThrottle(SimpleRateThrottle):
    """Fetches per link (`CALENDAR_FEED_RATE`), whoever asks: a leaked link cannot be read in a loop."""

    scope = "calendar_feed"

    def __init__(self, token: str):
        self.token = token
        super().__init__()

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": token_hash(self.token)}


@csrf_exempt  # read-only: any other method is a 405 (require_safe), not a CSRF page
@require_safe
def calendar_feed(request, token: str):
    feed = calendar_feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar.")
    throttle = CalendarFeedThrottle(token)
    if not throttle.allow_request(request, None):
        wait = int(throttle.wait() or 1)
        body = error_body(
            request, code="throttled", message=f"This calendar was fetched too often: try again in {wait} seconds."
        )
        return JsonResponse(body, status=429, headers={"Retry-After": str(wait)})
    today = school_today()  # once: the validators and the text speak of the same day
    stamped = feed_validators(feed=feed, today=today)
    # No stamps (SQLite): the feed is built every time, and its text's hash is the validator.
    built = None if stamped else feed_text(feed=feed, today=today)
    validators = stamped or feed_text_validators(built)
    if not_modified := _not_modified(request, validators):
        return not_modified
    built = built or feed_text_cached(feed=feed, validators=validators, today=today)
    # Shown in the calendar app, never downloaded: no Content-Disposition.
    return _headed(HttpResponse(built.text, content_type="text/calendar; charset=utf-8"), validators)


def _not_modified(request, validators: FeedValidators) -> HttpResponse | None:
    not_modified = get_conditional_response(
        request, etag=_etag(validators), last_modified=int(validators.last_modified.timestamp())
    )
    return not_modified and _headed(not_modified, validators)


def _etag(validators: FeedValidators) -> str:
    return f'"{validators.etag}"'


def _headed(response: HttpResponse, validators: FeedValidators) -> HttpResponse:
    response["ETag"] = _etag(validators)
    response["Last-Modified"] = http_date(validators.last_modified.timestamp())
    # Every poll asks again (with the validators above); shared caches never keep a secret link's answer.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex"
    return response
