"""The parent's portal: the weekly time as changed, a vacation pause, a pending withdrawal; a parent withdraws a
child after seeing the last lesson date, and no one else's child."""

from datetime import time, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from cedarheights.selectors import school_today
from enrollment.lifecycle.changes import enrollment_change
from enrollment.lifecycle.pauses import enrollment_pause
from enrollment.lifecycle.withdrawals import withdrawal_quote
from tests.lifecycle.conftest import child_with_weekly_lesson

pytestmark = pytest.mark.django_db


def parent_client(child) -> Client:
    client = Client()
    client.force_login(child.parent)
    return client


def test_the_home_page_shows_the_new_weekly_time_and_a_pause(child, django_assert_max_num_queries):
    enrollment_change(
        actor=None,
        enrollment=child.enrollment,
        effective_on=school_today() + timedelta(1),
        weekday=2,
        start_time=time(17, 15),
    )
    resumes_on = school_today() + timedelta(days=20)
    enrollment_pause(
        actor=None, enrollment=child.enrollment, starts_on=school_today() + timedelta(3), resumes_on=resumes_on
    )
    client = parent_client(child)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("family-home")).content.decode()
    assert "Weekly lesson: Wednesdays at 5:15 PM" in page
    assert f"until {resumes_on:%A %-d %B}" in page


def test_a_parent_sees_the_last_lesson_then_gives_notice(child):
    client = parent_client(child)
    url = reverse("family-withdraw", args=[child.enrollment.pk])
    last = withdrawal_quote(enrollment=child.enrollment, notice_given_on=school_today()).last_lesson_on
    assert f"{last:%A %-d %B %Y}" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    child.enrollment.refresh_from_db()
    assert child.enrollment.ends_on == last
    home = client.get(reverse("family-home")).content.decode()
    assert f"Withdrawing: the last lesson is on {last:%A %-d %B %Y}" in home
    assert url not in home
    assert client.post(url).status_code == 409  # notice is given once


def test_another_familys_child_cannot_be_withdrawn(child, term):
    other = child_with_weekly_lesson(teacher=child.teacher, term=term, at=time(17))
    response = parent_client(child).post(reverse("family-withdraw", args=[other.enrollment.pk]))
    assert response.status_code == 404
    other.enrollment.refresh_from_db()
    assert other.enrollment.ends_on is None
