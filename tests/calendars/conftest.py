"""What the calendar tests share: a feed link issued through the service, fetched over HTTP as a calendar app does
(no session), and read back as events by UID."""

from dataclasses import dataclass

import pytest
from django.test import Client
from icalendar import Calendar, Event

from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import CalendarFeed
from tests.calendars.fixed_school import SITE_URL, FixedSchool, fixed_school_build


@dataclass(frozen=True)
class Link:
    feed: CalendarFeed
    token: str

    @property
    def path(self) -> str:
        return f"/cal/{self.token}.ics"

    def fetch(self, method: str = "get", **headers):
        """The feed as a calendar app asks for it: signed in to nothing, CSRF checked as in production."""
        return getattr(Client(enforce_csrf_checks=True), method)(self.path, headers=headers)


def link_of(holder, scope: str) -> Link:
    feed, token = calendar_feed_issue(holder=holder, scope=scope, actor=holder)
    return Link(feed=feed, token=token)


def events_of(ics: bytes | str) -> dict[str, Event]:
    """The feed's events by UID (a UID twice would be a duplicate in every client: refused here)."""
    events = Calendar.from_ical(ics).walk("VEVENT")
    by_uid = {str(event["UID"]): event for event in events}
    assert len(by_uid) == len(events), "a UID appears twice"
    return by_uid


@pytest.fixture
def family_link(week) -> Link:
    return link_of(week.parent, CalendarFeed.Scope.FAMILY)


@pytest.fixture
def teacher_link(week) -> Link:
    return link_of(week.teacher.user, CalendarFeed.Scope.TEACHER)


@pytest.fixture
def fixed_school(settings) -> FixedSchool:
    settings.SITE_URL = SITE_URL
    return fixed_school_build()
