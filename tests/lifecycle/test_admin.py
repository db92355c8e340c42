"""The owner's pages on an enrollment: change the weekly lesson through a preview, confirm once (a second click
returns the same change), pause and withdraw; refusals shown on the form."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from cedarheights.selectors import school_today
from enrollment.models import EnrollmentChange, EnrollmentPause
from scheduling.models import Lesson
from tests.lifecycle.conftest import next_weekday

pytestmark = pytest.mark.django_db


def test_the_enrollment_page_offers_the_lifecycle_pages(child, owner_client, django_assert_max_num_queries):
    url = reverse("admin:enrollment_enrollment_change", args=[child.enrollment.pk])
    with django_assert_max_num_queries(60):
        page = owner_client.get(url).content.decode()
    assert "Change weekly lesson…" in page and "Vacation pause…" in page and "Withdraw…" in page


def test_the_owner_previews_then_confirms_a_change_and_a_second_click_changes_nothing(child, owner_client):
    url = reverse("admin:enrollment_enrollment_change_weekly", args=[child.enrollment.pk])
    effective_on = next_weekday(school_today() + timedelta(days=7), 0)
    typed = {"effective_on": effective_on.isoformat(), "weekday": "2", "start_time": "17:15"}
    page = owner_client.post(url, typed).content.decode()
    assert "Mondays at 16:00 → Wednesdays at 17:15" in page and "Confirm the change" in page
    assert not EnrollmentChange.objects.exists()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    first = owner_client.post(url, {"token": token})
    again = owner_client.post(url, {"token": token})
    assert first.status_code == again.status_code == 302
    change = EnrollmentChange.objects.get()
    assert change.effective_on == effective_on and change.after["start_time"] == "17:15"
    assert Lesson.objects.filter(student=child.student, weekly_lesson__weekday=2).count() == change.lessons_booked


def test_a_forged_token_changes_nothing(child, owner_client):
    url = reverse("admin:enrollment_enrollment_change_weekly", args=[child.enrollment.pk])
    response = owner_client.post(url, {"token": "not-a-signed-preview"}, follow=True)
    assert "preview the change again" in response.content.decode() and not EnrollmentChange.objects.exists()


def test_a_refused_pause_keeps_what_was_typed(child, owner_client):
    url = reverse("admin:enrollment_enrollment_pause", args=[child.enrollment.pk])
    starts = (school_today() + timedelta(days=5)).isoformat()
    page = owner_client.post(url, {"starts_on": starts, "resumes_on": starts}).content.decode()
    assert "After the start." in page and starts in page
    response = owner_client.post(
        url, {"starts_on": starts, "resumes_on": (school_today() + timedelta(days=12)).isoformat(), "lessons": "keep"}
    )
    assert response.status_code == 302 and EnrollmentPause.objects.get().lessons == "keep"


def test_the_owner_withdraws_with_the_last_lesson_shown_first(child, owner_client):
    url = reverse("admin:enrollment_enrollment_withdraw", args=[child.enrollment.pk])
    assert "the last lesson is on" in owner_client.get(url).content.decode()
    response = owner_client.post(url, {"notice_given_on": school_today().isoformat(), "unused_lessons": "refund"})
    assert response.status_code == 302
    child.enrollment.refresh_from_db()
    assert child.enrollment.ends_on is not None
