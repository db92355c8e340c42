"""A submission sent again with its idempotency key enrolls once and answers as the first time; a key is its
caller's and its body's (issue 12): another family's body, or another parent, never sees the first answer."""

import uuid

import pytest
from rest_framework.test import APIClient

from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from scheduling.models import Lesson, Student
from tests.concurrency import at_once
from tests.enrollment.test_api import URL, body
from tests.factories import EnrollmentInputFactory, ParentFactory

pytestmark = pytest.mark.django_db


def test_a_replayed_submission_returns_the_same_enrollments(school_ready):
    key, form = uuid.uuid4(), EnrollmentInputFactory()
    first = enrollment_submit(form=form, idempotency_key=key)
    again = enrollment_submit(form=form, idempotency_key=key)
    assert [e.pk for e in again] == [e.pk for e in first]
    assert Enrollment.objects.count() == 1 and Student.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_submission_sent_10_times_at_once_enrolls_once(school_ready):
    key, form = uuid.uuid4(), EnrollmentInputFactory()

    results = at_once(lambda: [e.pk for e in enrollment_submit(form=form, idempotency_key=key)], times=10)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({tuple(r) for r in results}) == 1
    assert Enrollment.objects.count() == 1 and Lesson.objects.filter(kind="demo").count() == 1


def signed_in_api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def the_other_family(ready) -> dict:
    other = body(ready, email="eve@example.com", parent_last_name="Stone")
    other["children"] = [{**other["children"][0], "first_name": "Eve", "last_name": "Stone"}]
    return other


def test_an_anonymous_replay_with_another_body_is_refused_and_shows_nothing_of_the_first_family(school_ready):
    key = "family-one"
    first = APIClient().post(URL, body(school_ready), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 202, first.json()

    again = APIClient().post(URL, the_other_family(school_ready), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert again.status_code == 400 and again.json()["code"] == "idempotency_key_reused"
    assert b"Lucia" not in again.content and b"demo_lesson" not in again.content
    assert not Student.objects.filter(first_name="Eve").exists()


def test_an_anonymous_replay_of_the_same_body_answers_the_same_and_enrolls_once(school_ready):
    payload = body(school_ready)
    first = APIClient().post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="same")
    again = APIClient().post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == again.status_code == 202 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Enrollment.objects.count() == 2  # the two children, once


def test_a_signed_in_parents_key_is_theirs_alone(school_ready):
    one, two = ParentFactory(), ParentFactory()
    payload = body(school_ready, parent_first_name="", parent_last_name="", email="", phone="")
    payload["children"] = payload["children"][:1]
    mine = signed_in_api(one).post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert mine.status_code == 201, mine.json()

    theirs = signed_in_api(two).post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
    anonymous = APIClient().post(URL, body(school_ready), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert theirs.status_code == 201 and {e["id"] for e in theirs.json()}.isdisjoint(e["id"] for e in mine.json())
    assert Student.objects.get(pk=theirs.json()[0]["student"]["id"]).family == two.family
    assert anonymous.status_code == 202 and str(mine.json()[0]["id"]) not in anonymous.content.decode()
    different = signed_in_api(one).post(URL, {**payload, "consent": False}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert different.status_code == 400 and different.json()["code"] == "idempotency_key_reused"
