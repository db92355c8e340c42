"""A pay period's lines and what each teacher earns in it.

A closed period's lines are stored and read back as they were frozen. An open period's are computed from the
lessons as they are now, in the shape closing will store them:
- a lesson of the period not paid before: a `regular` line (amount 0 when its outcome is unpaid);
- a lesson already paid in a closed period (its outcome, teacher, length or day changed since; or a lesson of a
  closed period marked only after it closed): an `adjustment` for each teacher whose due changed, the difference
  between what the lesson is worth to them now and what they were paid for it (negative when less is due).
Adjustments land in the earliest open period, the next to close; they are computed, never accumulated, so
reading or closing twice gives the same lines. The candidates are the lessons of closed periods written
(`updated_at`) after their period closed: the scheduling services stamp every change of a lesson there.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing.payroll.models import PayLine, PayPeriod, PayRate
from billing.payroll.rules import NOT_A_LESSON_GIVEN, LessonPay, lesson_pay, paid_outcomes
from cedarheights.money import default_currency
from cedarheights.selectors import school_settings_get
from scheduling.models import Lesson, Teacher
from scheduling.selectors import local_midnight

LINE_RELATED = ("teacher__user", "student", "lesson")


def pay_periods_list() -> QuerySet[PayPeriod]:
    return PayPeriod.objects.select_related("closed_by").order_by("-start")


def pay_period_earliest_open() -> PayPeriod | None:
    return PayPeriod.objects.filter(status=PayPeriod.Status.OPEN).order_by("start").first()


def pay_period_of_day(*, day: date) -> PayPeriod | None:
    return PayPeriod.objects.filter(start__lte=day, end__gte=day).first()


def _period_lessons(period: PayPeriod) -> QuerySet[Lesson]:
    zone = school_settings_get().zone
    return Lesson.objects.filter(
        start_at__gte=local_midnight(period.start, zone),
        start_at__lt=local_midnight(period.end + timedelta(days=1), zone),
    )


def pay_period_unmarked(*, period: PayPeriod, now: datetime | None = None) -> list[Lesson]:
    """The period's lessons that have started and still have no outcome: closing waits for them."""
    lessons = _period_lessons(period).filter(outcome="", start_at__lt=now or timezone.now())
    return list(lessons.select_related("teacher__user", "student").order_by("start_at", "pk"))


def _lessons_due(period: PayPeriod, *, lock: bool) -> list[Lesson]:
    """The lessons the open `period` pays: its own, and, when it is the next to close, the lessons of closed
    periods changed after they closed."""
    zone = school_settings_get().zone
    since = local_midnight(period.start, zone)
    until = local_midnight(period.end + timedelta(days=1), zone)
    in_period = Q(start_at__gte=since, start_at__lt=until)
    earlier_open = PayPeriod.objects.filter(status=PayPeriod.Status.OPEN, start__lt=period.start)
    lessons = Lesson.objects.all()
    if period.is_closed or earlier_open.exists():
        lessons = lessons.filter(in_period)
    else:
        changed_after_close = PayPeriod.objects.filter(
            status=PayPeriod.Status.CLOSED,
            start__lte=OuterRef("day"),
            end__gte=OuterRef("day"),
            closed_at__lt=OuterRef("updated_at"),
        )
        lessons = lessons.annotate(day=TruncDate("start_at", tzinfo=zone), changed=Exists(changed_after_close))
        lessons = lessons.filter(in_period | (Q(start_at__lt=since) & Q(changed=True)))
    if lock:
        lessons = lessons.select_for_update(of=("self",))
    return list(lessons.select_related("student").order_by("start_at", "pk"))


def _paid_so_far(lesson_ids: list[int]) -> dict[int, dict[int, int]]:
    """What each lesson was paid to each teacher in closed periods: {lesson: {teacher: cents}}."""
    paid: dict[int, dict[int, int]] = defaultdict(dict)
    rows = (
        PayLine.objects.filter(lesson_id__in=lesson_ids, period__status=PayPeriod.Status.CLOSED)
        .values("lesson_id", "teacher_id")
        .annotate(total=Sum("amount_cents"))
    )
    for row in rows:
        paid[row["lesson_id"]][row["teacher_id"]] = row["total"]
    return paid


def lesson_minutes(lesson: Lesson) -> int:
    return int((lesson.end_at - lesson.start_at).total_seconds() // 60)


@dataclass(frozen=True)
class _LineDraft:
    """One lesson as it stands, for its lines: the current teacher's carries the outcome's pay and rate; an earlier
    teacher's (the lesson went to a substitute since) only takes back what they were paid."""

    period: PayPeriod
    lesson: Lesson
    day: date
    minutes: int
    pay: LessonPay
    currency: str

    def line(self, teacher: Teacher, amount_cents: int, kind: str) -> PayLine:
        current = teacher.pk == self.lesson.teacher_id
        rate = self.pay.rate if current else None
        return PayLine(
            period=self.period,
            teacher=teacher,
            lesson=self.lesson,
            student=self.lesson.student,
            date=self.day,
            minutes=self.minutes,
            outcome=self.lesson.outcome,
            paid=self.pay.paid and current,
            rate_kind=rate.kind if rate else "",
            rate_cents=rate.amount_cents if rate else None,
            amount_cents=amount_cents,
            currency=rate.currency if rate else self.currency,
            kind=kind,
        )


def pay_lines_compute(*, period: PayPeriod, lock: bool = False) -> list[PayLine]:
    """The open `period`'s lines as they stand now (unsaved), by teacher, date and lesson. `lock`: the lessons are
    read FOR UPDATE (closing: no outcome changes between reading a lesson and freezing its line)."""
    settings = school_settings_get()
    zone, paid = settings.zone, paid_outcomes(settings)
    lessons = _lessons_due(period, lock=lock)
    paid_before = _paid_so_far([lesson.pk for lesson in lessons])
    teacher_ids = {lesson.teacher_id for lesson in lessons} | {t for by in paid_before.values() for t in by}
    rates: dict[int, list[PayRate]] = defaultdict(list)
    for rate in PayRate.objects.filter(teacher_id__in=teacher_ids):
        rates[rate.teacher_id].append(rate)
    teachers = Teacher.objects.in_bulk(teacher_ids)
    currency = default_currency()

    lines = []
    for lesson in lessons:
        day = timezone.localtime(lesson.start_at, zone).date()
        minutes = lesson_minutes(lesson)
        pay = lesson_pay(outcome=lesson.outcome, minutes=minutes, day=day, rates=rates[lesson.teacher_id], paid=paid)
        draft = _LineDraft(period=period, lesson=lesson, day=day, minutes=minutes, pay=pay, currency=currency)
        before = paid_before.get(lesson.pk, {})
        if not before:
            if lesson.outcome in NOT_A_LESSON_GIVEN:
                continue
            if period.start <= day <= period.end:
                lines.append(draft.line(teachers[lesson.teacher_id], pay.amount_cents, PayLine.Kind.REGULAR))
            elif pay.amount_cents or (pay.paid and pay.rate is None):  # a closed period's lesson marked late
                lines.append(draft.line(teachers[lesson.teacher_id], pay.amount_cents, PayLine.Kind.ADJUSTMENT))
            continue
        for teacher_id in sorted({lesson.teacher_id} | set(before)):
            current = teacher_id == lesson.teacher_id
            difference = (pay.amount_cents if current else 0) - before.get(teacher_id, 0)
            if difference or (current and pay.paid and pay.rate is None):
                lines.append(draft.line(teachers[teacher_id], difference, PayLine.Kind.ADJUSTMENT))
    return sorted(lines, key=lambda pay_line: (_teacher_key(pay_line.teacher), pay_line.date, pay_line.lesson_id))


def _teacher_key(teacher: Teacher) -> tuple:
    return (teacher.user.last_name, teacher.user.first_name, teacher.pk)


def pay_period_lines(*, period: PayPeriod, teacher: Teacher | None = None) -> list[PayLine]:
    """The period's lines (one teacher's, with `teacher`): frozen when it is closed, as they stand when open."""
    if period.is_closed:
        lines = PayLine.objects.filter(period=period).select_related(*LINE_RELATED)
        if teacher is not None:
            lines = lines.filter(teacher=teacher)
        return sorted(lines, key=lambda pay_line: (_teacher_key(pay_line.teacher), pay_line.date, pay_line.pk))
    lines = pay_lines_compute(period=period)
    return [line for line in lines if teacher is None or line.teacher_id == teacher.pk]


@dataclass(frozen=True)
class TeacherPay:
    """One teacher's period: the paid lessons and their minutes, the adjustments, and the total."""

    teacher: Teacher
    lessons: int
    minutes: int
    regular_cents: int
    adjustment_cents: int
    currency: str

    @property
    def total_cents(self) -> int:
        return self.regular_cents + self.adjustment_cents


def pay_summary(lines: Iterable[PayLine]) -> list[TeacherPay]:
    """Per teacher, in the lines' order: paid regular lessons (count, minutes, amount) and adjustments."""
    by_teacher: dict[int, list[PayLine]] = {}
    for line in lines:
        by_teacher.setdefault(line.teacher_id, []).append(line)
    summary = []
    for teacher_lines in by_teacher.values():
        regular = [line for line in teacher_lines if line.kind == PayLine.Kind.REGULAR and line.paid]
        summary.append(
            TeacherPay(
                teacher=teacher_lines[0].teacher,
                lessons=len(regular),
                minutes=sum(line.minutes for line in regular),
                regular_cents=sum(line.amount_cents for line in regular),
                adjustment_cents=sum(
                    line.amount_cents for line in teacher_lines if line.kind == PayLine.Kind.ADJUSTMENT
                ),
                currency=teacher_lines[0].currency,
            )
        )
    return summary
