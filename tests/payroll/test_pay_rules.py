"""What a lesson earns its teacher: the rate in force on its day, hourly prorated, the outcomes the school pays, the
substitute paid instead of the teacher."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.payroll.models import PayLine, PayRate
from billing.payroll.rules import prorated_cents, rate_in_force
from billing.payroll.selectors import pay_period_lines, pay_summary
from billing.payroll.services import pay_period_close, pay_rate_create
from cedarheights.errors import InvalidInput
from cedarheights.selectors import school_settings_get
from cedarheights.services import school_settings_update
from scheduling.models import Lesson
from scheduling.outcomes import Outcome
from scheduling.services import lesson_outcome_set, teacher_cancellation_create, teacher_cancellation_decide
from tests.payroll.conftest import FIXED_30

pytestmark = pytest.mark.django_db


def _rate(kind, cents, first_day, minutes=None) -> PayRate:
    return PayRate(kind=kind, amount_cents=cents, effective_from=first_day, lesson_minutes=minutes)


def test_a_lesson_is_paid_at_the_rate_in_force_on_its_day_and_a_new_rate_never_rewrites_the_past(payroll):
    # Given a lesson two weeks ago at the $30 rate, and a raise to $35 from last Monday
    before = payroll.lesson_on(payroll.monday(2) + timedelta(days=2))
    after = payroll.lesson_on(payroll.monday(1) + timedelta(days=2))
    pay_rate_create(
        actor=None, teacher=payroll.teacher, kind="fixed", lesson_minutes=30, amount_cents=3500,
        effective_from=payroll.monday(1),
    )  # fmt: skip

    # Then the older lesson keeps the old rate and the newer one has the raise
    [old_line] = pay_period_lines(period=payroll.period(before.start_at.date()))
    [new_line] = pay_period_lines(period=payroll.period(after.start_at.date()))
    assert (old_line.lesson, old_line.amount_cents, old_line.rate_kind) == (before, FIXED_30, "fixed")
    assert (new_line.lesson, new_line.amount_cents) == (after, 3500)


def test_a_rate_added_later_reaching_back_never_changes_a_closed_period(payroll):
    lesson = payroll.lesson_on(payroll.monday(2))
    period = pay_period_close(actor=None, period=payroll.period(payroll.monday(2)))
    pay_period_close(actor=None, period=payroll.period(payroll.monday(1)))

    pay_rate_create(
        actor=None, teacher=payroll.teacher, kind="fixed", lesson_minutes=30, amount_cents=9900,
        effective_from=payroll.monday(3),
    )  # fmt: skip

    assert [(line.lesson, line.amount_cents) for line in pay_period_lines(period=period)] == [(lesson, FIXED_30)]


def test_hourly_pay_is_prorated_by_the_minutes(payroll):
    # Given the second teacher paid $45 an hour
    pay_rate_create(
        actor=None, teacher=payroll.other, kind="hourly", amount_cents=4500, effective_from=payroll.monday(4)
    )
    monday = payroll.monday(1)
    for minutes, at in ((30, 9), (45, 11), (60, 13)):
        payroll.lesson_on(monday, teacher=payroll.other, minutes=minutes, at=at)

    lines = pay_period_lines(period=payroll.period(monday), teacher=payroll.other)

    assert [(line.minutes, line.rate, line.amount_cents) for line in lines] == [
        (30, "$45.00 CAD/h", 2250),
        (45, "$45.00 CAD/h", 3375),
        (60, "$45.00 CAD/h", 4500),
    ]


@given(hourly=st.integers(min_value=0, max_value=50_000), minutes=st.integers(min_value=1, max_value=240))
def test_proration_rounds_to_the_nearest_cent_half_up(hourly, minutes):
    exact = hourly * minutes / 60
    assert abs(prorated_cents(hourly, minutes) - exact) <= 0.5
    assert prorated_cents(1, 30) == 1 and prorated_cents(4500, 30) == 2250


def test_the_latest_rate_wins_and_on_the_same_day_the_fixed_one():
    day = date(2030, 5, 15)
    hourly_old = _rate("hourly", 4000, day - timedelta(days=90))
    fixed = _rate("fixed", 3000, day - timedelta(days=30), minutes=30)
    hourly_new = _rate("hourly", 5000, day - timedelta(days=10))
    fixed_same_day = _rate("fixed", 3300, day - timedelta(days=10), minutes=30)
    future = _rate("fixed", 9000, day + timedelta(days=1), minutes=30)

    assert rate_in_force([hourly_old, fixed, future], minutes=30, day=day) is fixed
    assert rate_in_force([hourly_old, fixed, future], minutes=45, day=day) is hourly_old  # no fixed 45-min rate
    assert rate_in_force([hourly_old, fixed, hourly_new], minutes=30, day=day) is hourly_new
    assert rate_in_force([hourly_new, fixed_same_day], minutes=30, day=day) is fixed_same_day
    assert rate_in_force([future], minutes=30, day=day) is None


PAID_BY_DEFAULT = {
    Outcome.ATTENDED: True,
    Outcome.NO_SHOW: True,
    Outcome.LATE_CANCEL: True,
    Outcome.LATE_CANCEL_SICK: True,
    Outcome.CANCELLED_WITH_NOTICE: False,
    Outcome.TEACHER_CANCELLED: False,
    Outcome.SCHOOL_CLOSED: False,
}


def test_the_outcomes_paid_follow_the_school_settings(payroll):
    monday = payroll.monday(1)
    lessons = {outcome: payroll.lesson_on(monday, at=9 + i, outcome=outcome) for i, outcome in
               enumerate(PAID_BY_DEFAULT)}  # fmt: skip
    released = payroll.lesson_on(monday, at=18, outcome=Outcome.RELEASED)
    period = payroll.period(monday)

    lines = {line.lesson_id: line for line in pay_period_lines(period=period)}
    assert {outcome: lines[lesson.pk].amount_cents == FIXED_30 for outcome, lesson in lessons.items()} == (
        PAID_BY_DEFAULT
    )
    assert {outcome: lines[lesson.pk].paid for outcome, lesson in lessons.items()} == PAID_BY_DEFAULT
    assert released.pk not in lines  # the school gave the time up: never taught, no line

    # When the owner pays cancellations with notice and stops paying no-shows
    school_settings_update(school_settings=school_settings_get(), pay_cancelled_with_notice=True, pay_no_show=False)
    lines = {line.lesson_id: line for line in pay_period_lines(period=period)}
    assert lines[lessons[Outcome.CANCELLED_WITH_NOTICE].pk].amount_cents == FIXED_30
    assert lines[lessons[Outcome.NO_SHOW].pk].amount_cents == 0


def test_makeups_demos_and_drop_ins_are_paid_like_lessons(payroll):
    monday = payroll.monday(1)
    for i, kind in enumerate((Lesson.Kind.MAKEUP, Lesson.Kind.DEMO, Lesson.Kind.DROP_IN)):
        payroll.lesson_on(monday, at=9 + i, kind=kind)

    lines = pay_period_lines(period=payroll.period(monday))

    assert [line.amount_cents for line in lines] == [FIXED_30] * 3


def test_a_substitute_is_paid_instead_of_the_teacher(payroll):
    # Given the teacher cancelled last Tuesday's lesson and the owner sent the other teacher instead
    pay_rate_create(
        actor=None, teacher=payroll.other, kind="fixed", lesson_minutes=30, amount_cents=2800,
        effective_from=payroll.monday(4),
    )  # fmt: skip
    tuesday = payroll.monday(1) + timedelta(days=1)
    lesson = payroll.lesson_on(tuesday, outcome="")
    cancellation = teacher_cancellation_create(lesson=lesson, actor=None, reason="Flu")
    teacher_cancellation_decide(cancellation=cancellation, actor=None, substitute=payroll.other)
    lesson_outcome_set(lesson=lesson, outcome=Outcome.ATTENDED, actor=None)

    lines = pay_period_lines(period=payroll.period(tuesday))

    assert [(line.teacher, line.amount_cents) for line in lines] == [(payroll.other, 2800)]
    assert [(pay.teacher, pay.lessons, pay.total_cents) for pay in pay_summary(lines)] == [(payroll.other, 1, 2800)]


def test_a_paid_lesson_without_a_rate_is_shown_and_stops_the_close(payroll):
    from billing.payroll.errors import PayPeriodNotClosable

    lesson = payroll.lesson_on(payroll.monday(1), minutes=45)  # the teacher has a 30-minute rate only
    period = payroll.period(payroll.monday(1))
    [line] = pay_period_lines(period=period)
    assert line.rate_missing and line.amount_cents == 0

    with pytest.raises(PayPeriodNotClosable) as refused:
        pay_period_close(actor=None, period=period)
    assert refused.value.lessons == [lesson] and PayLine.objects.count() == 0


def test_a_fixed_rate_names_its_length_and_an_hourly_one_none(payroll):
    with pytest.raises(InvalidInput) as refused:
        pay_rate_create(actor=None, teacher=payroll.other, kind="fixed", amount_cents=100, effective_from=date.today())
    assert refused.value.fields
    with pytest.raises(InvalidInput):
        pay_rate_create(
            actor=None, teacher=payroll.other, kind="hourly", lesson_minutes=30, amount_cents=100,
            effective_from=date.today(),
        )  # fmt: skip
    with pytest.raises(InvalidInput):  # the same rate twice from the same day
        pay_rate_create(
            actor=None, teacher=payroll.teacher, kind="fixed", lesson_minutes=30, amount_cents=100,
            effective_from=PayRate.objects.get().effective_from,
        )  # fmt: skip
