"""POST /api/v1/enrollments/: the same pipeline behind the API."""

import uuid
from datetime import date, timedelta

import pytest
from rest_framework.test import APIClient

from enrollment.models import Enrollment
from scheduling.models import Student
from tests.factories import ParentFactory, TuitionPlanFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/enrollments/"


def body(ready, **overrides) -> dict:
    return {
        "parent_first_name": "Maya",
        "parent_last_name": "Lopez",
        "email": "maya@example.com",
        "phone": "416-555-0188",
        "children": [
            {
                "first_name": "Lucia",
                "last_name": "Lopez",
                "date_of_birth": "2016-03-04",
                "instrument": ready["piano"].pk,
            },
            {
                "first_name": "Mateo",
                "last_name": "Lopez",
                "date_of_birth": "2014-08-09",
                "instrument": ready["piano"].pk,
                "lesson_minutes": 45,
            },
        ],
        "windows": [
            {"weekday": 0, "start_time": "16:00", "end_time": "17:00"},
            {"weekday": 2, "start_time": "16:00", "end_time": "18:00"},
        ],
        "tuition_plan": ready["plan"].pk,
        "consent": True,
        "payment_method_id": ready["stripe"].card("4242424242424242"),
        **overrides,
    }


def test_enrolling_two_children_books_both_and_asks_to_check_email(school_ready):
    key, payload = str(uuid.uuid4()), body(school_ready)
    response = APIClient().post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 202, response.json()
    assert "Check your email" in response.json()["message"]
    enrollments = Enrollment.objects.select_related("demo_lesson")
    assert [e.status for e in enrollments] == ["active", "active"]
    assert all(e.demo_lesson.teacher_id == school_ready["teacher"].pk for e in enrollments)
    replay = APIClient().post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert replay.json() == response.json() and Enrollment.objects.count() == 2


def test_a_signed_in_parent_gets_the_teacher_and_demo_lessons(school_ready):
    api = APIClient()
    api.force_authenticate(ParentFactory())
    payload = body(school_ready, parent_first_name="", parent_last_name="", email="", phone="")
    response = api.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    results = response.json()
    assert [r["status"] for r in results] == ["active", "active"]
    assert all(r["teacher"]["id"] == school_ready["teacher"].pk and r["demo_lesson"]["start"] for r in results)


def test_a_signed_in_parent_enrolls_into_their_own_family(school_ready):
    parent = ParentFactory()
    api = APIClient()
    api.force_authenticate(parent)
    payload = body(school_ready, parent_first_name="", parent_last_name="", email="", phone="")
    payload["children"] = payload["children"][:1]
    response = api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="sibling-1")
    assert response.status_code == 201, response.json()
    assert Student.objects.get().family == parent.family


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {
                "children": [
                    {
                        "first_name": "Tiny",
                        "last_name": "Lopez",
                        "instrument": 0,
                        "date_of_birth": str(date.today() - timedelta(days=4 * 365)),
                    }
                ]
            },
            "children",
        ),
        ({"phone": ""}, "phone"),
        ({"email": "not-an-address"}, "email"),
        ({"parent_first_name": "Ma\x00ya"}, "parent_first_name"),
        ({"parent_last_name": "L" * 10_000}, "parent_last_name"),
        ({"windows": [{"weekday": 6, "start_time": "03:00", "end_time": "04:00"}]}, "windows"),
        ({"windows": [{"weekday": 0, "start_time": "17:00", "end_time": "16:00"}]}, "windows"),
        ({"consent": False}, "consent"),
    ],
)
def test_bad_input_gets_a_400_naming_the_field_and_writes_nothing(school_ready, change, field):
    payload = body(school_ready, **change)
    if field == "children":
        payload["children"][0]["instrument"] = school_ready["piano"].pk
    response = APIClient().post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 400, response.json()
    assert any(name.startswith(field) for name in response.json()["fields"]), response.json()
    assert not Student.objects.exists()


def test_a_date_of_birth_in_the_future_is_refused(school_ready):
    payload = body(school_ready)
    payload["children"][0]["date_of_birth"] = str(date.today() + timedelta(days=10))
    response = APIClient().post(URL, payload, format="json")
    assert response.status_code == 400 and "children-0-date_of_birth" in response.json()["fields"]


def test_an_active_plan_not_yet_on_stripe_is_not_offered_and_is_refused_with_a_400_on_the_plan(school_ready):
    """Before `tuition_plans_offered`, the API took any active plan and billing failed later, in the background."""
    unsynced = TuitionPlanFactory(instrument=school_ready["piano"], name="Piano 60 min, monthly")
    assert unsynced.active and not unsynced.stripe_price_id

    response = APIClient().post(URL, body(school_ready, tuition_plan=unsynced.pk), format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["tuition_plan"]
    assert Enrollment.objects.count() == 0
    offered = [plan["id"] for plan in APIClient().get("/api/v1/public/pricing/").json()["results"]]
    assert offered == [school_ready["plan"].pk]
