"""What a family owes for a month, enrollment by enrollment, as lines (billing.tuition.lines): the one answer the
billing page, receipts, the admin, the Stripe sync and the owner's MRR read.

The base of each enrollment's month:
- a term-priced flat plan: the term's monthly fee (`enrollment.tuition.flat_term_fee`), the same each month;
- a fixed flat plan (no lesson rate): its monthly price;
- a per-lesson plan: the month's regular lessons × rate, without those its outcome does not charge (a school
  closure, a teacher's cancellation, a released lesson: `scheduling.outcomes.FLAGS`); planned closures make no
  lesson at all;
- a flat plan's first month (billing starting with the first lesson) and a withdrawal's last month: the lessons
  of the month from the first lesson, or up to the last, × the lesson rate.
Then the discounts, in order: several lessons a week of one child, siblings, the family's or staff discount, a
promotion code.

An enrollment's lessons are those of its standing weekly time: a child's weekly times and billable enrollments are
paired in the order they began (a child with two weekly lessons has two enrollments).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import Family
from billing.models import FamilyDiscount, PromotionCode, PromotionRedemption
from billing.tuition.lines import Discount, LineKind, MoneyLine, discounts_apply, lines_total, percent_of
from cedarheights.money import format_cents
from cedarheights.selectors import school_settings_get, school_today
from enrollment.lesson_prices import lesson_price_cents
from enrollment.models import Enrollment, TuitionPlan
from enrollment.tuition import flat_term_fee, is_term_priced, month_first, next_month_first, term_lesson_days
from scheduling.models import Lesson, Term, WeeklyLesson
from scheduling.outcomes import FLAGS
from scheduling.selectors import local_midnight

BILLED_STATUSES = (Enrollment.Status.ACTIVE, Enrollment.Status.CANCELLED, Enrollment.Status.COMPLETED)


@dataclass(frozen=True)
class EnrollmentMonth:
    """One enrollment's month: its base line, then its discount lines."""

    enrollment: Enrollment
    month: date
    lines: tuple[MoneyLine, ...]
    currency: str

    @property
    def base(self) -> MoneyLine:
        return self.lines[0]

    @property
    def discounts(self) -> tuple[MoneyLine, ...]:
        return self.lines[1:]

    @property
    def total_cents(self) -> int:
        return lines_total(self.lines)

    @property
    def coupons(self) -> list[str]:
        return [line.coupon for line in self.discounts if line.coupon and line.amount_cents]

    @property
    def total_display(self) -> str:
        return format_cents(self.total_cents, self.currency)


@dataclass(frozen=True)
class FamilyMonthBill:
    family_id: int
    month: date
    enrollments: tuple[EnrollmentMonth, ...]
    currency: str

    @property
    def total_cents(self) -> int:
        return sum(item.total_cents for item in self.enrollments)

    @property
    def total_display(self) -> str:
        return format_cents(self.total_cents, self.currency)

    def of(self, enrollment_id: int) -> EnrollmentMonth | None:
        return next((item for item in self.enrollments if item.enrollment.pk == enrollment_id), None)


@dataclass
class _Billable:
    enrollment: Enrollment
    weekly: WeeklyLesson | None
    base: MoneyLine
    discounts: list[Discount] = field(default_factory=list)


def _money(cents: int, plan: TuitionPlan) -> str:
    return format_cents(cents, plan.currency)


def _lessons_word(count: int) -> str:
    return f"{count} lesson{'s' if count != 1 else ''}"


def billing_start_day(enrollment: Enrollment, weekly: WeeklyLesson | None) -> date | None:
    """The day billing starts: the first lesson billing was started with, else the first week of the weekly time."""
    subscription = getattr(enrollment, "subscription", None)
    if subscription is not None and subscription.starts_at is not None:
        return timezone.localtime(subscription.starts_at, school_settings_get().zone).date()
    return weekly.starts_on if weekly is not None else None


def _starts_with_its_term(plan: TuitionPlan, weekly: WeeklyLesson | None, terms, month: date, start: date) -> bool:
    """A term-priced child who starts with the term's first lesson of the month pays the term's monthly fee from the
    start: that month is one of the billing months the fee is spread over (a term beginning on the 3rd included)."""
    if not is_term_priced(plan) or weekly is None:
        return False
    days = [
        day
        for term in terms
        for day in term_lesson_days(term=term, weekday=weekly.weekday, teacher_id=weekly.teacher_id)
        if month <= day < next_month_first(month)
    ]
    return bool(days) and start <= min(days)


def _lesson_counted(lesson: dict, plan: TuitionPlan) -> bool:
    if not lesson["outcome"]:
        return True
    flags = FLAGS[lesson["outcome"]]
    return flags.charged_per_lesson if plan.basis == TuitionPlan.Basis.PER_LESSON else flags.charged_flat


def _base_line(
    *, enrollment: Enrollment, weekly: WeeklyLesson | None, month: date, lessons: list[dict], terms: list[Term]
) -> MoneyLine | None:
    """The month's base for one enrollment, or None when it is not billed that month."""
    plan = enrollment.tuition_plan
    start = billing_start_day(enrollment, weekly)
    if start is None or start >= next_month_first(month):
        return None
    ends_on = enrollment.ends_on
    if ends_on is not None and ends_on < month:
        return None
    rate = lesson_price_cents(enrollment=enrollment)
    counted = [
        lesson
        for lesson in lessons
        if _lesson_counted(lesson, plan) and lesson["day"] >= start and (ends_on is None or lesson["day"] <= ends_on)
    ]
    per_lesson = plan.basis == TuitionPlan.Basis.PER_LESSON or plan.interval == TuitionPlan.Interval.WEEK
    if per_lesson:
        return MoneyLine(
            LineKind.BASE,
            f"{_lessons_word(len(counted))} × {_money(rate, plan)}",
            len(counted) * rate,
            lessons=len(counted),
            rate_cents=rate,
        )
    partial = (
        LineKind.FIRST_MONTH if start > month and not _starts_with_its_term(plan, weekly, terms, month, start) else None
    )
    if ends_on is not None and ends_on < next_month_first(month) - date.resolution:
        partial = partial or LineKind.LAST_MONTH
    if partial:
        first = partial == LineKind.FIRST_MONTH
        what = "first month, from the first lesson" if first else "last month, to the last lesson"
        return MoneyLine(
            partial,
            f"{_lessons_word(len(counted))} × {_money(rate, plan)} ({what})",
            len(counted) * rate,
            lessons=len(counted),
            rate_cents=rate,
        )
    if not is_term_priced(plan):
        return MoneyLine(LineKind.BASE, f"{plan.name}: monthly fee", plan.price_cents)
    if weekly is None:
        return MoneyLine(LineKind.BASE, f"{plan.name}: no weekly lesson booked yet", 0)
    fees = [flat_term_fee(plan=plan, term=term, weekday=weekly.weekday, teacher_id=weekly.teacher_id) for term in terms]
    fees = [fee for fee in fees if fee.billing_months]
    if not fees:
        return MoneyLine(LineKind.BASE, f"{plan.name}: no term this month", 0)
    planned = sum(fee.planned_lessons for fee in fees)
    label = "; ".join(
        f"{fee.term.name}: {_lessons_word(fee.planned_lessons)} × {_money(fee.rate_cents, plan)} over "
        f"{fee.billing_months} months"
        for fee in fees
    )
    return MoneyLine(
        LineKind.BASE, label, sum(fee.monthly_cents for fee in fees), lessons=planned, rate_cents=fees[0].rate_cents
    )


def _pair_weekly_lessons(enrollments: list[Enrollment], weekly_lessons: list[WeeklyLesson], month: date) -> dict:
    """Each enrollment's weekly time: a child's enrollments and weekly times (those running in the month), paired in
    the order they began."""
    by_student = defaultdict(list)
    for weekly in weekly_lessons:
        if weekly.ended_on is None or weekly.ended_on >= month:
            by_student[weekly.student_id].append(weekly)
    paired, taken = {}, defaultdict(int)
    for enrollment in sorted(enrollments, key=lambda e: (e.activated_at or e.created_at, e.pk)):
        mine = by_student[enrollment.student_id]
        index = taken[enrollment.student_id]
        paired[enrollment.pk] = mine[index] if index < len(mine) else None
        taken[enrollment.student_id] += 1
    return paired


def _promotion_active(redemption: PromotionRedemption, month: date) -> bool:
    code, first = redemption.code, redemption.first_month
    if month < first:
        return False
    if code.duration == PromotionCode.Duration.ONCE:
        return month == first
    if code.duration == PromotionCode.Duration.REPEATING:
        months = (month.year - first.year) * 12 + month.month - first.month
        return months < (code.duration_months or 0)
    return True


def promotion_coupon_id(code: PromotionCode) -> str:
    return f"cedar-promo-{code.pk}"


def _discounts(billables: list[_Billable], family_discount: FamilyDiscount | None, promotions: list) -> None:
    """Fill each billable's discounts, in the school's order (settings read once)."""
    school = school_settings_get()
    by_child = defaultdict(list)
    for billable in billables:
        by_child[billable.enrollment.student_id].append(billable)
    child_totals = []
    for student_id, own in by_child.items():
        own.sort(key=lambda b: (-b.base.amount_cents, b.enrollment.pk))
        multi = school.multi_lesson_discount_percent
        for further in own[1:]:
            if multi:
                further.discounts.append(
                    Discount(LineKind.MULTI_LESSON, f"Another weekly lesson: −{multi} %", f"cedar-multi-{multi}", multi)
                )
        after_multi = sum(
            b.base.amount_cents - (percent_of(b.base.amount_cents, multi) if i else 0) for i, b in enumerate(own)
        )
        child_totals.append((-after_multi, student_id))
    for rank, (_, student_id) in enumerate(sorted(child_totals)):
        if rank == 0:
            continue
        percent = school.sibling_second_discount_percent if rank == 1 else school.sibling_further_discount_percent
        which = "Second child" if rank == 1 else "Third or later child"
        for billable in by_child[student_id]:
            if percent:
                billable.discounts.append(
                    Discount(LineKind.SIBLING, f"{which}: −{percent} %", f"cedar-sibling-{percent}", percent)
                )
    if family_discount is not None:
        kind = LineKind.STAFF if family_discount.kind == FamilyDiscount.Kind.STAFF else LineKind.FAMILY
        for billable in billables:
            billable.discounts.append(
                Discount(
                    kind,
                    f"{family_discount.get_kind_display()}: −{family_discount.percent} %",
                    f"cedar-{kind}-{family_discount.percent}",
                    family_discount.percent,
                )
            )
    for redemption in promotions:
        code = redemption.code
        targets = [b for b in billables if b.enrollment.pk == redemption.enrollment_id]
        if redemption.enrollment_id is None:
            highest = sorted(billables, key=lambda b: (-b.base.amount_cents, b.enrollment.pk))
            targets = billables if code.percent_off else highest[:1]
        for billable in targets:
            billable.discounts.append(
                Discount(
                    LineKind.PROMOTION,
                    f"Promotion {code.code}: {code.terms}",
                    promotion_coupon_id(code),
                    code.percent_off,
                    code.amount_off_cents,
                )
            )


def month_bill(*, family: Family | int, month: date) -> FamilyMonthBill:
    """What the family owes for the month of `month`: each billed enrollment's lines (base, then discounts), in a
    fixed number of queries plus one per term-priced enrollment (its term's closures)."""
    family_id = family if isinstance(family, int) else family.pk
    month = month_first(month)
    zone = school_settings_get().zone
    enrollments = list(
        Enrollment.objects.filter(student__family_id=family_id, status__in=BILLED_STATUSES, tuition_plan__isnull=False)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=month))
        .exclude(Q(status=Enrollment.Status.CANCELLED) & Q(ends_on__isnull=True))
        .select_related("tuition_plan", "student", "subscription")
    )
    if not enrollments:
        return FamilyMonthBill(family_id, month, (), settings.SCHOOL_CURRENCY)
    weekly_lessons = list(
        WeeklyLesson.objects.filter(student__family_id=family_id, starts_on__lt=next_month_first(month)).order_by(
            "student_id", "starts_on", "pk"
        )
    )
    paired = _pair_weekly_lessons(enrollments, weekly_lessons, month)
    lessons_by_weekly = defaultdict(list)
    for lesson in Lesson.objects.filter(
        student__family_id=family_id,
        kind=Lesson.Kind.REGULAR,
        weekly_lesson__isnull=False,
        start_at__gte=local_midnight(month, zone),
        start_at__lt=local_midnight(next_month_first(month), zone),
    ).values("weekly_lesson_id", "start_at", "outcome"):
        lesson["day"] = timezone.localtime(lesson["start_at"], zone).date()
        lessons_by_weekly[lesson["weekly_lesson_id"]].append(lesson)
    terms = []
    if any(is_term_priced(e.tuition_plan) for e in enrollments):
        terms = list(
            Term.objects.filter(start_date__lt=next_month_first(month), end_date__gte=month).order_by("start_date")
        )
    billables = []
    for enrollment in enrollments:
        weekly = paired[enrollment.pk]
        base = _base_line(
            enrollment=enrollment,
            weekly=weekly,
            month=month,
            lessons=lessons_by_weekly[weekly.pk] if weekly else [],
            terms=terms,
        )
        if base is not None:
            billables.append(_Billable(enrollment, weekly, base))
    family_discount = FamilyDiscount.objects.filter(family_id=family_id).first()
    promotions = [
        redemption
        for redemption in PromotionRedemption.objects.filter(family_id=family_id, first_month__lte=month)
        .select_related("code")
        .order_by("created_at", "pk")
        if _promotion_active(redemption, month)
    ]
    _discounts(billables, family_discount, promotions)
    items = tuple(
        EnrollmentMonth(
            enrollment=b.enrollment,
            month=month,
            lines=(b.base, *discounts_apply(base_cents=b.base.amount_cents, discounts=b.discounts)),
            currency=b.enrollment.tuition_plan.currency,
        )
        for b in sorted(billables, key=lambda b: (b.enrollment.student.first_name, b.enrollment.pk))
    )
    return FamilyMonthBill(family_id, month, items, items[0].currency if items else settings.SCHOOL_CURRENCY)


def enrollment_monthly_cents(*, enrollment: Enrollment, on: date) -> int:
    """What the enrollment brings in for the month of `on`, after its discounts (the owner's MRR)."""
    found = month_bill(family=enrollment.student.family_id, month=on).of(enrollment.pk)
    return found.total_cents if found else 0


def family_tuition_months(*, family_id: int) -> list[FamilyMonthBill]:
    """The billing page's tuition: this month's lines and next month's."""
    this_month = month_first(school_today())
    return [
        month_bill(family=family_id, month=this_month),
        month_bill(family=family_id, month=next_month_first(this_month)),
    ]


def receipt_tuition_bill(*, receipt) -> FamilyMonthBill | None:
    """A tuition receipt's lines: the month it was paid in (a first month's lessons are paid in it, a renewal on its
    1st)."""
    if receipt.payment.purpose != "tuition":
        return None
    paid_on = timezone.localtime(receipt.issued_at, school_settings_get().zone).date()
    return month_bill(family=receipt.family_id, month=paid_on)
