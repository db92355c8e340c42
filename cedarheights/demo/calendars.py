"""The demo's calendar links: the owner, Linh Nguyen (the parent `make run` names) and Amelia Hart (Ava's
piano teacher) each hold a live one, which `make run` prints beside the sign-in details
(`manage.py show_demo_calendar_links`), and the Okonkwos turned theirs off, so the admin's list shows both states.

A link is shown once and only its hash is kept, so a seed run again could not print the links it made the first
time. The demo's printed links are derived from the site's secret key instead (`demo_calendar_token`): the seed
stores their hashes (fakes.calendar_token_publish), nothing plain, and the printout derives them again. A link its
holder has replaced or turned off since is no longer the derived one: the printout says so."""

import base64
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from accounts.models import User
from cedarheights.demo import fakes
from cedarheights.demo.school import OWNER
from scheduling.calendar_feeds import calendar_feed_issue, calendar_feed_revoke, feed_url, token_hash
from scheduling.models import CalendarFeed


@dataclass(frozen=True)
class DemoCalendar:
    email: str
    scope: str
    whose: str  # as the printout names it


PRINTED = (
    DemoCalendar(email="linh.nguyen@example.com", scope=CalendarFeed.Scope.FAMILY, whose="Nguyen family (Linh)"),
    DemoCalendar(email="amelia.hart@cedarheights.test", scope=CalendarFeed.Scope.TEACHER, whose="Amelia Hart, teacher"),
    DemoCalendar(email=OWNER.email, scope=CalendarFeed.Scope.SCHOOL, whose="Whole school (the owner)"),
)
TURNED_OFF = DemoCalendar(email="chidi.okonkwo@example.com", scope=CalendarFeed.Scope.FAMILY, whose="Okonkwo family")


def demo_calendar_token(calendar: DemoCalendar) -> str:
    """The printed link's secret: 256 bits derived from the site's secret key, shaped as any link's."""
    digest = salted_hmac("cedarheights.demo.calendars", f"{calendar.email}|{calendar.scope}", algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def calendar_links_give() -> None:
    """Each printed person's link, and the Okonkwos' turned-off one, unless they have one (live or not) already."""
    for calendar in PRINTED:
        holder = User.objects.get(email=calendar.email)
        if not CalendarFeed.objects.filter(holder=holder, scope=calendar.scope).exists():
            feed, _ = calendar_feed_issue(holder=holder, scope=calendar.scope, actor=None)
            fakes.calendar_token_publish(feed=feed, token=demo_calendar_token(calendar))
    holder = User.objects.get(email=TURNED_OFF.email)
    if not CalendarFeed.objects.filter(holder=holder, scope=TURNED_OFF.scope).exists():
        feed, _ = calendar_feed_issue(holder=holder, scope=TURNED_OFF.scope, actor=None)
        calendar_feed_revoke(feed=feed, actor=None)


def demo_calendar_links() -> list[tuple[str, str | None]]:
    """(whose, address) of each printed link; no address where its holder has replaced or turned it off since."""
    links = []
    for calendar in PRINTED:
        token = demo_calendar_token(calendar)
        live = CalendarFeed.objects.filter(token_hash=token_hash(token), revoked_at__isnull=True).exists()
        links.append((calendar.whose, feed_url(token) if live else None))
    return links
