"""The owner's payroll pages: rates edited through the services, the index of periods, a period's report (lines by
teacher, a summary), its CSV, and closing it from the report."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from billing.payroll.models import PayLine, PayPeriod, PayRate
from cedarheights.models import AuditEvent
from scheduling.outcomes import Outcome
from tests.payroll.conftest import FIXED_30

pytestmark = pytest.mark.django_db


@pytest.fixture
def last_week(payroll):
    """Last week: two attended lessons of the teacher, one late cancellation of the other teacher ($40/h, 45 min)."""
    from billing.payroll.services import pay_rate_create

    pay_rate_create(
        actor=None, teacher=payroll.other, kind="hourly", amount_cents=4000, effective_from=payroll.monday(9)
    )
    monday = payroll.monday(1)
    payroll.lesson_on(monday, at=9)
    payroll.lesson_on(monday + timedelta(days=2), at=9)
    payroll.lesson_on(monday + timedelta(days=1), at=15, minutes=45, teacher=payroll.other,
                      outcome=Outcome.LATE_CANCEL)  # fmt: skip
    return payroll.period(monday)


def test_the_hourly_task_makes_the_periods_and_the_index_links_each_report(payroll, owner_client):
    from billing.payroll.tasks import pay_periods_make

    payroll.lesson_on(payroll.monday(2))
    assert pay_periods_make() == 3 and pay_periods_make() == 0

    response = owner_client.get(reverse("admin:billing_payperiod_changelist"))

    assert response.status_code == 200
    periods = list(PayPeriod.objects.order_by("start"))
    assert [p.start for p in periods] == [payroll.monday(2), payroll.monday(1), payroll.this_monday]
    assert reverse("admin:billing_payperiod_csv", args=[periods[0].pk]) in response.content.decode()


def test_the_report_shows_lines_by_teacher_and_a_summary_in_a_fixed_number_of_queries(
    last_week, payroll, owner_client, django_assert_max_num_queries
):
    url = reverse("admin:billing_payperiod_change", args=[last_week.pk])
    owner_client.get(url)  # the session and the settings row, read once

    with django_assert_max_num_queries(12):
        response = owner_client.get(url)

    page = response.content.decode()
    summary = {(pay.teacher, pay.lessons, pay.minutes, pay.total_cents) for pay in response.context["summary"]}
    assert summary == {(payroll.teacher, 2, 60, 2 * FIXED_30), (payroll.other, 1, 45, 3000)}
    assert "Close period" in page and "Late cancellation" in page and "$40.00 CAD/h" in page
    assert str(payroll.week.student) in page


def test_more_lessons_cost_no_more_queries(last_week, payroll, owner_client, django_assert_max_num_queries):
    for day in range(3, 7):
        payroll.lesson_on(payroll.monday(1) + timedelta(days=day), at=12)
    url = reverse("admin:billing_payperiod_change", args=[last_week.pk])
    owner_client.get(url)
    with django_assert_max_num_queries(12):
        assert len(owner_client.get(url).context["lines"]) == 7


def test_the_csv_has_a_row_per_lesson_then_a_summary_per_teacher(last_week, payroll, owner_client):
    response = owner_client.get(reverse("admin:billing_payperiod_csv", args=[last_week.pk]))

    assert response["Content-Type"] == "text/csv"
    assert f"payroll-{last_week.start.isoformat()}" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    blank = rows.index([])
    lines, summary = rows[1:blank], rows[blank + 2 :]
    assert rows[0] == ["teacher", "date", "student", "minutes", "outcome", "rate type", "rate", "amount", "line"]
    student, monday = str(payroll.week.student), payroll.monday(1)
    assert sorted(lines) == sorted(
        [
            [str(payroll.teacher), monday.isoformat(), student, "30", "Attended", "Fixed per lesson", "30.00", "30.00",
             "Regular"],
            [str(payroll.teacher), (monday + timedelta(days=2)).isoformat(), student, "30", "Attended",
             "Fixed per lesson", "30.00", "30.00", "Regular"],
            [str(payroll.other), (monday + timedelta(days=1)).isoformat(), student, "45", "Late cancellation",
             "Hourly", "40.00", "30.00", "Regular"],
        ]
    )  # fmt: skip
    assert sorted(summary) == sorted(
        [[str(payroll.teacher), "2", "60", "60.00", "0.00", "60.00", "CAD"],
         [str(payroll.other), "1", "45", "30.00", "0.00", "30.00", "CAD"]]
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="export", object_id=str(last_week.pk)).exists()


def test_closing_from_the_report_lists_the_unmarked_lessons_then_closes(last_week, payroll, owner_client):
    unmarked = payroll.lesson_on(payroll.monday(1) + timedelta(days=4), outcome="")
    close = reverse("admin:billing_payperiod_close", args=[last_week.pk])

    refused = owner_client.post(close, follow=True)

    message = str(next(iter(refused.context["messages"])))
    assert "have no outcome" in message and str(unmarked.student) in message
    assert PayPeriod.objects.get(pk=last_week.pk).status == "open"

    from scheduling.services import lesson_outcome_set

    lesson_outcome_set(lesson=unmarked, outcome=Outcome.NO_SHOW, actor=None)
    closed = owner_client.post(close, follow=True)
    assert "is closed" in str(next(iter(closed.context["messages"])))
    assert PayLine.objects.filter(period=last_week).count() == 4
    assert "Close period" not in closed.content.decode()


def test_the_owner_adds_a_rate_in_the_admin_through_the_service(payroll, owner_client):
    response = owner_client.post(
        reverse("admin:billing_payrate_add"),
        {"teacher": payroll.other.pk, "kind": "fixed", "lesson_minutes": 45, "amount_cents": 4200,
         "effective_from": payroll.this_monday.isoformat()},
    )  # fmt: skip

    assert response.status_code == 302
    rate = PayRate.objects.get(teacher=payroll.other)
    assert (rate.kind, rate.lesson_minutes, rate.amount_cents) == ("fixed", 45, 4200)
    assert AuditEvent.objects.filter(action="create", object_id=str(rate.pk)).exists()


def test_a_teacher_cannot_open_the_payroll_pages(last_week, payroll, client):
    client.force_login(payroll.teacher.user)
    assert client.get(reverse("admin:billing_payperiod_change", args=[last_week.pk])).status_code in {302, 403}
