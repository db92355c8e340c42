"""The public lists answer with an ETag; asked again with `If-None-Match`, they answer `304` without a body while
nothing changed, and the whole list again once a teacher, their hours or a plan changed.

Made to fail first: with the ETag made of the URL instead of the body, a changed teacher and changed hours still
answered 304."""

from datetime import date, time, timedelta

import pytest
from rest_framework.test import APIClient

from scheduling.models import WeeklyAvailability
from tests.factories import InstrumentFactory, TeacherFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def piano(school):
    return InstrumentFactory(name="Piano")


@pytest.fixture
def teacher(piano):
    teacher = TeacherFactory(instruments=[piano], bio="Twenty years of teaching.")
    WeeklyAvailability.objects.create(
        teacher=teacher, weekday=date.today().weekday(), start_time=time(9), end_time=time(12)
    )
    return teacher


def timeslots_url(piano) -> str:
    start = date.today() + timedelta(days=7)
    return f"/api/v1/public/timeslots/?instrument={piano.pk}&start={start}&end={start + timedelta(days=13)}"


def public_urls(piano) -> dict[str, str]:
    return {
        "teachers": "/api/v1/public/teachers/",
        "timeslots": timeslots_url(piano),
        "pricing": "/api/v1/public/pricing/",
    }


@pytest.mark.parametrize("name", ["teachers", "timeslots", "pricing"])
def test_an_unchanged_public_list_is_a_304_without_a_body(piano, teacher, name):
    TuitionPlanFactory(instrument=piano, stripe_price_id="price_piano")
    client, url = APIClient(), public_urls(piano)[name]
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert "public" in first["Cache-Control"]

    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"] and again["Cache-Control"] == first["Cache-Control"]


def test_a_stale_etag_gets_the_whole_list(piano, teacher):
    client = APIClient()
    response = client.get("/api/v1/public/teachers/", HTTP_IF_NONE_MATCH='"not-this-one"')
    assert response.status_code == 200 and response.json()["count"] == 1


def test_a_changed_teacher_changes_the_teachers_etag(piano, teacher):
    client = APIClient()
    before = client.get("/api/v1/public/teachers/")["ETag"]

    teacher.bio = "Twenty-one years of teaching."
    teacher.save(update_fields=["bio"])
    after = client.get("/api/v1/public/teachers/", HTTP_IF_NONE_MATCH=before)

    assert after.status_code == 200 and after["ETag"] != before
    assert after.json()["results"][0]["bio"] == "Twenty-one years of teaching."


def test_changed_hours_change_the_timeslots_etag(piano, teacher):
    client, url = APIClient(), timeslots_url(piano)
    before = client.get(url)

    WeeklyAvailability.objects.filter(teacher=teacher).update(end_time=time(13))
    after = client.get(url, HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["count"] > before.json()["count"]


def test_the_timeslots_are_asked_for_again_every_time(piano, teacher):
    """Free times change with every booking: a cache must check the ETag before it answers from its copy."""
    assert "no-cache" in APIClient().get(timeslots_url(piano))["Cache-Control"]


def test_a_signed_in_caller_gets_what_anyone_gets(piano, teacher, world):
    """Nobody is signed in on these lists, so a parent's session changes neither the body nor its ETag."""
    anyone = APIClient().get("/api/v1/public/teachers/")
    parent = APIClient()
    parent.force_login(world.parent_a)

    response = parent.get("/api/v1/public/teachers/", HTTP_IF_NONE_MATCH=anyone["ETag"])

    assert response.status_code == 304
    assert response["ETag"] == anyone["ETag"]
