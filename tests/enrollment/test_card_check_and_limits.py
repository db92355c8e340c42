"""Issue 12, item 4: the card is checked with Stripe before anything is booked; anonymous enrollments are limited.

Before the fix, `payment_method_id: "pm_this_card_does_not_exist"` was accepted: the child got a demo and a weekly
time for the term, and only the later billing run failed.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Family, User
from enrollment.models import Enrollment
from enrollment.throttles import EnrollmentThrottle
from scheduling.models import Lesson, Student
from tests.enrollment.test_api import URL, body
from tests.enrollment.test_page import page_data
from tests.factories import ParentFactory
from tests.stripe_server import free_port

pytestmark = pytest.mark.django_db


def nothing_written() -> bool:
    return not (
        Enrollment.objects.exists()
        or Student.objects.exists()
        or Lesson.objects.exists()
        or Family.objects.exists()
        or User.objects.filter(email="maya@example.com").exists()
    )


@pytest.mark.parametrize("card", ["pm_this_card_does_not_exist", "declined"])
def test_a_card_stripe_does_not_know_or_declines_is_an_error_on_the_card_and_books_nothing(school_ready, card):
    if card == "declined":
        card = school_ready["stripe"].card("4000000000000002")
    response = APIClient().post(URL, body(school_ready, payment_method_id=card), format="json")
    assert response.status_code == 400, response.json()
    assert list(response.json()["fields"]) == ["payment_method_id"]
    assert nothing_written()


def test_the_page_shows_a_refused_card_next_to_the_card_and_keeps_what_was_typed(school_ready):
    response = Client().post("/enroll/", page_data(school_ready, payment_method_id="pm_this_card_does_not_exist"))
    assert response.status_code == 200
    assert response.context["details"].errors["payment_method_id"]
    assert 'value="Lucia"' in response.content.decode() and nothing_written()
    # The refused card is not kept for the next try (it was sent to Stripe again, declined again, and counted
    # against the limit): the card box asks for another.
    assert response.context["details"]["payment_method_id"].value() == ""


def test_stripe_out_of_reach_is_a_503_to_try_again_and_writes_nothing(school_ready, settings):
    card = school_ready["stripe"].card("4242424242424242")
    settings.STRIPE_API_HOST = f"http://127.0.0.1:{free_port()}"  # nothing listens there

    response = APIClient().post(URL, body(school_ready, payment_method_id=card), format="json")

    assert response.status_code == 503, response.json()
    assert response.json()["code"] == "service_unavailable" and response.json()["retry_after"] > 0
    assert response["Retry-After"] == str(response.json()["retry_after"])
    assert nothing_written()
    page = Client().post("/enroll/", page_data(school_ready, payment_method_id=card))
    assert "We could not check your card just now" in page.content.decode() and nothing_written()


@pytest.mark.usefixtures("each_cache")
def test_anonymous_enrollments_are_limited_per_client_across_the_api_and_the_page(school_ready, monkeypatch):
    monkeypatch.setattr(EnrollmentThrottle, "THROTTLE_RATES", {"enroll": "2/hour"})
    refused = body(school_ready, consent=False)  # quick to answer; each try counts all the same
    statuses = [APIClient().post(URL, refused, format="json").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]

    page = Client().post("/enroll/", page_data(school_ready))
    assert page.status_code == 429 and "Too many enrollments" in page.content.decode()
    assert 'value="Lucia"' in page.content.decode() and not Enrollment.objects.exists()

    parent = APIClient()
    parent.force_authenticate(ParentFactory())
    signed_in = body(school_ready, parent_first_name="", parent_last_name="", email="", phone="")
    assert parent.post(URL, signed_in, format="json").status_code == 201  # a signed-in parent is not limited
