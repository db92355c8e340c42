"""The admin's index as the owner's dashboard, and the same numbers in the API: charts with their tables, a number of
queries that does not grow with the school, the numbers computed at most once a minute."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Payment
from cedarheights.dashboard import dashboard_metrics_compute
from enrollment.models import Enrollment
from tests.factories import EnrollmentFactory, PaymentFactory, StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db

CHARTS = 7


def a_school(size: int) -> None:
    """`size` paying, enrolled children with a teacher."""
    now = timezone.now()
    teacher = TeacherFactory()
    for n in range(size):
        student = StudentFactory(teacher=teacher)
        EnrollmentFactory(
            student=student, status=Enrollment.Status.ACTIVE, activated_at=now - timedelta(days=40 * (n + 1))
        )
        PaymentFactory(
            family=student.family,
            amount_cents=12_345,
            status=Payment.Status.SUCCEEDED,
            paid_at=now - timedelta(seconds=n),
        )


def index_queries(client) -> int:
    with CaptureQueriesContext(connection) as counted:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(counted.captured_queries)


def test_the_index_shows_each_chart_with_its_numbers_beside_it(school, owner_client):
    a_school(2)

    page = owner_client.get(reverse("admin:index")).content.decode()

    figures = re.findall(r'<figure class="dashboard-chart".*?</figure>', page, re.S)
    assert len(figures) == CHARTS
    for figure in figures:
        assert re.search(r'<svg class="chart" role="img" aria-label="[^"]+"', figure)
        assert "<title>" in figure and "<figcaption" in figure
        assert re.search(r"<table class=\"dashboard-chart-numbers\">.*<tbody>", figure, re.S)
    assert "@media print" in page
    assert (
        page.index("The school at a glance")
        < page.index("The school's numbers")
        < page.index("Students and enrollments")
    )
    revenue = figures[0]
    assert "Collected revenue per month" in revenue and "$246.90 CAD" in revenue  # two payments this month


def test_the_dashboard_costs_the_same_queries_for_a_bigger_school(school, owner_client, django_assert_max_num_queries):
    """Made to fail: a figure computed per teacher or per student (a query in a loop)."""
    a_school(1)
    index_queries(owner_client)  # the session's first request saves what the next ones only read
    cache.clear()
    with django_assert_max_num_queries(32):  # +2 since issue 18: open access and correction requests
        small = index_queries(owner_client)
    a_school(6)
    TeacherFactory.create_batch(3)
    cache.clear()
    assert index_queries(owner_client) == small


def test_the_numbers_are_computed_at_most_once_a_minute(school, owner_client):
    a_school(1)
    cache.clear()
    first = index_queries(owner_client)
    assert index_queries(owner_client) <= first - 13  # the 13 figures' queries (and the settings row) cached


def test_computing_every_figure_takes_thirteen_queries(school, django_assert_num_queries):
    a_school(3)
    cache.clear()
    from cedarheights.selectors import school_settings_get

    school_settings_get()  # the settings row is cached for every request already
    with django_assert_num_queries(13):
        dashboard_metrics_compute(now=timezone.now())


def test_the_api_gives_the_owner_the_same_numbers(school, owner_client):
    a_school(2)

    body = owner_client.get("/api/v1/dashboard/").json()

    assert body["currency"] == "cad" and len(body["revenue_by_month"]) == 12
    assert sum(month["cents"] for month in body["revenue_by_month"][-2:]) == 2 * 12_345
    assert body["students_by_month"][-1]["active_students"] == 2
    assert len(body["utilisation"]["weeks"]) == 12
    assert set(body["at_a_glance"]) >= {"active_students", "waitlisted", "lessons_unmarked"}
    assert {bucket["label"] for bucket in body["receivables"]["aged"]} == {"0–30 days", "31–60 days", "over 60 days"}


def test_no_one_but_the_school_reads_the_numbers(school, client):
    from tests.factories import ParentFactory

    assert client.get("/api/v1/dashboard/").status_code in {401, 403}
    client.force_login(ParentFactory())
    assert client.get("/api/v1/dashboard/").status_code == 403
