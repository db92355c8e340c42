"""What a lesson earns its teacher: pure rules, no queries (the selectors load what they read).

- The outcomes paid are the school's settings (`pay_*`); a released lesson (the school gave the time up) and a
  lesson still to come are never paid. Every kind of lesson is paid alike, its outcome deciding: a make-up, a
  demo and a drop-in are lessons the teacher gives (attended → paid).
- The rate is the one in force on the lesson's local date: of the teacher's fixed rate for the lesson's length and
  their hourly rate, the one that took effect last (on the same day, the fixed one). A rate added later never
  reaches a lesson before its first day, so it never rewrites what was paid.
- Hourly pay is prorated by the minutes, to the nearest cent (half a cent up): $45/h for 30 min is $22.50.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from billing.payroll.models import PayRate
from cedarheights.models import SchoolSettings
from scheduling.outcomes import Outcome

SETTING_OF_OUTCOME = {
    Outcome.ATTENDED: "pay_attended",
    Outcome.NO_SHOW: "pay_no_show",
    Outcome.LATE_CANCEL: "pay_late_cancel",
    Outcome.LATE_CANCEL_SICK: "pay_late_cancel_sick",
    Outcome.CANCELLED_WITH_NOTICE: "pay_cancelled_with_notice",
    Outcome.TEACHER_CANCELLED: "pay_teacher_cancelled",
    Outcome.SCHOOL_CLOSED: "pay_school_closed",
}
# No line at all: the lesson is still to come, or the school gave its time up (never taught, never paid).
NOT_A_LESSON_GIVEN = frozenset({"", Outcome.RELEASED})


def paid_outcomes(settings: SchoolSettings) -> frozenset[str]:
    return frozenset(outcome for outcome, name in SETTING_OF_OUTCOME.items() if getattr(settings, name))


def rate_in_force(rates: Iterable[PayRate], *, minutes: int, day: date) -> PayRate | None:
    """Of one teacher's `rates`, the one that pays a lesson of `minutes` on `day`; None when none does."""
    best = None
    for rate in rates:
        if rate.effective_from > day:
            continue
        if rate.kind == PayRate.Kind.FIXED and rate.lesson_minutes != minutes:
            continue
        # The latest first day wins; on the same day a fixed rate (made for this length) wins over hourly.
        key = (rate.effective_from, rate.kind == PayRate.Kind.FIXED)
        if best is None or key > (best.effective_from, best.kind == PayRate.Kind.FIXED):
            best = rate
    return best


def prorated_cents(hourly_cents: int, minutes: int) -> int:
    """An hourly rate for `minutes`, rounded half up to the cent, in integers (no float ever touches money)."""
    return (hourly_cents * minutes * 2 + 60) // 120


@dataclass(frozen=True)
class LessonPay:
    """What one lesson earns its teacher now: `paid` says whether the outcome is paid; `rate` None when paid but
    no rate is in force (the amount is then 0 until the owner adds one)."""

    paid: bool
    rate: PayRate | None
    amount_cents: int


def lesson_pay(*, outcome: str, minutes: int, day: date, rates: Iterable[PayRate], paid: frozenset[str]) -> LessonPay:
    if outcome not in paid:
        return LessonPay(paid=False, rate=None, amount_cents=0)
    rate = rate_in_force(rates, minutes=minutes, day=day)
    if rate is None:
        return LessonPay(paid=True, rate=None, amount_cents=0)
    amount = rate.amount_cents if rate.kind == PayRate.Kind.FIXED else prorated_cents(rate.amount_cents, minutes)
    return LessonPay(paid=True, rate=rate, amount_cents=amount)
