"""What a term of tuition costs, counted in lessons (../shared/notes/school-policies.md, "Tuition").

A flat monthly plan with a lesson rate charges the same fee each month of a term: the rate × the lessons the term
plans on the child's weekday (the school's and the teacher's closures left out) ÷ the term's billing months, so a
month with five weeks or a holiday costs what the others do and the term's months add up to its lessons. The
figure is shown to the parent before they enroll. A per-lesson plan charges each month's scheduled lessons.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from enrollment.models import TuitionPlan
from scheduling.models import Term
from scheduling.selectors import closed_dates


def month_first(day: date) -> date:
    return day.replace(day=1)


def next_month_first(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def term_billing_months(*, term: Term) -> list[date]:
    """The first day of each month the term has a day in: the months its fees are spread over."""
    months, month = [], month_first(term.start_date)
    while month <= term.end_date:
        months.append(month)
        month = next_month_first(month)
    return months


def term_lesson_days(
    *, term: Term, weekday: int, teacher_id: int | None = None, from_date: date | None = None
) -> list[date]:
    """The term's days on `weekday` (from `from_date`) that are not closed for the school or for the teacher."""
    first = max(term.start_date, from_date or term.start_date)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    closed = closed_dates(teacher_ids=[teacher_id] if teacher_id else [], start_date=first, end_date=term.end_date)
    off = closed[None] | (closed[teacher_id] if teacher_id else set())
    days, day = [], first
    while day <= term.end_date:
        if day not in off:
            days.append(day)
        day += timedelta(days=7)
    return days


@dataclass(frozen=True)
class TermFee:
    """A flat plan's fee in one term: the lessons it plans, the months they are paid over, and each month's fee."""

    term: Term
    rate_cents: int
    planned_lessons: int
    billing_months: int

    @property
    def monthly_cents(self) -> int:
        return round(self.rate_cents * self.planned_lessons / self.billing_months) if self.billing_months else 0

    @property
    def term_cents(self) -> int:
        return self.rate_cents * self.planned_lessons


def is_term_priced(plan: TuitionPlan) -> bool:
    """A flat monthly plan whose fee follows each term's lessons (it has a lesson rate)."""
    return (
        plan.basis == TuitionPlan.Basis.FLAT
        and plan.interval == TuitionPlan.Interval.MONTH
        and plan.lesson_rate_cents is not None
    )


def flat_term_fee(*, plan: TuitionPlan, term: Term, weekday: int, teacher_id: int | None = None) -> TermFee:
    """The monthly fee of a term-priced plan for a weekly lesson on `weekday` in `term`."""
    if not is_term_priced(plan):
        raise ValueError(f"{plan} is not a flat monthly plan with a lesson rate.")
    return TermFee(
        term=term,
        rate_cents=plan.lesson_rate_cents,
        planned_lessons=len(term_lesson_days(term=term, weekday=weekday, teacher_id=teacher_id)),
        billing_months=len(term_billing_months(term=term)),
    )
