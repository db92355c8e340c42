"""What one lesson is worth by the child's tuition plan, and the fee a missed one may carry (School settings): the
figures a credit turned into money and a no-show or late-cancellation fee are made of."""

from dataclasses import dataclass

from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment, TuitionPlan
from scheduling.models import Lesson
from scheduling.outcomes import FEE_PERCENT_SETTING, Outcome

WEEKS_PER_MONTH = 52 / 12  # a flat monthly fee pays for the weeks of an average month


def lesson_price_cents(*, enrollment: Enrollment) -> int:
    """One lesson of the enrollment's plan: the price itself per lesson or per week, the lesson rate of a
    term-priced flat plan, a fixed month's price over its average weeks; 0 without a plan."""
    plan = enrollment.tuition_plan
    if plan is None:
        return 0
    if plan.basis == TuitionPlan.Basis.PER_LESSON or plan.interval == TuitionPlan.Interval.WEEK:
        return plan.price_cents
    if plan.lesson_rate_cents is not None:
        return plan.lesson_rate_cents  # a term-priced flat plan (enrollment.tuition)
    return round(plan.price_cents / WEEKS_PER_MONTH)


@dataclass(frozen=True)
class FeeQuote:
    outcome: str
    amount_cents: int
    waived_because: str = ""  # the first late cancellation of a term, when the school waives it


def lesson_fee_quote(*, lesson: Lesson, outcome: str, enrollment: Enrollment | None) -> FeeQuote | None:
    """The fee `outcome` would carry on this lesson, or None: only no-shows and late cancellations of per-lesson
    plans, only when the school turned fees on (School settings)."""
    school = school_settings_get()
    setting = FEE_PERCENT_SETTING.get(outcome)
    plan = enrollment.tuition_plan if enrollment else None
    if setting is None or not school.lesson_fees_enabled or plan is None or plan.basis != TuitionPlan.Basis.PER_LESSON:
        return None
    if lesson.kind != Lesson.Kind.REGULAR:
        return None  # a missed make-up loses its credit, which is penalty enough; a demo is free
    amount = round(lesson_price_cents(enrollment=enrollment) * getattr(school, setting) / 100)
    if amount <= 0:
        return None
    if outcome == Outcome.LATE_CANCEL and school.first_late_cancel_waived:
        earlier = Lesson.objects.filter(
            student_id=lesson.student_id, term_id=lesson.term_id, outcome=Outcome.LATE_CANCEL
        ).exclude(pk=lesson.pk)
        if not earlier.exists():
            return FeeQuote(outcome, amount, "the first late cancellation of the term is waived")
    return FeeQuote(outcome, amount)
