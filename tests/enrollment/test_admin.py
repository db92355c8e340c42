"""The owner's side of enrollment: by phone, the waitlist, each run's steps."""

import uuid
from datetime import time

import pytest
from django.core import mail
from django.test import Client

from enrollment.models import Enrollment
from enrollment.pipelines import enrollment_submit
from scheduling.slots import Window
from tests.enrollment.test_page import page_data
from tests.factories import AvailabilityFactory, EnrollmentInputFactory, UserFactory, years_ago

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(school_ready):
    client = Client()
    client.force_login(UserFactory(role="admin", is_staff=True, is_superuser=True))
    return client


def test_the_owner_enrolls_a_family_by_phone_without_a_card(owner, school_ready):
    data = page_data(school_ready, payment_method_id="")
    response = owner.post("/admin/enrollment/enrollment/phone/", data, follow=True)
    assert response.status_code == 200
    enrollment = Enrollment.objects.get()
    assert (enrollment.source, enrollment.status) == ("admin", "active") and enrollment.demo_lesson
    assert "Enroll by phone" in owner.get("/admin/enrollment/enrollment/").content.decode()
    page = owner.get(f"/admin/enrollment/enrollment/{enrollment.pk}/change/").content.decode()
    assert "validate_enrollment" in page and "book_demo_lesson" in page and " ms" in page


def test_a_bad_phone_enrollment_shows_the_error_and_keeps_the_input(owner, school_ready):
    response = owner.post(
        "/admin/enrollment/enrollment/phone/",
        page_data(school_ready, **{"children-0-date_of_birth": years_ago(3).isoformat()}),
    )
    assert response.status_code == 200 and "Students start at 5" in response.content.decode()
    assert 'value="Lucia"' in response.content.decode() and not Enrollment.objects.exists()


def test_offering_a_slot_to_the_waitlist_books_it_when_one_opens(
    owner, school_ready, django_capture_on_commit_callbacks
):
    AvailabilityFactory(teacher=school_ready["teacher"], weekday=4, start_time="16:00", end_time="17:00")
    school_ready["teacher"].capacity = 0  # full: the family goes on the waitlist
    school_ready["teacher"].save()
    windows = [Window(4, time(16), time(17))]
    [waiting] = enrollment_submit(form=EnrollmentInputFactory(windows=windows), idempotency_key=uuid.uuid4())
    assert waiting.status == "waitlisted"

    school_ready["teacher"].capacity = 20  # a place opens
    school_ready["teacher"].save()
    with django_capture_on_commit_callbacks(execute=True):
        owner.post("/admin/enrollment/enrollment/", {"action": "offer_slot", "_selected_action": [waiting.pk]})
    waiting.refresh_from_db()
    assert waiting.status == "active" and waiting.demo_lesson.start_at.weekday() == 4
    assert any("Lucia" in m.body for m in mail.outbox if m.to == ["new.parent@example.com"])
