"""A pay rate that paid a closed period's lessons keeps its amount, kind, length and first day, and is not deleted:
otherwise the next adjustment would pay the difference for days already paid. The owner adds a rate from a later
day instead. Made to fail first: without the check, the edit and the deletion went through and a lesson touched
after close came back as an adjustment of the rate difference."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from billing.payroll.errors import PayRateInUse
from billing.payroll.models import PayLine, PayRate
from billing.payroll.selectors import pay_period_lines
from billing.payroll.services import pay_period_close, pay_rate_create, pay_rate_delete, pay_rate_update
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set
from tests.factories import UserFactory
from tests.payroll.conftest import FIXED_30

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def closed_week(payroll):
    """Two weeks ago: one attended lesson at the $30 rate, its period closed."""
    lesson = payroll.lesson_on(payroll.monday(2))
    pay_period_close(actor=None, period=payroll.period(payroll.monday(2)))
    return lesson


def test_a_rate_that_paid_a_closed_period_is_neither_changed_nor_deleted(payroll, closed_week):
    rate = PayRate.objects.get(teacher=payroll.teacher)
    edits = [
        {"amount_cents": 3500},
        {"kind": "hourly", "lesson_minutes": None},
        {"lesson_minutes": 45},
        {"effective_from": payroll.monday(1)},
    ]
    for fields in edits:
        with pytest.raises(PayRateInUse, match="add a rate from a later day"):
            pay_rate_update(actor=None, pay_rate=rate, **fields)
    with pytest.raises(PayRateInUse):
        pay_rate_delete(actor=None, pay_rate=rate)

    rate.refresh_from_db()
    assert (rate.kind, rate.lesson_minutes, rate.amount_cents) == ("fixed", 30, FIXED_30)
    # The lesson touched after close (a correction back and forth) is worth what it was paid: no adjustment.
    lesson_outcome_set(lesson=closed_week, outcome=Outcome.NO_SHOW, actor=None)
    lesson_outcome_set(lesson=closed_week, outcome=Outcome.ATTENDED, actor=None)
    next_lines = pay_period_lines(period=payroll.period(payroll.monday(1)))
    assert [line for line in next_lines if line.kind == "adjustment"] == []


def test_a_new_rate_from_a_later_day_changes_the_pay_and_stays_editable_while_unused(payroll, closed_week):
    raise_ = pay_rate_create(
        actor=None, teacher=payroll.teacher, kind="fixed", lesson_minutes=30, amount_cents=3500,
        effective_from=payroll.monday(1),
    )  # fmt: skip
    lesson = payroll.lesson_on(payroll.monday(1))

    raise_ = pay_rate_update(actor=None, pay_rate=raise_, amount_cents=3600)  # pays only the open period
    assert [line.amount_cents for line in pay_period_lines(period=payroll.period(lesson.start_at.date()))] == [3600]
    # Moved back into the closed week it would re-price the closed lesson: refused like an edit of the old rate.
    with pytest.raises(PayRateInUse):
        pay_rate_update(actor=None, pay_rate=raise_, effective_from=payroll.monday(2))
    # Another teacher's rate, and a rate that paid nothing closed, change and go freely.
    other = pay_rate_create(
        actor=None, teacher=payroll.other, kind="fixed", lesson_minutes=30, amount_cents=2600,
        effective_from=payroll.monday(9),
    )  # fmt: skip
    assert pay_rate_update(actor=None, pay_rate=other, amount_cents=2700).amount_cents == 2700
    pay_rate_delete(actor=None, pay_rate=raise_)
    assert not PayRate.objects.filter(pk=raise_.pk).exists()
    assert PayLine.objects.filter(amount_cents=FIXED_30).count() == 1


def test_over_the_api_and_in_the_admin_the_refusal_is_a_409_and_a_message(payroll, closed_week, owner_client):
    rate = PayRate.objects.get(teacher=payroll.teacher)
    api = APIClient()
    api.force_authenticate(UserFactory(role=User.Role.ADMIN, is_staff=True))

    patched = api.patch(f"/api/v1/payroll/rates/{rate.pk}/", {"amount_cents": 3500}, format="json")
    deleted = api.delete(f"/api/v1/payroll/rates/{rate.pk}/")

    assert (patched.status_code, patched.json()["code"]) == (409, "pay_rate_in_use")
    assert (deleted.status_code, deleted.json()["code"]) == (409, "pay_rate_in_use")
    page = owner_client.post(reverse("admin:billing_payrate_delete", args=[rate.pk]), {"post": "yes"}, follow=True)
    assert page.status_code == 200 and "add a rate from a later day" in page.content.decode()
    rate.refresh_from_db()
    assert rate.amount_cents == FIXED_30
    assert closed_week.pay_lines.get().amount_cents == FIXED_30
