"""Tuition's money math as properties (Hypothesis) over real terms, lessons and closures on PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.tuition import month_bill
from billing.tuition.changes import change_money_preview
from billing.tuition.lines import DISCOUNT_ORDER, Discount, discounts_apply, lines_total, percent_of
from cedarheights.selectors import school_settings_get
from enrollment.tuition import flat_term_fee, next_month_first, term_billing_months, term_lesson_days
from scheduling.closures import school_day_close
from scheduling.models import Closure, Lesson, Term
from scheduling.outcomes import FLAGS
from scheduling.selectors import local_midnight
from tests.factories import TuitionPlanFactory
from tests.tuition.conftest import enroll

pytestmark = pytest.mark.django_db
EXAMPLES = settings(
    max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@EXAMPLES
@given(
    rate=st.integers(min_value=1_000, max_value=9_999),
    weekday=st.integers(min_value=0, max_value=4),
    closed_days=st.lists(st.integers(min_value=0, max_value=110), max_size=4),
)
def test_over_a_term_a_flat_plans_monthly_charges_add_up_to_its_lessons_within_a_cent_a_month(
    term, teacher, family, term_plan, rate, weekday, closed_days
):
    """Made to fail by charging `rate × lessons of the month` for a term-priced month (five-week months differ)."""
    with transaction.atomic():
        term_plan.lesson_rate_cents = rate
        term_plan.save()
        for offset in closed_days:  # planned closures: holidays, known before the lessons are booked
            day = term.start_date + timedelta(days=offset)
            Closure.objects.create(reason="Holiday", start_date=day, end_date=day, term=term)
        enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=weekday, starts_on=term.start_date)
        months = term_billing_months(term=term)
        charged = [month_bill(family=family, month=month).of(enrollment.pk).base for month in months]
        fee = flat_term_fee(plan=term_plan, term=term, weekday=weekday, teacher_id=teacher.pk)

        assert fee.planned_lessons == Lesson.objects.filter(student=enrollment.student).count()
        assert abs(sum(line.amount_cents for line in charged) - rate * fee.planned_lessons) <= len(months)
        assert len({line.amount_cents for line in charged}) == 1  # the same fee every month of the term
        transaction.set_rollback(True)


@EXAMPLES
@given(
    weekday=st.integers(min_value=0, max_value=4),
    planned=st.lists(st.integers(min_value=0, max_value=27), max_size=3),
    unplanned=st.lists(st.integers(min_value=0, max_value=27), max_size=3),
)
def test_a_per_lesson_month_never_charges_a_closure(
    term, teacher, family, per_lesson_plan, owner_user, weekday, planned, unplanned
):
    """Planned closures make no lesson; a day closed afterwards closes its lessons, which are then not charged.
    Made to fail by counting every lesson of the month whatever its outcome."""
    with transaction.atomic():
        for offset in planned:
            day = term.start_date + timedelta(days=offset)
            Closure.objects.create(reason="Holiday", start_date=day, end_date=day, term=term)
        enrollment = enroll(
            family=family, teacher=teacher, plan=per_lesson_plan, weekday=weekday, starts_on=term.start_date
        )
        for offset in unplanned:
            school_day_close(day=term.start_date + timedelta(days=offset), reason="Snow", actor=owner_user)
        closed = {term.start_date + timedelta(days=offset) for offset in planned + unplanned}
        base = month_bill(family=family, month=term.start_date).of(enrollment.pk).base

        lessons = Lesson.objects.filter(student=enrollment.student, start_at__lt=_month_end(term))
        charged = [lesson for lesson in lessons if not lesson.outcome or FLAGS[lesson.outcome].charged_per_lesson]
        assert not {_day(lesson) for lesson in charged} & closed
        assert base.lessons == len(charged) and base.amount_cents == len(charged) * per_lesson_plan.price_cents
        transaction.set_rollback(True)


def _month_end(term):
    return local_midnight(next_month_first(term.start_date), school_settings_get().zone)


def _day(lesson):
    return lesson.start_at.astimezone(school_settings_get().zone).date()


discount = st.builds(
    Discount,
    kind=st.sampled_from(DISCOUNT_ORDER),
    label=st.just("a discount"),
    coupon=st.just("cedar-test"),
    percent=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
    amount_off_cents=st.integers(min_value=1, max_value=50_000),
)


@settings(max_examples=300, deadline=None, database=None)
@given(base=st.integers(min_value=0, max_value=200_000), discounts=st.lists(discount, max_size=6))
def test_discounts_apply_in_the_schools_order_each_on_what_is_left_never_below_zero(base, discounts):
    """Made to fail by taking each percent of the base instead of what was left (two 10 % make 20 %, not 19 %)."""
    lines = discounts_apply(base_cents=base, discounts=discounts)

    assert [line.kind for line in lines] == sorted((d.kind for d in discounts), key=DISCOUNT_ORDER.index)
    left = base
    ordered = sorted(discounts, key=lambda d: DISCOUNT_ORDER.index(d.kind))
    for line, applied in zip(lines, ordered, strict=True):
        expected = percent_of(left, applied.percent) if applied.percent is not None else applied.amount_off_cents
        assert line.amount_cents == -min(expected, left)
        left += line.amount_cents
        assert left >= 0
    assert base + lines_total(lines) == left >= 0


def test_a_change_of_weekday_previews_the_rest_of_the_months_lessons_old_and_new(term, teacher, family, term_plan):
    """The lessons left at the old rate are given back and those on the new day charged (the change's
    preview shows these lines)."""
    enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=0, starts_on=term.start_date)
    effective_on = term.start_date + timedelta(days=10)
    dearer = TuitionPlanFactory(name="Piano 45", price_cents=20_000, lesson_rate_cents=5_000)

    lines = change_money_preview(
        enrollment=enrollment, effective_on=effective_on, after={"weekday": 2, "tuition_plan_id": dearer.pk}
    )

    given_back, charged = lines[:2]
    mondays = [d for d in term_lesson_days(term=term, weekday=0, from_date=effective_on) if d < _next(term)]
    wednesdays = [d for d in term_lesson_days(term=term, weekday=2, from_date=effective_on) if d < _next(term)]
    assert given_back.amount_cents == -len(mondays) * 3_500 and charged.amount_cents == len(wednesdays) * 5_000


def _next(term):
    return next_month_first(term.start_date)


@EXAMPLES
@given(
    rate=st.integers(min_value=1_000, max_value=9_999),
    weekday=st.integers(min_value=0, max_value=4),
    late_start=st.integers(min_value=1, max_value=20),
)
def test_a_term_that_begins_after_the_1st_charges_its_lessons_over_its_months_from_the_first(
    term, teacher, family, term_plan, rate, weekday, late_start
):
    """A child who starts with a term beginning on the 2nd to 21st pays the term's monthly fee from its first month.
    Made to fail by billing that month by its lessons (the term's total then misses or exceeds its lessons)."""
    with transaction.atomic():
        term_plan.lesson_rate_cents = rate
        term_plan.save()
        Term.objects.filter(pk=term.pk).update(start_date=term.start_date + timedelta(days=late_start))
        late = Term.objects.get(pk=term.pk)  # the fixture's own object stays as it was for the next example
        enrollment = enroll(family=family, teacher=teacher, plan=term_plan, weekday=weekday, starts_on=late.start_date)
        months = term_billing_months(term=late)
        charged = [month_bill(family=family, month=month).of(enrollment.pk).base for month in months]
        fee = flat_term_fee(plan=term_plan, term=late, weekday=weekday, teacher_id=teacher.pk)

        assert abs(sum(line.amount_cents for line in charged) - rate * fee.planned_lessons) <= len(months)
        assert {line.amount_cents for line in charged} == {fee.monthly_cents}
        transaction.set_rollback(True)
