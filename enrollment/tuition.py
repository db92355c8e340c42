"""What a term of tuition costs, counted in lessons (../shared/notes/school-policies.md, "Tuition").

A flat monthly plan with a lesson rate charges the same fee each month of a term: the rate × the lessons the term
plans on the child's weekday (the school's and the teacher's closures left out) ÷ the term's billing months, so a
month with five weeks or a holiday costs what the others do and the term's months add up to its lessons. The
figure is shown to the parent before they enroll. A per-lesson plan charges each month's scheduled lessons.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from cedarheights.money import format_cents
from cedarheights.weekly import Weekday
from enrollment.models import TuitionPlan
from scheduling.models import Term, WeeklyAvailability, WeeklyLesson
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


# --- The fee shown before and after enrolling (issue 17: "the figure shown to the parent before they enroll") ---

AVERAGED_IN = "holidays and five-week months averaged in"


def term_for_enrolling(*, on: date) -> Term | None:
    """The term a family enrolling on `on` starts in: the one running, else the next one."""
    return Term.objects.filter(end_date__gte=on).order_by("start_date").first()


def teaching_weekdays() -> list[int]:
    """The weekdays some active teacher teaches on: the days a new weekly lesson can fall on."""
    return sorted(
        set(WeeklyAvailability.objects.filter(teacher__active=True).values_list("weekday", flat=True).distinct())
    )


def _weekday_counts(*, term: Term, weekdays: list[int]) -> dict[int, int]:
    """The term's lessons on each weekday, the school's closures left out (one query)."""
    off = closed_dates(teacher_ids=[], start_date=term.start_date, end_date=term.end_date)[None]
    counts = dict.fromkeys(weekdays, 0)
    day = term.start_date
    while day <= term.end_date:
        if day.weekday() in counts and day not in off:
            counts[day.weekday()] += 1
        day += timedelta(days=1)
    return counts


def _lessons(count: int) -> str:
    return f"{count} lesson{'s' if count != 1 else ''}"


@dataclass(frozen=True)
class TermFeeQuote:
    """A term-priced plan's monthly fee in a term: for one lesson day (`weekday` set), or the range over the days a
    lesson can fall on (the day is not known before booking)."""

    plan: TuitionPlan
    fees: tuple[TermFee, ...]
    weekday: int | None = None

    @property
    def term(self) -> Term:
        return self.fees[0].term

    @property
    def monthly_low_cents(self) -> int:
        return min(fee.monthly_cents for fee in self.fees)

    @property
    def monthly_high_cents(self) -> int:
        return max(fee.monthly_cents for fee in self.fees)

    @property
    def text(self) -> str:
        """ "$X a month this term — N lessons at $R over M months (…)", or its range by lesson day."""
        fee, currency = self.fees[0], self.plan.currency
        low, high = self.monthly_low_cents, self.monthly_high_cents
        fewest, most = min(f.planned_lessons for f in self.fees), max(f.planned_lessons for f in self.fees)
        months = f"{fee.billing_months} month{'s' if fee.billing_months != 1 else ''}"
        rate = format_cents(fee.rate_cents, currency)
        if low == high and fewest == most:
            text = f"{format_cents(low, currency)} a month this term — {_lessons(most)} at {rate} over {months}"
        else:
            text = (
                f"{format_cents(low, currency)} to {format_cents(high, currency)} a month this term, by your lesson "
                f"day — {fewest} to {_lessons(most)} at {rate} over {months}"
            )
        day = f" for a {Weekday(self.weekday).label} lesson" if self.weekday is not None else ""
        return f"{text}{day} ({AVERAGED_IN})"


def term_fee_quotes(*, plans: list[TuitionPlan], on: date) -> dict[int, dict[int | None, TermFeeQuote]]:
    """What each term-priced plan costs a month in the term a family enrolling on `on` starts in: by lesson day
    (keys 0–6), and the range over the days the school teaches on (key None; every day when no teacher has hours
    yet). Plans not term-priced are left out, and all of them without a term. Three queries whatever the plans."""
    priced = [plan for plan in plans if is_term_priced(plan)]
    if not priced or (term := term_for_enrolling(on=on)) is None:
        return {}
    months = len(term_billing_months(term=term))
    counts = _weekday_counts(term=term, weekdays=list(range(7)))
    teaching = teaching_weekdays() or list(range(7))
    quotes = {}
    for plan in priced:
        fees = {day: TermFee(term, plan.lesson_rate_cents, counts[day], months) for day in range(7)}
        quotes[plan.pk] = {day: TermFeeQuote(plan=plan, fees=(fee,), weekday=day) for day, fee in fees.items()}
        quotes[plan.pk][None] = TermFeeQuote(plan=plan, fees=tuple(fees[day] for day in teaching))
    return quotes


def weekly_lesson_fee_quote(*, plan: TuitionPlan, weekly: WeeklyLesson) -> TermFeeQuote | None:
    """The exact monthly fee of a booked weekly time: the term of its first week, its day, its teacher's closures."""
    if not is_term_priced(plan) or (term := term_for_enrolling(on=weekly.starts_on)) is None:
        return None
    fee = flat_term_fee(plan=plan, term=term, weekday=weekly.weekday, teacher_id=weekly.teacher_id)
    return TermFeeQuote(plan=plan, fees=(fee,), weekday=weekly.weekday)


def plan_price_text(plan: TuitionPlan) -> str:
    """A plan's price in words, when it does not follow the term's lessons."""
    if plan.basis == TuitionPlan.Basis.PER_LESSON:
        return f"{plan.price_display} a lesson, billed each month for the month's lessons"
    return f"{plan.price_display} a {'week' if plan.interval == TuitionPlan.Interval.WEEK else 'month'}"


def enrollments_tuition_described(*, enrollments: list) -> list:
    """`tuition_text` on each enrollment, as the confirmation and the welcome email say it: a term-priced plan's
    exact monthly fee for the weekly time booked (its day, its teacher's closures, the term of its first week), else
    the plan's price; "" without a plan."""
    weekly_by_student = {}
    for weekly in WeeklyLesson.objects.filter(
        student_id__in={e.student_id for e in enrollments}, ended_on__isnull=True
    ).order_by("starts_on", "pk"):
        weekly_by_student.setdefault(weekly.student_id, weekly)
    for enrollment in enrollments:
        plan, weekly = enrollment.tuition_plan, weekly_by_student.get(enrollment.student_id)
        quote = weekly_lesson_fee_quote(plan=plan, weekly=weekly) if plan and weekly else None
        enrollment.tuition_text = quote.text if quote else (plan_price_text(plan) if plan else "")
    return enrollments
