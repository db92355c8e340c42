"""The API of an enrollment's life after it starts: a change previewed then made once per Idempotency-Key, a clash
refused whole with its weeks (409), a pause, a parent's notice (and nothing more of theirs)."""

import uuid
from datetime import time, timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from cedarheights.selectors import school_today
from enrollment.models import EnrollmentChange, EnrollmentPause
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from tests.factories import UserFactory
from tests.lifecycle.conftest import child_with_weekly_lesson

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api():
    client = APIClient()
    client.force_authenticate(UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def parent_api(child) -> APIClient:
    client = APIClient()
    client.force_authenticate(child.parent)
    return client


def test_a_change_is_previewed_then_made_once_per_key(child, admin_api):
    url = f"/api/v1/enrollments/{child.enrollment.pk}/change/"
    body = {"effective_on": (school_today() + timedelta(days=1)).isoformat(), "weekday": 4, "start_time": "15:30"}
    preview = admin_api.post(url, {**body, "preview": True}, format="json")
    assert preview.status_code == 200 and preview.json()["possible"] is True
    assert preview.json()["words"] == ["Weekly lesson: Mondays at 16:00 → Fridays at 15:30"]
    assert not EnrollmentChange.objects.exists()
    key = str(uuid.uuid4())
    first = admin_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = admin_api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201 and again.json() == first.json() and EnrollmentChange.objects.count() == 1
    shown = admin_api.get(f"/api/v1/enrollments/{child.enrollment.pk}/").json()
    assert [(w["weekday"], w["start_time"]) for w in shown["weekly_lessons"]] == [(4, "15:30:00")]


def test_a_clash_is_a_409_naming_the_weeks_and_nothing_moves(child, term, admin_api):
    other = child_with_weekly_lesson(teacher=child.teacher, term=term, weekday=2, at=time(17))
    url = f"/api/v1/enrollments/{child.enrollment.pk}/change/"
    body = {"effective_on": (school_today() + timedelta(days=1)).isoformat(), "weekday": 2, "start_time": "17:00"}
    response = admin_api.post(url, body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "change_conflicts"
    assert len(response.json()["fields"]["weeks"]) == len(other.lessons())
    assert not Lesson.objects.filter(student=child.student, outcome=Outcome.RELEASED).exists()


def test_the_school_pauses_and_ends_a_pause(child, admin_api):
    url = f"/api/v1/enrollments/{child.enrollment.pk}/pause/"
    body = {"starts_on": school_today().isoformat(), "resumes_on": (school_today() + timedelta(14)).isoformat()}
    assert admin_api.post(url, {**body, "lessons": "keep"}, format="json").status_code == 201
    assert admin_api.post(url, body, format="json").json()["code"] == "pause_overlaps"
    ended = admin_api.post(url.replace("pause/", "end-pause/"), {}, format="json")
    assert ended.status_code == 200 and ended.json()["ended_on"] == school_today().isoformat()
    assert not EnrollmentPause.objects.filter(ended_at__isnull=True).exists()


def test_a_parent_gives_notice_but_changes_and_pauses_nothing(child):
    client = parent_api(child)
    base = f"/api/v1/enrollments/{child.enrollment.pk}/"
    tomorrow = (school_today() + timedelta(days=1)).isoformat()
    assert client.post(base + "change/", {"effective_on": tomorrow, "weekday": 3}, format="json").status_code == 403
    assert (
        client.post(base + "pause/", {"starts_on": tomorrow, "resumes_on": tomorrow}, format="json").status_code == 403
    )
    refused = client.post(base + "withdraw/", {"unused_lessons": "refund"}, format="json")
    assert refused.status_code == 403
    response = client.post(base + "withdraw/", {}, format="json")
    assert response.status_code == 200 and response.json()["ends_on"] is not None
    assert response.json()["withdrawal_given_on"] == school_today().isoformat()
