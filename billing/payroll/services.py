"""Payroll's writes: pay periods made as needed and closed (their lines frozen), and teachers' pay rates. Every
owner's action leaves an audit event."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from billing.payroll.errors import LessonsUnmarked, PayPeriodNotClosable, PayRateInUse, PayRateTaken
from billing.payroll.models import PayLine, PayPeriod, PayRate
from billing.payroll.periods import period_bounds
from billing.payroll.rules import rate_amount_cents, rate_in_force
from billing.payroll.selectors import pay_lines_compute, pay_period_unmarked
from cedarheights.errors import InvalidInput
from cedarheights.model_validation import model_validate
from cedarheights.models import AuditEvent
from cedarheights.selectors import school_settings_get, school_today
from cedarheights.services import audit_record
from scheduling.models import Lesson, Teacher

# Two requests making the same periods at once would collide on the periods' constraints: one waits instead.
PERIODS_LOCK = 17_002


def _periods_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PERIODS_LOCK])


@transaction.atomic
def pay_periods_generate(*, through: date | None = None) -> list[PayPeriod]:
    """Make the pay periods that are missing, from the day of the school's first lesson to `through` (today), in
    the school's `pay_period` kind; the periods made. A period follows the last one made, so a change of kind starts
    with a shorter period rather than overlapping; a lesson booked before the first period gets periods too."""
    _periods_lock()
    through = through or school_today()
    zone = school_settings_get().zone
    first_lesson = Lesson.objects.order_by("start_at").values_list("start_at", flat=True).first()
    if first_lesson is None:
        return []
    lesson_day = timezone.localtime(first_lesson, zone).date()
    first_day, _ = period_bounds(day=lesson_day, kind=school_settings_get().pay_period)
    earliest = PayPeriod.objects.order_by("start").first()
    latest = PayPeriod.objects.order_by("-start").first()
    made = []
    if earliest is not None and lesson_day < earliest.start:
        made += _periods_make(start=first_day, through=earliest.start - timedelta(days=1), clip=True)
    start = latest.end + timedelta(days=1) if latest is not None else first_day
    made += _periods_make(start=start, through=through)
    return made


def _periods_make(*, start: date, through: date, clip: bool = False) -> list[PayPeriod]:
    """Periods from `start` until one holds `through` (with `clip`, the last ends on `through`)."""
    kind = school_settings_get().pay_period
    made = []
    while start <= through:
        _, end = period_bounds(day=start, kind=kind)
        if clip:
            end = min(end, through)
        made.append(PayPeriod.objects.create(start=start, end=end))
        start = end + timedelta(days=1)
    return made


@transaction.atomic
def pay_period_close(*, actor, period: PayPeriod) -> PayPeriod:
    """Close a period that has ended: its lines (and the adjustments of closed periods' lessons changed since) are
    stored, and from then on never change. Refused while one of its lessons has no outcome (listed), while an
    earlier period is open, or while a paid lesson has no pay rate in force (listed). Closing it again changes
    nothing."""
    period = PayPeriod.objects.select_for_update().get(pk=period.pk)
    if period.is_closed:
        return period
    if period.end >= school_today():
        raise PayPeriodNotClosable(f"{period} has not ended: close it from {period.end + timedelta(days=1):%-d %b}.")
    earlier = PayPeriod.objects.filter(status=PayPeriod.Status.OPEN, start__lt=period.start).order_by("start").first()
    if earlier is not None:
        raise PayPeriodNotClosable(f"Close the earlier {str(earlier).lower()} first: periods close in order.")
    if unmarked := pay_period_unmarked(period=period):
        raise LessonsUnmarked(
            f"{len(unmarked)} lesson(s) of this period have no outcome yet: mark them, then close the period.",
            lessons=unmarked,
        )
    lines = pay_lines_compute(period=period, lock=True)
    if missing := [line for line in lines if line.rate_missing]:
        raise PayPeriodNotClosable(
            f"{len(missing)} paid lesson(s) have no pay rate in force for their teacher: add the rates, then close.",
            lessons=[line.lesson for line in missing],
        )
    PayLine.objects.bulk_create(lines)
    # After the lessons were read under lock: a change committed later is stamped later, an adjustment next time.
    period.status, period.closed_at, period.closed_by = PayPeriod.Status.CLOSED, timezone.now(), actor
    period.save(update_fields=["status", "closed_at", "closed_by"])
    total = sum(line.amount_cents for line in lines)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=period,
        changes={"status": ["open", "closed"], "lines": ["", str(len(lines))], "total_cents": ["", str(total)]},
    )
    return period


RATE_FIELDS = ("teacher", "kind", "lesson_minutes", "amount_cents", "currency", "effective_from")


def _rate_save(rate: PayRate) -> PayRate:
    """Checked as the table checks it (a form's or a serializer's error, never a 500), then stored."""
    try:
        model_validate(rate)
    except ValidationError as error:
        raise InvalidInput("The pay rate is not valid.", fields=error.message_dict) from error
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError as error:
        raise PayRateTaken("This teacher already has such a rate from that day.") from error
    return rate


@transaction.atomic
def pay_rate_create(
    *,
    actor,
    teacher: Teacher,
    kind: str,
    amount_cents: int,
    effective_from: date,
    lesson_minutes: int | None = None,
    currency: str = "",
) -> PayRate:
    rate = _rate_save(
        PayRate(
            teacher=teacher,
            kind=kind,
            lesson_minutes=lesson_minutes,
            amount_cents=amount_cents,
            effective_from=effective_from,
            **({"currency": currency} if currency else {}),
        )
    )
    audit_record(actor=actor, action=AuditEvent.Action.CREATE, obj=rate, changes={"rate": ["", rate.describe()]})
    return rate


def _closed_pay_kept(*, teacher_ids: set[int], before: list[PayRate], after: list[PayRate]) -> None:
    """Refuse a change of rates (`before` → `after`, the teachers' rates) that would pay a lesson of a closed period
    differently: the next adjustment would pay the difference for days already paid (a lesson is re-priced when it
    is touched after close). Only the closed periods' paid days and lengths are read."""
    paid_days = (
        PayLine.objects.filter(teacher_id__in=teacher_ids, paid=True, period__status=PayPeriod.Status.CLOSED)
        .values_list("teacher_id", "date", "minutes")
        .distinct()
    )

    def pays(rates: list[PayRate], teacher_id: int, day: date, minutes: int):
        rate = rate_in_force([r for r in rates if r.teacher_id == teacher_id], minutes=minutes, day=day)
        return None if rate is None else (rate_amount_cents(rate, minutes), rate.currency)

    for teacher_id, day, minutes in paid_days:
        if pays(before, teacher_id, day, minutes) != pays(after, teacher_id, day, minutes):
            raise PayRateInUse(
                f"This rate paid lessons of a closed pay period (e.g. {day:%-d %b %Y}): it stays as it is. "
                "To pay a new amount, add a rate from a later day."
            )


@transaction.atomic
def pay_rate_update(*, actor, pay_rate: PayRate, **fields) -> PayRate:
    """Change a rate, unless that would change what a closed period's lesson is worth (a rate that paid one keeps
    its amount, kind, length and first day: a new rate from a later day changes the pay instead); refused with
    `PayRateInUse`."""
    rate = PayRate.objects.select_for_update().get(pk=pay_rate.pk)
    before = str(rate)
    teacher_ids = {rate.teacher_id}
    for name, value in fields.items():
        if name not in RATE_FIELDS:
            raise InvalidInput(f"{name} is not a field of a pay rate.", fields={name: ["Unknown field."]})
        setattr(rate, name, value)
    teacher_ids.add(rate.teacher_id)
    stored = list(PayRate.objects.filter(teacher_id__in=teacher_ids))
    _closed_pay_kept(teacher_ids=teacher_ids, before=stored, after=[rate if r.pk == rate.pk else r for r in stored])
    rate = _rate_save(rate)
    audit_record(actor=actor, action=AuditEvent.Action.UPDATE, obj=rate, changes={"rate": [before, str(rate)]})
    return rate


@transaction.atomic
def pay_rate_delete(*, actor, pay_rate: PayRate) -> None:
    """Delete a rate no closed period's lesson was paid by (else `PayRateInUse`: it stays)."""
    rate = PayRate.objects.select_for_update().get(pk=pay_rate.pk)
    stored = list(PayRate.objects.filter(teacher_id=rate.teacher_id))
    _closed_pay_kept(teacher_ids={rate.teacher_id}, before=stored, after=[r for r in stored if r.pk != rate.pk])
    audit_record(actor=actor, action=AuditEvent.Action.DELETE, obj=rate, changes={"rate": [str(rate), ""]})
    rate.delete()
