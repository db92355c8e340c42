"""Issue 12, item 1: an idempotency key is its caller's and its body's; keys and links are the server's.

Before the fix, an anonymous `POST /api/v1/enrollments/` with a key another family used returned that family's
enrollments (child, teacher, demo time) whatever the body; the form took any key the client sent; and
`/enroll/done/<submission key>/` showed a submission to anyone, forever.
"""

import base64
import json
import time
import uuid

import pytest
from django.core import signing
from django.test import Client
from rest_framework.test import APIClient

from enrollment.confirmation import CONFIRMATION_SALT, CONFIRMATION_VALID_FOR, confirmation_path
from enrollment.models import Enrollment
from scheduling.models import Student
from tests.enrollment.test_api import URL, body
from tests.enrollment.test_page import page_data
from tests.factories import ParentFactory

pytestmark = pytest.mark.django_db


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


def test_the_form_refuses_a_key_the_server_did_not_make(school_ready):
    """Before the fix, posting another family's submission key redirected to their confirmation."""
    first = page_data(school_ready)
    Client().post("/enroll/", first)
    [taken] = Enrollment.objects.values_list("submission_key", flat=True)

    forged = page_data(school_ready, email="eve@example.com", idempotency_key=str(taken))
    forged["children-0-first_name"] = "Eve"
    response = Client().post("/enroll/", forged)

    assert response.status_code == 200 and "This page was changed or is out of date" in response.content.decode()
    assert "Lucia" not in response.content.decode() and Enrollment.objects.count() == 1
    fresh = response.context["details"]["idempotency_key"].value()
    assert fresh != str(taken) and Client().post("/enroll/", {**forged, "idempotency_key": fresh}).status_code == 302


def test_a_confirmation_needs_the_signed_link_not_the_submission_key(school_ready):
    Client().post("/enroll/", page_data(school_ready))
    enrollment = Enrollment.objects.get()
    link = confirmation_path(enrollment.submission_key)

    assert Client().get(f"/enroll/done/{enrollment.submission_key}/").status_code == 404
    assert Client().get(link[:-3] + "x/").status_code == 404  # a changed signature
    assert Client().get(link).status_code == 200


def test_an_expired_confirmation_link_says_so_and_shows_nothing(school_ready):
    Client().post("/enroll/", page_data(school_ready))
    enrollment = Enrollment.objects.get()

    class EightDaysAgo(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time() - CONFIRMATION_VALID_FOR.total_seconds() - 86400))

    token = EightDaysAgo(salt=CONFIRMATION_SALT).sign_object(str(enrollment.submission_key))
    assert json.loads(base64.urlsafe_b64decode(token.split(":")[0] + "==")) == str(enrollment.submission_key)

    for path in (f"/enroll/done/{token}/", f"/enroll/done/{token}/lesson/{enrollment.demo_lesson_id}.ics"):
        response = Client().get(path)
        assert response.status_code == 410 and "This link has expired" in response.content.decode()
        assert "Lucia" not in response.content.decode()


def test_a_random_key_is_not_a_confirmation(school_ready):
    assert Client().get(f"/enroll/done/{uuid.uuid4()}/").status_code == 404
