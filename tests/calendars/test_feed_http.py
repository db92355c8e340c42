"""`/cal/<token>.ics` over HTTP, as calendar apps fetch it (issue 16 §1): a calendar, not a download, with
validators and 304s; read-only; a revoked, rotated, unknown or malformed link is a 404; a link whose holder may no
longer see its lessons is a 404 too; each link is rate-limited.

The POST test failed before `csrf_exempt` (a 403 CSRF page, not 405: the link is read-only, not a form); the holder
tests failed before `calendar_feed_for_token` checked the holder (a parent moved to another family still read their
old family's lessons; a deactivated owner still read the whole school's).
"""

import pytest
from django.utils.http import http_date, parse_http_date

from accounts.models import User
from cedarheights.selectors import school_settings_get
from scheduling.calendar_feeds import calendar_feed_revoke
from scheduling.calendar_views import CalendarFeedThrottle
from scheduling.models import CalendarFeed
from tests.calendars.conftest import events_of, link_of
from tests.factories import FamilyFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_feed_is_a_calendar_to_show_with_its_validators_not_a_download(week, family_link):
    lesson = week.lesson_in(hours=50)

    response = family_link.fetch()

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert not response.has_header("Content-Disposition")
    assert response["ETag"].startswith('"') and parse_http_date(response["Last-Modified"])
    assert response["Cache-Control"] == "private, no-cache"
    assert list(events_of(response.content)) == [f"lesson-{lesson.uid}@127.0.0.1"]


def test_the_etag_or_the_date_it_gave_answers_not_modified_and_an_old_etag_the_calendar(week, family_link):
    week.lesson_in(hours=50)
    first = family_link.fetch()

    by_etag = family_link.fetch(if_none_match=first["ETag"])
    by_date = family_link.fetch(if_modified_since=first["Last-Modified"])
    stale = family_link.fetch(if_none_match='"an-old-version"')

    assert (by_etag.status_code, by_etag.content, by_etag["ETag"]) == (304, b"", first["ETag"])
    assert (by_date.status_code, by_date["Last-Modified"]) == (304, first["Last-Modified"])
    assert stale.status_code == 200 and stale.content == first.content


def test_a_date_before_the_last_change_gets_the_calendar(week, family_link):
    week.lesson_in(hours=50)
    first = family_link.fetch()
    earlier = http_date(parse_http_date(first["Last-Modified"]) - 1)

    assert family_link.fetch(if_modified_since=earlier).status_code == 200


def test_head_answers_the_headers_without_the_calendar(week, family_link):
    week.lesson_in(hours=50)
    full = family_link.fetch()

    head = family_link.fetch("head")

    assert head.status_code == 200 and head.content == b""
    assert (head["ETag"], head["Content-Type"]) == (full["ETag"], "text/calendar; charset=utf-8")


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_a_feed_is_read_only(family_link, method):
    response = family_link.fetch(method)

    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_rotated_link_answers_only_through_its_new_token_and_a_revoked_one_is_a_404(week, family_link):
    week.lesson_in(hours=50)

    rotated = link_of(week.parent, CalendarFeed.Scope.FAMILY)

    assert family_link.fetch().status_code == 404
    assert rotated.fetch().status_code == 200
    calendar_feed_revoke(feed=rotated.feed, actor=week.parent)
    assert rotated.fetch().status_code == 404


@pytest.mark.parametrize(
    "token",
    ["short", "x" * 44, "A" * 42 + "!", "A" * 42 + "+", "." * 43],
    ids=["short", "long", "punctuation", "plus", "dots"],
)
def test_a_malformed_token_is_a_404_without_a_query(school, client, token, django_assert_num_queries):
    school_settings_get()  # the school's zone, read once a process by every page: not this link's cost
    with django_assert_num_queries(0):
        response = client.get(f"/cal/{token}.ics")

    assert response.status_code == 404


def test_an_unknown_well_formed_token_is_a_404(school, client, django_assert_num_queries):
    school_settings_get()
    with django_assert_num_queries(1):
        response = client.get(f"/cal/{'A' * 43}.ics")

    assert response.status_code == 404


def test_a_link_fetched_too_often_answers_429_with_when_to_come_back(week, family_link, monkeypatch):
    # DRF reads the rates once, at import: the test's rate goes on the throttle class, as configuration.
    monkeypatch.setattr(CalendarFeedThrottle, "THROTTLE_RATES", {"calendar_feed": "2/hour"})
    other = link_of(week.teacher.user, CalendarFeed.Scope.TEACHER)

    answers = [family_link.fetch().status_code for _ in range(3)]
    refused = family_link.fetch()

    assert answers == [200, 200, 429] and refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert refused.json()["code"] == "throttled"
    assert other.fetch().status_code == 200  # per link: another link is not held back


def test_a_parent_moved_to_another_family_no_longer_reads_the_old_familys_lessons(week, family_link):
    week.lesson_in(hours=50)
    assert family_link.fetch().status_code == 200

    # The owner's edit in the admin (the user's family changed).
    User.objects.filter(pk=week.parent.pk).update(family=FamilyFactory())

    assert family_link.fetch().status_code == 404


@pytest.mark.parametrize("scope", [CalendarFeed.Scope.FAMILY, CalendarFeed.Scope.TEACHER, CalendarFeed.Scope.SCHOOL])
def test_a_deactivated_holders_link_stops_working(week, scope):
    holder = {
        CalendarFeed.Scope.FAMILY: week.parent,
        CalendarFeed.Scope.TEACHER: week.teacher.user,
        CalendarFeed.Scope.SCHOOL: UserFactory(role=User.Role.ADMIN, is_staff=True),
    }[scope]
    link = link_of(holder, scope)
    assert link.fetch().status_code == 200

    User.objects.filter(pk=holder.pk).update(is_active=False)  # the owner's "active" box unticked

    assert link.fetch().status_code == 404


def test_an_owner_who_is_staff_no_more_loses_the_school_feed(week):
    owner = UserFactory(role=User.Role.PARENT, is_staff=True)  # staff without the admin role
    link = link_of(owner, CalendarFeed.Scope.SCHOOL)

    User.objects.filter(pk=owner.pk).update(is_staff=False)

    assert link.fetch().status_code == 404
