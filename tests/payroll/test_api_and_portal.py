"""Payroll over the API (the owner: rates, periods, lines, closing) and the teacher's own pay (portal page and
API): a teacher sees only their own lines."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from billing.payroll.models import PayLine, PayRate
from billing.payroll.services import pay_rate_create
from scheduling.outcomes import Outcome
from tests.factories import UserFactory
from tests.payroll.conftest import FIXED_30

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory(role=User.Role.ADMIN, is_staff=True))
    return client


@pytest.fixture
def two_teachers_last_week(payroll):
    pay_rate_create(
        actor=None, teacher=payroll.other, kind="fixed", lesson_minutes=30, amount_cents=2600,
        effective_from=payroll.monday(9),
    )  # fmt: skip
    monday = payroll.monday(1)
    mine = payroll.lesson_on(monday, at=9)
    theirs = payroll.lesson_on(monday, at=11, teacher=payroll.other)
    return mine, theirs


def test_the_owner_reads_periods_their_summary_and_lines_then_closes_one(api, payroll, two_teachers_last_week):
    mine, theirs = two_teachers_last_week
    payroll.period(payroll.monday(1))  # the periods made, as the hourly task makes them
    periods = api.get("/api/v1/payroll/periods/").json()["results"]
    last_week = next(p for p in periods if p["start"] == payroll.monday(1).isoformat())

    detail = api.get(f"/api/v1/payroll/periods/{last_week['id']}/").json()
    lines = api.get(f"/api/v1/payroll/periods/{last_week['id']}/lines/").json()["results"]

    assert {(pay["teacher"], pay["lessons"], pay["total_cents"]) for pay in detail["summary"]} == {
        (payroll.teacher.pk, 1, FIXED_30),
        (payroll.other.pk, 1, 2600),
    }
    assert {(line["lesson"], line["id"], line["kind"]) for line in lines} == {
        (mine.pk, None, "regular"),
        (theirs.pk, None, "regular"),
    }
    closed = api.post(f"/api/v1/payroll/periods/{last_week['id']}/close/", {}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert all(line["id"] for line in api.get(f"/api/v1/payroll/periods/{last_week['id']}/lines/").json()["results"])


def test_closing_over_the_api_with_unmarked_lessons_is_a_409_listing_them(api, payroll):
    unmarked = payroll.lesson_on(payroll.monday(1), outcome="")
    period = payroll.period(payroll.monday(1))

    response = api.post(f"/api/v1/payroll/periods/{period.pk}/close/", {}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "lessons_unmarked" and [lesson["id"] for lesson in body["lessons"]] == [unmarked.pk]
    assert PayLine.objects.count() == 0


def test_the_owner_writes_rates_and_a_bad_one_is_a_400_naming_the_field(api, payroll):
    body = {"teacher": payroll.other.pk, "kind": "hourly", "amount_cents": 5200, "effective_from": "2030-01-01"}
    created = api.post("/api/v1/payroll/rates/", body, format="json")
    assert created.status_code == 201, created.content
    rate = PayRate.objects.get(pk=created.json()["id"])
    assert (rate.kind, rate.lesson_minutes, rate.amount_cents) == ("hourly", None, 5200)

    refused = api.post("/api/v1/payroll/rates/", {**body, "kind": "fixed"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"
    changed = api.patch(f"/api/v1/payroll/rates/{rate.pk}/", {"amount_cents": 5400}, format="json")
    assert changed.status_code == 200 and PayRate.objects.get(pk=rate.pk).amount_cents == 5400


def test_a_teacher_sees_only_their_own_lines_on_the_page_and_the_api(payroll, two_teachers_last_week, client):
    mine, _ = two_teachers_last_week
    period = payroll.period(payroll.monday(1))
    client.force_login(payroll.teacher.user)

    page = client.get(reverse("teach-pay"), {"period": period.pk})
    api = APIClient()
    api.force_authenticate(payroll.teacher.user)
    lines = api.get("/api/v1/teach/pay/", {"period": period.pk}).json()["results"]

    assert [line.lesson for line in page.context["lines"]] == [mine]
    assert "$30.00 CAD" in page.content.decode() and "$26.00" not in page.content.decode()
    assert [line["lesson"] for line in lines] == [mine.pk]
    assert reverse("teach-pay") in client.get(reverse("teach-home")).content.decode()  # the header's "Pay" link


def test_the_pay_page_defaults_to_the_current_period_and_shows_adjustments(payroll, client):
    from billing.payroll.services import pay_period_close
    from scheduling.services import lesson_outcome_set

    lesson = payroll.lesson_on(payroll.monday(1))
    pay_period_close(actor=None, period=payroll.period(payroll.monday(1)))
    lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    client.force_login(payroll.teacher.user)

    page = client.get(reverse("teach-pay"))

    assert page.context["period"].start == payroll.this_monday
    assert "(adjustment)" in page.content.decode() and "-$30.00 CAD" in page.content.decode()


def test_the_pay_page_is_for_teachers_only(payroll, client):
    client.force_login(payroll.week.parent)
    assert client.get(reverse("teach-pay")).status_code == 404
    assert APIClient().get("/api/v1/teach/pay/").status_code in {401, 403}
    parent_api = APIClient()
    parent_api.force_authenticate(payroll.week.parent)
    assert parent_api.get("/api/v1/teach/pay/").status_code == 403
    assert parent_api.get("/api/v1/payroll/periods/").status_code == 403


def test_a_teacher_cannot_ask_for_another_teachers_lines(payroll, two_teachers_last_week):
    period = payroll.period(payroll.monday(1))
    api = APIClient()
    api.force_authenticate(payroll.teacher.user)

    lines = api.get("/api/v1/teach/pay/", {"period": period.pk, "teacher": payroll.other.pk}).json()["results"]

    assert {line["teacher"] for line in lines} == {payroll.teacher.pk}
    assert api.get(f"/api/v1/payroll/periods/{period.pk}/lines/").status_code == 403
