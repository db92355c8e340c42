"""The /enroll/ page, through Django's test client (the browser test is in tests/e2e/)."""

import re

import pytest
from django.core import mail
from django.test import Client

from enrollment.confirmation import submission_key_sign
from enrollment.forms import ParentForm
from enrollment.models import Enrollment
from scheduling.models import Student
from tests.factories import ParentFactory, years_ago

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
        "idempotency_key": submission_key_sign(),  # as the page renders it
    }
    for n in range(1, 4):  # the extra rows, left as the page renders them
        data.update({f"children-{n}-level": "beginner", f"children-{n}-lesson_minutes": "30"})
    return {**data, **overrides}


def confirmation_link(email) -> str:
    """The path of the confirmation link in a welcome email."""
    return re.search(r"https?://[^/\s]+(/enroll/done/\S+/)", email.body).group(1)


def test_the_page_enrolls_and_the_emailed_confirmation_shows_first_names_demo_and_a_calendar_link(
    school_ready, django_capture_on_commit_callbacks
):
    client = Client()
    assert client.get("/enroll/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/enroll/", page_data(school_ready), follow=True)
    assert response.redirect_chain[-1][0] == "/enroll/check-your-email/"
    assert "Check your email to continue" in response.content.decode()

    [welcome] = [m for m in mail.outbox if m.to == ["maya@example.com"]]
    confirmation = client.get(confirmation_link(welcome))
    page = confirmation.content.decode()
    teacher = school_ready["teacher"].user
    assert "Lucia" in page and teacher.first_name in page and "Free demo lesson" in page
    assert "Lopez" not in page and teacher.last_name not in page  # first names only
    assert "no-store" in confirmation["Cache-Control"]
    ics = client.get(f"{confirmation_link(welcome)}lesson/{confirmation.context['booked'][0].demo_lesson_id}.ics")
    assert ics.status_code == 200 and ics["Content-Type"] == "text/calendar" and b"BEGIN:VEVENT" in ics.content
    assert "no-store" in ics["Cache-Control"]


def test_a_signed_in_parent_sees_the_confirmation_at_once(school_ready):
    client = Client()
    client.force_login(ParentFactory())
    data = {k: v for k, v in page_data(school_ready).items() if k not in ParentForm.base_fields}
    response = client.post("/enroll/", data, follow=True)
    assert response.redirect_chain[-1][0].startswith("/enroll/done/")
    assert "Lucia" in response.content.decode() and "Free demo lesson" in response.content.decode()


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
    client.force_login(ParentFactory())
    assert client.get("/enroll/done/00000000-0000-0000-0000-000000000000/").status_code == 404
    data = {k: v for k, v in page_data(school_ready).items() if k not in ParentForm.base_fields}
    response = client.post("/enroll/", data, follow=True)
    assert client.get(f"{response.redirect_chain[-1][0]}lesson/999999.ics").status_code == 404
