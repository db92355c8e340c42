"""Calendar subscriptions: a secret link per person and kind (a family's lessons, a teacher's, the whole school's),
made, rotated and revoked here, and what the link serves (`/cal/<token>.ics`, scheduling/calendar_views.py).

The token is 256 random bits, shown once; only its SHA-256 is stored, so a leaked database holds no working link.
A feed answers "not modified" from the calendar stamps (CalendarStamp, kept by PostgreSQL triggers) without reading
a lesson; on SQLite, which has no triggers, it is built and its text's hash is the validator.
"""

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from cedarheights.errors import InvalidInput
from cedarheights.models import AuditEvent
from cedarheights.roles import is_parent, is_school_admin, is_teacher
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from scheduling.calendars import EVENT_FIELDS, EVENT_RELATED, calendar_ics
from scheduling.models import CalendarFeed, CalendarStamp, Lesson, Student
from scheduling.selectors import local_midnight

# The window every feed covers, from the school's today.
DAYS_BACK = 30
DAYS_AHEAD = 180
# A cancelled lesson stays (STATUS:CANCELLED) this long after it was cancelled, so clients that keep it strike it out.
CANCELLED_KEPT = timedelta(days=30)
# Raised when what a feed prints changes shape, so every validator issued before is stale.
FEED_FORMAT = 1
# How long a feed's text stays cached: only for memory's sake, as anything it prints changing gives it new
# validators, hence a new key (the day is one of them).
FEED_TEXT_SECONDS = 60 * 60

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")

# Where each kind of feed links a lesson: the page its reader can open.
LESSON_PAGE = {
    CalendarFeed.Scope.FAMILY: "family-lesson",
    CalendarFeed.Scope.TEACHER: "teach-lesson",
    CalendarFeed.Scope.SCHOOL: "admin:scheduling_lesson_change",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_scopes_of(user) -> list[str]:
    """The feeds a person may hold: a parent their family's, a teacher their own, the owner the whole school's."""
    scopes = []
    if is_parent(user):
        scopes.append(CalendarFeed.Scope.FAMILY)
    if is_teacher(user):
        scopes.append(CalendarFeed.Scope.TEACHER)
    if is_school_admin(user):
        scopes.append(CalendarFeed.Scope.SCHOOL)
    return scopes


@transaction.atomic
def calendar_feed_issue(*, holder, scope: str, actor) -> tuple[CalendarFeed, str]:
    """A new secret link for `holder`'s `scope` calendar, and its token (shown once, never stored): the holder's
    previous link of that kind, if any, stops working now (a rotation)."""
    if scope not in calendar_scopes_of(holder):
        message = f"{holder} cannot hold a {CalendarFeed.Scope(scope).label.lower()} calendar."
        raise InvalidInput(message, fields={"scope": [message]})
    # The holder's row first: two requests at once (a double click, two tabs) take turns, the second replacing the
    # first's link, instead of meeting on the one-live-link constraint.
    list(get_user_model().objects.select_for_update().filter(pk=holder.pk).values_list("pk"))
    for live in CalendarFeed.objects.select_for_update().filter(holder=holder, scope=scope, revoked_at__isnull=True):
        _revoke(live, actor=actor)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    feed = CalendarFeed.objects.create(
        holder=holder,
        scope=scope,
        family_id=holder.family_id if scope == CalendarFeed.Scope.FAMILY else None,
        teacher=holder.teacher if scope == CalendarFeed.Scope.TEACHER else None,
        token_hash=token_hash(token),
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=feed, changes={"scope": ["", scope]})
    return feed, token


@transaction.atomic
def calendar_feed_revoke(*, feed: CalendarFeed, actor) -> CalendarFeed:
    """The link stops working now (a 404 from then on). Revoking it again changes nothing."""
    feed = CalendarFeed.objects.select_for_update().get(pk=feed.pk)
    if feed.revoked_at is None:
        _revoke(feed, actor=actor)
    return feed


def _revoke(feed: CalendarFeed, *, actor) -> None:
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=feed, changes={"revoked_at": [None, "now"]})


def calendar_feeds_of(user) -> QuerySet[CalendarFeed]:
    """The person's live links, newest first."""
    return CalendarFeed.objects.filter(holder=user, revoked_at__isnull=True)


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown, malformed, revoked, or its holder no longer entitled to it:
    the caller answers 404)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    feed = (
        CalendarFeed.objects.select_related("family", "teacher__user", "holder__teacher")
        .filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .first()
    )
    return feed if feed is not None and _still_entitled(feed) else None


def _still_entitled(feed: CalendarFeed) -> bool:
    """Whether the holder may still see what the link shows, as when it was issued: an account deactivated, a parent
    moved to another family, a teacher or an owner in another role since, reads nothing through their old link."""
    holder = feed.holder
    if not holder.is_active or feed.scope not in calendar_scopes_of(holder):
        return False
    if feed.scope == CalendarFeed.Scope.FAMILY:
        return holder.family_id == feed.family_id
    if feed.scope == CalendarFeed.Scope.TEACHER:
        return holder.teacher.pk == feed.teacher_id
    return True


def feed_url(token: str, *, webcal: bool = False) -> str:
    """The link a calendar app subscribes to; `webcal://` opens the phone's calendar app in one tap."""
    url = f"{settings.SITE_URL}{reverse('calendar-feed', args=[token])}"
    return "webcal://" + url.split("://", 1)[1] if webcal else url


@dataclass(frozen=True)
class FeedWindow:
    first_day: date
    last_day: date
    starts_from: datetime
    starts_before: datetime
    cancelled_since: datetime


def feed_window(*, today: date) -> FeedWindow:
    zone = school_settings_get().zone
    first_day, last_day = today - timedelta(days=DAYS_BACK), today + timedelta(days=DAYS_AHEAD)
    return FeedWindow(
        first_day=first_day,
        last_day=last_day,
        starts_from=local_midnight(first_day, zone),
        starts_before=local_midnight(last_day + timedelta(days=1), zone),
        cancelled_since=local_midnight(today, zone) - CANCELLED_KEPT,
    )


def feed_lessons(*, feed: CalendarFeed, window: FeedWindow) -> QuerySet[Lesson]:
    """The lessons a feed shows: those starting in the window, a cancelled one only while recently cancelled."""
    lessons = Lesson.objects.filter(start_at__gte=window.starts_from, start_at__lt=window.starts_before).filter(
        ~Q(status=Lesson.Status.CANCELLED) | Q(revised_at__gte=window.cancelled_since)
    )
    if feed.scope == CalendarFeed.Scope.FAMILY:
        lessons = lessons.filter(student__family_id=feed.family_id)
    elif feed.scope == CalendarFeed.Scope.TEACHER:
        lessons = lessons.filter(teacher_id=feed.teacher_id)
    return lessons.select_related(*EVENT_RELATED).only(*EVENT_FIELDS).order_by("start_at", "pk")


def lesson_page_url(*, lesson: Lesson, scope: str) -> str:
    """The page a calendar's event links to: the lesson as the reader of that kind of calendar sees it."""
    return f"{settings.SITE_URL}{reverse(LESSON_PAGE[scope], args=[lesson.pk])}"


def feed_name(feed: CalendarFeed) -> str:
    """The calendar's name in the reader's app. A family's is not the family's name: that is the children's last name,
    which a feed never shows (a link may leak)."""
    school = school_settings_get().name
    if feed.scope == CalendarFeed.Scope.FAMILY:
        return f"{school} lessons"
    if feed.scope == CalendarFeed.Scope.TEACHER:
        return f"{school}: {feed.teacher}'s lessons"
    return f"{school}: all lessons"


@dataclass(frozen=True)
class FeedValidators:
    etag: str
    last_modified: datetime


def feed_validators(*, feed: CalendarFeed, today: date | None = None) -> FeedValidators | None:
    """The feed's ETag and Last-Modified from its calendar stamps alone (one query, no lesson read), or None where
    there are no stamps (SQLite). The ETag changes with every stamp of the feed's subject (a teacher, a family's
    children) and of the school's names, with the day (the window moves), the site's address (in every UID and
    link), and the school's name and zone as this process reads them: a text is built from those, and a worker whose
    settings are a minute old must not file its text under the stamps of the new ones."""
    if connection.vendor != "postgresql":
        return None
    today = today or school_today()
    school = school_settings_get()
    stamps = CalendarStamp.objects.all()
    if feed.scope == CalendarFeed.Scope.FAMILY:
        children = Student.objects.filter(family_id=feed.family_id).values("pk")
        subject = Q(scope=CalendarStamp.Scope.STUDENT, subject_id__in=children)
    elif feed.scope == CalendarFeed.Scope.TEACHER:
        subject = Q(scope=CalendarStamp.Scope.TEACHER, subject_id=feed.teacher_id)
    if feed.scope != CalendarFeed.Scope.SCHOOL:
        stamps = stamps.filter(subject | Q(scope=CalendarStamp.Scope.SCHOOL))
    # Each write takes a new number from one sequence: the rows' count and sum change with any of them.
    seen = stamps.aggregate(rows=Count("pk"), total=Sum("stamp"), changed=Max("changed_at"))
    shown = (FEED_FORMAT, feed.scope, feed.family_id, feed.teacher_id, today, settings.SITE_URL)
    version = "|".join(str(part) for part in (*shown, school.name, school.time_zone, seen))
    midnight = local_midnight(today, school.zone)
    return FeedValidators(
        etag=hashlib.sha256(version.encode()).hexdigest()[:32],
        last_modified=max(filter(None, (seen["changed"], midnight))),
    )


@dataclass(frozen=True)
class FeedText:
    text: str
    last_modified: datetime


def feed_text(*, feed: CalendarFeed, today: date | None = None) -> FeedText:
    """The feed as an iCalendar text, with the time of its latest change."""
    today = today or school_today()
    school = school_settings_get()
    window = feed_window(today=today)
    lessons = list(feed_lessons(feed=feed, window=window))
    text = calendar_ics(
        name=feed_name(feed),
        lessons=lessons,
        zone=school.zone,
        school_name=school.name,
        lesson_url=lambda lesson: lesson_page_url(lesson=lesson, scope=feed.scope),
        first_day=window.first_day,
        last_day=window.last_day,
    )
    midnight = local_midnight(today, school.zone)
    return FeedText(
        text=text,
        last_modified=max([midnight, *(lesson.revised_at for lesson in lessons)]),
    )


def feed_text_validators(built: FeedText) -> FeedValidators:
    """The validators of a feed built where there are no stamps (SQLite): its text's hash, and its latest change."""
    return FeedValidators(etag=hashlib.sha256(built.text.encode()).hexdigest()[:32], last_modified=built.last_modified)


def feed_text_cached(*, feed: CalendarFeed, validators: FeedValidators, today: date) -> FeedText:
    """The feed's text at `validators`: built once per version and process, then read from the cache. A teacher's
    half-year (1 200 events) takes a second or two to build with icalendar, and an app that sends no validator
    (Google's) fetches it whole each time.

    The validators were read before the lessons, so an entry may hold lessons newer than its key, never older (as
    the free-time cache, scheduling.slots), and the stamps only rise, so a key never comes back with other lessons.
    Kept compressed: that half-year is ~700 kB of text, ~70 kB packed."""
    key = f"calendar-feed:{validators.etag}"
    if (packed := cache.get(key)) is None:
        packed = zlib.compress(feed_text(feed=feed, today=today).text.encode(), 1)
        cache.set(key, packed, FEED_TEXT_SECONDS)
    return FeedText(text=zlib.decompress(packed).decode(), last_modified=validators.last_modified)
