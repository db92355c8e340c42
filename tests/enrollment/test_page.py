"""The /enroll/ page, through Django's test client (the browser test is in tests/e2e/)."""

import pytest
from django.test import Client

from enrollment.models import Enrollment, Student
from tests.factories import years_ago

pytestmark = pytest.mark.django_db


def page_data(ready, **overrides) -> dict:
    data = {
        "parent_first_name": "Maya",
        "parent_last_name": "Lopez",
        "email": "maya@example.com",
        "phone": "416-555-0188",
        "children-TOTAL_FORMS": "4",
        "children-INITIAL_FORMS": "0",
        "children-MIN_NUM_FORMS": "1",
        "children-MAX_NUM_FORMS": "6",
        "children-0-first_name": "Lucia",
        "children-0-last_name": "Lopez",
        "children-0-date_of_birth": "2016-03-04",
        "children-0-instrument": str(ready["piano"].pk),
        "children-0-level": "beginner",
        "children-0-lesson_minutes": "30",
        "windows-TOTAL_FORMS": "4",
        "windows-INITIAL_FORMS": "0",
        "windows-MIN_NUM_FORMS": "1",
        "windows-MAX_NUM_FORMS": "14",
        "windows-0-weekday": "0",
        "windows-0-start_time": "16:00",
        "windows-0-end_time": "17:00",
        "tuition_plan": str(ready["plan"].pk),
        "consent": "on",
        "payment_method_id": ready["stripe"].card("4242424242424242"),
        "idempotency_key": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    }
    for n in range(1, 4):  # the extra rows, left as the page renders them
        data.update({f"children-{n}-level": "beginner", f"children-{n}-lesson_minutes": "30"})
    return {**data, **overrides}


def test_the_page_enrolls_and_the_confirmation_shows_teacher_demo_and_a_calendar_link(school_ready):
    client = Client()
    assert client.get("/enroll/").status_code == 200
    response = client.post("/enroll/", page_data(school_ready), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].startswith("/enroll/done/")
    assert "Lucia" in page and str(school_ready["teacher"]) in page and "Free demo lesson" in page
    ics_link = response.context["booked"][0].demo_lesson_id
    ics = client.get(f"{response.redirect_chain[-1][0]}lesson/{ics_link}.ics")
    assert ics.status_code == 200 and ics["Content-Type"] == "text/calendar" and b"BEGIN:VEVENT" in ics.content


def test_a_reload_or_double_click_enrolls_once(school_ready):
    data = page_data(school_ready)
    Client().post("/enroll/", data)
    Client().post("/enroll/", data)
    assert Enrollment.objects.count() == 1


def test_errors_appear_next_to_their_fields_and_keep_what_was_typed(school_ready):
    response = Client().post("/enroll/", page_data(school_ready, phone=""))
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["parent_form"].errors["phone"] == ["This field is required."]
    assert 'value="Lucia"' in page and 'value="maya@example.com"' in page  # nothing typed is lost
    assert not Student.objects.exists()


def test_a_child_too_young_is_an_error_on_that_child(school_ready):
    too_young = {"children-0-date_of_birth": years_ago(3).isoformat()}  # the school takes children from 5
    response = Client().post("/enroll/", page_data(school_ready, **too_young))
    assert "Students start at 5" in str(response.context["children"].forms[0].errors["date_of_birth"])
    assert not Student.objects.exists()


def test_a_foreign_confirmation_or_lesson_is_a_404(school_ready):
    client = Client()
    assert client.get("/enroll/done/00000000-0000-0000-0000-000000000000/").status_code == 404
    response = client.post("/enroll/", page_data(school_ready), follow=True)
    assert client.get(f"{response.redirect_chain[-1][0]}lesson/999999.ics").status_code == 404
