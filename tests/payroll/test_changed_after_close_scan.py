"""The lessons of closed periods looked at again stay those changed since the latest close (less a margin): a
lesson adjusted by an earlier close, untouched since, is not read however old the school. Made to fail first:
without the bound every lesson changed after its own period's close was read again at every close, forever."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from billing.payroll.models import PayPeriod
from billing.payroll.selectors import SETTLED_MARGIN, _lessons_due, pay_period_lines
from billing.payroll.services import pay_period_close
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set
from tests.payroll.conftest import FIXED_30

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def closed_hours_ago(period: PayPeriod, hours: int) -> None:
    """The close as hours of real time would have dated it (the triggers refuse any change to a closed period, so
    they are off for this one write)."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        PayPeriod.objects.filter(pk=period.pk).update(closed_at=timezone.now() - timedelta(hours=hours))
        cursor.execute("SET session_replication_role = DEFAULT")


def test_a_lesson_settled_by_an_earlier_close_is_not_read_again(payroll):
    settled = payroll.lesson_on(payroll.monday(3), at=9)
    changed_now = payroll.lesson_on(payroll.monday(3), at=11)
    first = pay_period_close(actor=None, period=payroll.period(payroll.monday(3)))
    lesson_outcome_set(lesson=settled, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    second = pay_period_close(actor=None, period=payroll.period(payroll.monday(2)))
    assert second.lines.get().amount_cents == -FIXED_30  # the correction, paid back once
    # Five hours ago the first week closed, four hours ago the correction, two hours ago the second week.
    closed_hours_ago(first, 5)
    closed_hours_ago(second, 2)
    Lesson.objects.filter(pk=settled.pk).update(updated_at=timezone.now() - timedelta(hours=4))
    lesson_outcome_set(lesson=changed_now, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    last_week = payroll.period(payroll.monday(1))

    assert [lesson.pk for lesson in _lessons_due(last_week, lock=False)] == [changed_now.pk]
    lines = pay_period_lines(period=last_week)
    assert [(line.lesson_id, line.amount_cents, line.kind) for line in lines] == [
        (changed_now.pk, -FIXED_30, "adjustment")
    ]


def test_a_change_just_before_the_latest_close_is_read_again_and_adds_nothing_twice(payroll):
    lesson = payroll.lesson_on(payroll.monday(3))
    first = pay_period_close(actor=None, period=payroll.period(payroll.monday(3)))
    lesson_outcome_set(lesson=lesson, outcome=Outcome.CANCELLED_WITH_NOTICE, actor=None)
    second = pay_period_close(actor=None, period=payroll.period(payroll.monday(2)))
    closed_hours_ago(first, 5)  # the change (below) came after the first close, within the margin of the second
    Lesson.objects.filter(pk=lesson.pk).update(updated_at=second.closed_at - SETTLED_MARGIN / 2)
    last_week = payroll.period(payroll.monday(1))

    assert [due.pk for due in _lessons_due(last_week, lock=False)] == [lesson.pk]
    assert pay_period_lines(period=last_week) == []
