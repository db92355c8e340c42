"""The welcome email's .ics and the demo's "add to calendar" download hold the lesson exactly as the family's feed
shows it (issue 16 §1: "the demo and welcome .ics files reuse the same builder so a lesson has the same UID
everywhere"): a family who adds the file, then subscribes, sees one event.

Failed before `lesson_ics` used the builder: the file's UID was `lesson-<pk>@cedarheights` and its times UTC.
"""

import uuid

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from accounts.models import User
from enrollment.confirmation import confirmation_path
from enrollment.pipelines import enrollment_submit
from scheduling.models import CalendarFeed
from tests.calendars.conftest import events_of, link_of
from tests.factories import EnrollmentInputFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def enrolled(school_ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        (enrollment,) = enrollment_submit(
            form=EnrollmentInputFactory(), idempotency_key=uuid.uuid4(), site_url="https://school.example"
        )
    return enrollment


def _event_block(ics: str) -> str:
    return ics[ics.index("BEGIN:VEVENT") : ics.index("END:VEVENT")]


def test_the_welcome_file_holds_the_family_feeds_event_byte_for_byte(enrolled):
    welcome = next(message for message in mail.outbox if message.to == ["new.parent@example.com"])
    (name, attached, mimetype) = welcome.attachments[0]
    feed = link_of(User.objects.get(email="new.parent@example.com"), CalendarFeed.Scope.FAMILY).fetch()

    demo = enrolled.demo_lesson
    uid = f"lesson-{demo.uid}@127.0.0.1"
    assert (name, mimetype) == ("demo-lucia.ics", "text/calendar")
    assert list(events_of(attached)) == [uid] and uid in events_of(feed.content)
    assert _event_block(attached) == _event_block(feed.content.decode())
    event = events_of(attached)[uid]
    assert event["URL"] == f"http://127.0.0.1:8000{reverse('family-lesson', args=[demo.pk])}"
    assert event["DTSTART"].params["TZID"] == "America/Toronto" and event["DTSTART"].dt == demo.start_at


def test_the_file_defines_its_zone_and_is_no_subscription(enrolled):
    welcome = next(message for message in mail.outbox if message.to == ["new.parent@example.com"])

    calendar = Calendar.from_ical(welcome.attachments[0][1])

    (zone,) = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "America/Toronto" and zone.walk("STANDARD") and zone.walk("DAYLIGHT")
    # A name or a refresh interval would make some apps open the file as a calendar of its own.
    assert not {"NAME", "X-WR-CALNAME", "REFRESH-INTERVAL", "X-PUBLISHED-TTL"} & set(calendar)


def test_the_teachers_copy_and_the_download_are_the_same_file(enrolled):
    teacher_copy = next(message for message in mail.outbox if message.to != ["new.parent@example.com"])
    welcome = next(message for message in mail.outbox if message.to == ["new.parent@example.com"])

    download = Client().get(f"{confirmation_path(enrolled.submission_key)}lesson/{enrolled.demo_lesson_id}.ics")

    assert download["Content-Disposition"] == 'attachment; filename="demo-lucia.ics"'  # a download, not a feed
    assert download.content.decode() == welcome.attachments[0][1] == teacher_copy.attachments[0][1]
