"""Issue 12, item 1: the form's submission keys and the confirmation links are the server's.

Before the fix, the form took any key the client sent, and `/enroll/done/<submission key>/` showed a submission
to anyone, forever. (The replays of the API's keys are in tests/reliability/test_enrollment_replays.py.)
"""

import base64
import json
import time
import uuid

import pytest
from django.core import signing
from django.test import Client

from enrollment.confirmation import CONFIRMATION_SALT, CONFIRMATION_VALID_FOR, confirmation_path
from enrollment.models import Enrollment
from tests.enrollment.test_page import page_data

pytestmark = pytest.mark.django_db


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
