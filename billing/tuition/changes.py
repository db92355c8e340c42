"""The money of a mid-cycle change (enrollment.lifecycle.changes moves the lessons): for the rest of the month, the
lessons left at the old price are given back and those at the new price charged, with the month's discounts; from
the next month the subscription's item follows the new plan and discounts (billing.tuition.stripe_sync), and a
renewal is brought to the month's bill in its draft window."""

import hashlib
import json
from datetime import date

from billing.models import TuitionCharge, TuitionSubscription
from billing.tuition.bill import month_bill
from billing.tuition.lines import LineKind, MoneyLine, lines_total
from billing.tuition.stripe_sync import charge_record, discounted_cents, family_items_sync_enqueue
from cedarheights.money import format_cents
from cedarheights.outbox import task_enqueue_with_commit
from cedarheights.selectors import school_settings_get
from enrollment.lesson_prices import lesson_price_cents
from enrollment.models import Enrollment, TuitionPlan
from enrollment.tuition import month_first, next_month_first, term_lesson_days
from scheduling.models import Lesson, Term
from scheduling.outcomes import FLAGS
from scheduling.selectors import local_midnight


def _lessons_left(*, enrollment: Enrollment, effective_on: date) -> int:
    """The child's regular lessons still charged from `effective_on` to the month's end (as booked now)."""
    zone = school_settings_get().zone
    lessons = Lesson.objects.filter(
        student_id=enrollment.student_id,
        kind=Lesson.Kind.REGULAR,
        start_at__gte=local_midnight(effective_on, zone),
        start_at__lt=local_midnight(next_month_first(effective_on), zone),
    ).values_list("outcome", flat=True)
    per_lesson = enrollment.tuition_plan.basis == TuitionPlan.Basis.PER_LESSON
    return sum(1 for outcome in lessons if not outcome or (FLAGS[outcome].charged_per_lesson if per_lesson else True))


def _days_left(*, weekday: int, teacher_id: int | None, effective_on: date) -> int:
    end = next_month_first(effective_on) - date.resolution
    term = Term.objects.filter(start_date__lte=end, end_date__gte=effective_on).order_by("start_date").first()
    if term is None:
        return 0
    days = term_lesson_days(term=term, weekday=weekday, teacher_id=teacher_id, from_date=effective_on)
    return sum(1 for day in days if day <= end)


def _plan(plan_id: int | None, default: TuitionPlan | None) -> TuitionPlan | None:
    return TuitionPlan.objects.get(pk=plan_id) if plan_id else default


def change_money_preview(
    *, enrollment: Enrollment, effective_on: date, after: dict, before: dict | None = None
) -> list[MoneyLine]:
    """What the change does to the money of the month of `effective_on`: the lessons left at the old rate given back,
    those at the new rate charged, the month's discounts on the difference, and the net. Reads only.

    `before` is the weekly lesson as it was (weekday, teacher, plan): given once the change is made, when the
    enrollment and its lessons already say the new; without it (a preview) the enrollment as it stands is the old."""
    plan_before = _plan((before or {}).get("tuition_plan_id"), enrollment.tuition_plan)
    plan_after = _plan(after.get("tuition_plan_id"), enrollment.tuition_plan)
    if plan_before is None or plan_after is None:
        return []
    if before and before.get("weekday") is not None:
        teacher_id = before.get("teacher_id")
        old_count = _days_left(weekday=before["weekday"], teacher_id=teacher_id, effective_on=effective_on)
    else:
        old_count = _lessons_left(enrollment=enrollment, effective_on=effective_on)
    old_rate = lesson_price_cents(enrollment=Enrollment(tuition_plan=plan_before))
    new_rate = lesson_price_cents(enrollment=Enrollment(tuition_plan=plan_after))
    new_count = (
        _days_left(weekday=after["weekday"], teacher_id=after.get("teacher_id"), effective_on=effective_on)
        if after.get("weekday") is not None
        else old_count
    )
    currency = plan_after.currency
    lines = [
        MoneyLine(
            LineKind.ADJUSTMENT,
            f"Rest of {effective_on:%B}: {old_count} lessons × {format_cents(old_rate, currency)} given back",
            -old_count * old_rate,
            lessons=old_count,
            rate_cents=old_rate,
        ),
        MoneyLine(
            LineKind.ADJUSTMENT,
            f"Rest of {effective_on:%B}: {new_count} lessons × {format_cents(new_rate, currency)}",
            new_count * new_rate,
            lessons=new_count,
            rate_cents=new_rate,
        ),
    ]
    net = lines_total(lines)
    this_month = month_bill(family=enrollment.student.family_id, month=effective_on).of(enrollment.pk)
    if net > 0 and this_month is not None:
        discounted = discounted_cents(base_cents=net, coupons=this_month.coupons)
        if discounted != net:
            lines.append(MoneyLine(LineKind.ADJUSTMENT, "The month's discounts on the difference", discounted - net))
    return lines


CHARGE_SEND_TASK = "billing.tasks.tuition_charge_send"


def change_key(*, effective_on: date, after: dict) -> str:
    digest = hashlib.sha256(json.dumps(after, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"change:{effective_on:%Y-%m-%d}:{digest}"


def change_money_apply(*, enrollment: Enrollment, effective_on: date, after: dict, before: dict | None = None) -> None:
    """The change's adjustment for the rest of its month as one invoice item on the family's next invoice, once per
    enrollment and change, and the family's subscription items brought to the new plan and discounts from the next
    invoice; both sent to Stripe after the change commits (`enrollment_changed` is sent inside it)."""
    subscription = (
        TuitionSubscription.objects.filter(enrollment=enrollment).exclude(stripe_subscription_id=None).first()
    )
    if subscription is None:
        return
    family_items_sync_enqueue(family_id=subscription.family_id)
    lines = change_money_preview(enrollment=enrollment, effective_on=effective_on, after=after, before=before)
    net = lines_total(lines)
    if not net:
        return
    charge = charge_record(
        subscription=subscription,
        month=month_first(effective_on),
        kind=TuitionCharge.Kind.CHANGE,
        change_key=change_key(effective_on=effective_on, after=after),
        base_cents=net,
        lessons=0,
        coupons=[],
        description=f"{enrollment.student.first_name}: change from {effective_on:%B %-d}",
    )
    # Stripe is called by the worker, never in the owner's request: a Stripe that is away fails a retried task,
    # not the change, which has committed.
    task_enqueue_with_commit(CHARGE_SEND_TASK, charge.pk)
