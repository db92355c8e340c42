"""Calendar links through the API (`/api/v1/calendar-feeds/`): each person lists, reads, makes (or replaces) and
turns off their own; the secret is in the answer that makes a link and nowhere after; another person's link is a 404."""

from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from scheduling.calendar_feeds import calendar_feed_issue
from scheduling.models import CalendarFeed

pytestmark = pytest.mark.django_db

URL = "/api/v1/calendar-feeds/"


def feed_status(url: str) -> int:
    return APIClient().get(urlsplit(url).path).status_code


def test_a_parent_makes_a_link_lists_it_without_its_secret_and_turns_it_off(world, as_role):
    parent = as_role("parent_a")

    made = parent.post(URL, {"scope": "family"}, format="json")

    assert made.status_code == 201, made.content
    body = made.json()
    feed = CalendarFeed.objects.get(holder=world.parent_a)
    assert (body["id"], body["scope"], feed.family_id) == (feed.pk, "family", world.parent_a.family_id)
    assert body["url"].endswith(".ics") and body["webcal_url"] == "webcal://" + body["url"].split("://", 1)[1]
    assert feed_status(body["url"]) == 200
    listed = parent.get(URL)
    assert listed.status_code == 200
    assert listed.json()["results"] == [{"id": feed.pk, "scope": "family", "created_at": body["created_at"]}]
    one = parent.get(f"{URL}{feed.pk}/")
    assert one.status_code == 200 and one.json() == listed.json()["results"][0]
    token = urlsplit(body["url"]).path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in listed.content.decode() and token not in one.content.decode()

    turned_off = parent.delete(f"{URL}{feed.pk}/")

    assert turned_off.status_code == 204
    assert feed_status(body["url"]) == 404 and parent.get(URL).json()["results"] == []
    assert parent.delete(f"{URL}{feed.pk}/").status_code == 404  # no longer a live link of theirs


def test_making_a_link_again_replaces_the_old_one(world, as_role):
    teacher = as_role("teacher_x")
    first = teacher.post(URL, {"scope": "teacher"}, format="json").json()

    second = teacher.post(URL, {"scope": "teacher"}, format="json").json()

    assert feed_status(first["url"]) == 404 and feed_status(second["url"]) == 200
    assert [row["id"] for row in teacher.get(URL).json()["results"]] == [second["id"]]


def test_another_persons_link_is_a_404_and_stays_live(world, as_role):
    feed, token = calendar_feed_issue(holder=world.parent_b, scope="family", actor=world.parent_b)

    for role in ("parent_a", "teacher_y", "admin"):
        assert as_role(role).get(f"{URL}{feed.pk}/").status_code == 404, role
        assert as_role(role).delete(f"{URL}{feed.pk}/").status_code == 404, role
        assert as_role(role).get(URL).json()["results"] == [], role

    assert APIClient().get(f"/cal/{token}.ics").status_code == 200


def test_the_owner_gets_the_whole_school_link_and_sees_only_their_own(world, as_role):
    calendar_feed_issue(holder=world.parent_a, scope="family", actor=world.parent_a)
    admin = as_role("admin")

    made = admin.post(URL, {"scope": "school"}, format="json")

    assert made.status_code == 201 and feed_status(made.json()["url"]) == 200
    assert [row["scope"] for row in admin.get(URL).json()["results"]] == ["school"]


@pytest.mark.parametrize(
    ("role", "scope"), [("parent_a", "teacher"), ("parent_a", "school"), ("teacher_x", "family"), ("admin", "family")]
)
def test_a_scope_the_caller_cannot_hold_is_a_400_naming_it(world, as_role, role, scope):
    answer = as_role(role).post(URL, {"scope": scope}, format="json")

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid" and list(answer.json()["fields"]) == ["scope"]
    assert not CalendarFeed.objects.exists()


def test_an_unknown_scope_or_field_is_a_400_and_signed_out_is_a_401(world, as_role):
    answer = as_role("parent_a").post(URL, {"scope": "everyone", "token": "mine"}, format="json")
    assert answer.status_code == 400 and set(answer.json()["fields"]) == {"scope", "token"}
    assert as_role("anonymous").get(URL).status_code in {401, 403}
    assert as_role("anonymous").post(URL, {"scope": "family"}, format="json").status_code in {401, 403}
    assert not CalendarFeed.objects.exists()
