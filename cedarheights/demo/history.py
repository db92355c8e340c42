"""A year of the demo school's past, so every chart of the owner's dashboard has something to show on a fresh
`make run`: families who enrolled month by month over the last twelve months, some who withdrew, demos that
converted and some that did not, monthly tuition payments with a few refunds and failures (two still retrying, two
given up on), children who waited on the waitlist and two still waiting.

The families and children are made through accounts' and scheduling's services (audited, as the present's are);
what happened to them since, the past itself, is written through the models in the seed's one transaction, in
bulk: enrollments with their activation and withdrawal dates, the lessons given (all marked, as a school's past
is), subscriptions, payments, ledger lines and failures. Nothing calls Stripe (ids are plainly fake demo ids). It
runs once: a school whose first history family exists already has its past."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, OuterRef, Subquery, Value, When
from django.utils import timezone

from accounts.models import Family
from accounts.services import family_create
from billing.models import LedgerEntry, Payment, PaymentFailure, TuitionSubscription
from cedarheights.periods import local_midnight, month_after, month_first
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment, PreferredWindow, TuitionPlan
from scheduling.models import Closure, Lesson, Student, Teacher, WeeklyAvailability, WeeklyLesson
from scheduling.outcomes import Outcome
from scheduling.services import student_create, student_teacher_assign

HISTORY_NAMESPACE = uuid.UUID("6f1d3c52-2b7e-4a55-9a51-0c0ffee0d1a7")
LESSON = timedelta(minutes=30)
PIANO_PLAN, STRINGS_PLAN = "Piano 30 min, monthly", "Guitar or bass 30 min, monthly"
# The teachers' own instruments, in the order the children below are shared among them.
TEACHERS = (
    ("amelia.hart@cedarheights.test", "Piano", PIANO_PLAN),
    ("marco.bellini@cedarheights.test", "Guitar", STRINGS_PLAN),
    ("priya.raman@cedarheights.test", "Piano", PIANO_PLAN),
    ("dev.okafor@cedarheights.test", "Bass", STRINGS_PLAN),
)


@dataclass(frozen=True)
class PastChild:
    surname: str
    first_name: str
    months_ago: int  # enrolled in the month this many months before today's
    stayed_months: int | None = None  # withdrew after this many months; None: still here
    waited_days: int = 0  # waited this long on the waitlist before a teacher was found
    demo_only: bool = False  # came to the demo lesson, did not enroll
    waiting_days: int | None = None  # still on the waitlist, since this many days


CHILDREN = (
    PastChild("Adeyemi", "Tolu", 14),
    PastChild("Brennan", "Cian", 13, stayed_months=9),
    PastChild("Yilmaz", "Deniz", 13),
    PastChild("Abernathy", "Iris", 11, stayed_months=5),
    PastChild("Baptiste", "Noah", 11),
    PastChild("Castellanos", "Mia", 10, stayed_months=7),
    PastChild("Dubois", "Theo", 10),
    PastChild("Eriksen", "Freya", 9, stayed_months=3),
    PastChild("Fitzgerald", "Owen", 9),
    PastChild("Gallagher", "Nora", 8, demo_only=True),
    PastChild("Hosseini", "Sami", 8, stayed_months=6),
    PastChild("Ishikawa", "Yui", 7),
    PastChild("Jablonski", "Kuba", 7, stayed_months=3),
    PastChild("Kowalczyk", "Zofia", 6, waited_days=41),
    PastChild("Lindqvist", "Elsa", 6, stayed_months=4),
    PastChild("Moreau", "Jules", 5, demo_only=True),
    PastChild("Nakamura", "Ren", 5),
    PastChild("Osei", "Ama", 4, waited_days=26),
    PastChild("Petrov", "Mila", 4, stayed_months=2),
    PastChild("Quinn", "Rory", 3),
    PastChild("Rahman", "Zara", 2, stayed_months=1),
    PastChild("Santos", "Lucas", 2, demo_only=True),
    PastChild("Thibault", "Chloe", 2),
    PastChild("Umeh", "Tobi", 1, waited_days=15),
    PastChild("Varga", "Lili", 1),
    PastChild("Wojcik", "Adam", 0, waiting_days=33),
    PastChild("Xu", "Wen", 0, waiting_days=12),
)
HISTORY_FAMILY_NAMES = tuple(f"{child.surname} family" for child in CHILDREN)
# Charges that failed: (child, months before today's month it was charged in, still retrying?). Two recent ones
# Stripe is retrying; two older ones given up on, whose families then left.
FAILURES = {("Thibault", 0): True, ("Varga", 0): True, ("Rahman", 1): False, ("Petrov", 3): False}
REFUND_EVERY = 9  # every ninth payment had a lesson's quarter refunded


def school_history_seed(*, today: date) -> None:
    if Family.objects.filter(name=HISTORY_FAMILY_NAMES[0]).exists():
        return
    zone = school_settings_get().zone
    now = timezone.now()
    teachers = {t.user.email: t for t in Teacher.objects.filter(user__email__in=[e for e, _, _ in TEACHERS])}
    plans = {p.name: p for p in TuitionPlan.objects.filter(name__in=[PIANO_PLAN, STRINGS_PLAN])}
    instruments = {i.name: i for t in teachers.values() for i in t.instruments.all()}
    calendar = _Calendar.load(teachers=list(teachers.values()), today=today, zone=zone)
    enrollments, lessons, demos = [], [], {}
    for n, child in enumerate(CHILDREN):
        email, instrument_name, plan_name = TEACHERS[n % len(TEACHERS)]
        teacher = None if child.waiting_days is not None else teachers[email]
        family = family_create(actor=None, name=f"{child.surname} family", city="Toronto", province="ON")
        student = student_create(
            actor=None,
            family=family,
            first_name=child.first_name,
            last_name=child.surname,
            date_of_birth=date(today.year - 9 - n % 6, 1 + n % 12, 1 + n % 27),
            instrument=instruments[instrument_name],
        )
        enrollment = Enrollment(
            student=student,
            instrument=instruments[instrument_name],
            lesson_minutes=30,
            tuition_plan=plans[plan_name],
            idempotency_key=uuid.uuid5(HISTORY_NAMESPACE, child.surname),
            source=Enrollment.Source.WEB if child.waited_days or child.waiting_days else Enrollment.Source.ADMIN,
        )
        if teacher is None:
            enrollment.status = Enrollment.Status.WAITLISTED
            enrollment.created_at = now - timedelta(days=child.waiting_days)
            enrollments.append(enrollment)
            continue
        student_teacher_assign(actor=None, student=student, teacher=teacher)
        weekday, start = calendar.slot_for(teacher)
        month = month_first(today)
        for _ in range(child.months_ago):
            month = month_first(month - timedelta(days=1))
        activated_on = min(month + timedelta(days=(3 * n) % 20), today - timedelta(days=3))
        demo_on = activated_on + timedelta(days=(weekday - activated_on.weekday()) % 7)
        demo = calendar.lesson(teacher, student, demo_on, start, kind=Lesson.Kind.DEMO)
        if demo is not None:
            lessons.append(demo)
            demos[child.surname] = demo
        enrollment.activated_at = datetime.combine(activated_on, time(10), tzinfo=zone)
        enrollment.created_at = enrollment.activated_at - timedelta(days=child.waited_days)
        if child.demo_only:
            enrollment.status, enrollment.ends_on = Enrollment.Status.CANCELLED, demo_on
        elif child.stayed_months is not None:
            ends_on = min(
                month_after(_months_later(month, child.stayed_months)) - timedelta(days=1), today - timedelta(days=1)
            )
            enrollment.status, enrollment.ends_on = Enrollment.Status.CANCELLED, ends_on
            enrollment.withdrawal_given_on = ends_on - timedelta(days=30)
        else:
            enrollment.status = Enrollment.Status.ACTIVE
        enrollments.append(enrollment)
        if not child.demo_only:
            last = enrollment.ends_on or today - timedelta(days=1)
            day = demo_on + timedelta(days=7)
            while day <= last:
                if lesson := calendar.lesson(teacher, student, day, start, kind=Lesson.Kind.REGULAR):
                    lessons.append(lesson)
                day += timedelta(days=7)
    Lesson.objects.bulk_create(lessons)
    for enrollment in enrollments:
        enrollment.demo_lesson = demos.get(enrollment.student.last_name)
    # `created_at` is set on insert whatever it held (on the instance too): the past's are written after.
    submitted = [e.created_at for e in enrollments]
    Enrollment.objects.bulk_create(enrollments)
    Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(
        created_at=Case(*[When(pk=e.pk, then=Value(at)) for e, at in zip(enrollments, submitted, strict=True)])
    )
    Student.objects.filter(enrollments__in=[e for e in enrollments if e.status == Enrollment.Status.CANCELLED]).update(
        status=Student.Status.WITHDRAWN
    )
    PreferredWindow.objects.bulk_create(
        PreferredWindow(enrollment=e, weekday=5, start_time=time(9), end_time=time(12))
        for e in enrollments
        if e.status == Enrollment.Status.WAITLISTED
    )
    demo_only = {child.surname for child in CHILDREN if child.demo_only}
    billed = [e for e in enrollments if e.activated_at and e.student.last_name not in demo_only]
    _billing(enrollments=billed, today=today, zone=zone)


def _months_later(month: date, count: int) -> date:
    for _ in range(count):
        month = month_after(month)
    return month


class _Calendar:
    """Where the past's lessons may go: each history child a free weekly time of their teacher, each week's lesson
    only on a day the school was open and when the teacher had no other lesson (the present's are already booked)."""

    def __init__(self, *, hours, taken, closed, zone):
        self.hours, self.taken, self.closed, self.zone = hours, taken, closed, zone
        self.given: dict[int, int] = {}

    @classmethod
    def load(cls, *, teachers: list[Teacher], today: date, zone) -> "_Calendar":
        hours = {t.pk: [] for t in teachers}
        standing = set(WeeklyLesson.objects.filter(ended_on=None).values_list("teacher_id", "weekday", "start_time"))
        for teacher_id, weekday, start, end in WeeklyAvailability.objects.filter(teacher__in=teachers).values_list(
            "teacher_id", "weekday", "start_time", "end_time"
        ):
            moment = datetime.combine(today, start)
            while (moment + LESSON).time() <= end and moment.date() == today:
                if (teacher_id, weekday, moment.time()) not in standing:
                    hours[teacher_id].append((weekday, moment.time()))
                moment += LESSON
        since = local_midnight(today - timedelta(days=400), zone)
        taken: dict[int, list[tuple[datetime, datetime]]] = {t.pk: [] for t in teachers}
        for teacher_id, start_at, end_at in (
            Lesson.objects.filter(teacher__in=teachers, start_at__gte=since)
            .exclude(status=Lesson.Status.CANCELLED)
            .values_list("teacher_id", "start_at", "end_at")
        ):
            taken[teacher_id].append((start_at, end_at))
        closed = set()
        for first, last in Closure.objects.filter(teacher=None).values_list("start_date", "end_date"):
            closed.update(first + timedelta(days=d) for d in range((last - first).days + 1))
        return cls(hours=hours, taken=taken, closed=closed, zone=zone)

    def slot_for(self, teacher: Teacher) -> tuple[int, time]:
        slots = sorted(self.hours[teacher.pk], key=lambda slot: (slot[1], slot[0]))
        position = self.given.get(teacher.pk, 0)
        self.given[teacher.pk] = position + 1
        return slots[(position * 5) % len(slots)]

    def lesson(self, teacher: Teacher, student: Student, day: date, start: time, *, kind: str) -> Lesson | None:
        start_at = datetime.combine(day, start, tzinfo=self.zone)
        end_at = start_at + LESSON
        if day in self.closed or any(s < end_at and start_at < e for s, e in self.taken[teacher.pk]):
            return None
        self.taken[teacher.pk].append((start_at, end_at))
        return Lesson(
            teacher=teacher,
            student=student,
            kind=kind,
            start_at=start_at,
            end_at=end_at,
            status=Lesson.Status.COMPLETED,
            outcome=Outcome.ATTENDED,
            outcome_set_at=end_at,
            payment_status=Lesson.PaymentStatus.WAIVED if kind == Lesson.Kind.DEMO else Lesson.PaymentStatus.INCLUDED,
        )


def _billing(*, enrollments: list[Enrollment], today: date, zone) -> None:
    """A subscription per enrolled child and a charge on the 1st of each month enrolled (the first month on the day
    they started), with its ledger lines; every REFUND_EVERY-th paid month partly refunded, FAILURES declined."""
    subscriptions = TuitionSubscription.objects.bulk_create(
        TuitionSubscription(
            family_id=e.student.family_id,
            enrollment=e,
            tuition_plan=e.tuition_plan,
            starts_at=e.activated_at,
            stripe_subscription_id=f"sub_demo_history_{e.student.last_name.lower()}",
            status=TuitionSubscription.Status.CANCELED
            if e.ends_on
            else TuitionSubscription.Status.PAST_DUE
            if (e.student.last_name, 0) in FAILURES
            else TuitionSubscription.Status.ACTIVE,
        )
        for e in enrollments
    )
    this_month = month_first(today)
    payments, failures, charged = [], [], {}
    for enrollment, subscription in zip(enrollments, subscriptions, strict=True):
        month, started = month_first(enrollment.activated_at.date()), enrollment.activated_at
        last = enrollment.ends_on or today
        while month <= last:
            charged_at = started if month == month_first(started.date()) else local_midnight(month, zone)
            back = (this_month.year - month.year) * 12 + this_month.month - month.month
            key = f"{enrollment.student.last_name.lower()}_{month:%Y_%m}"
            failed = (enrollment.student.last_name, back) in FAILURES
            payment = Payment(
                family_id=enrollment.student.family_id,
                amount_cents=enrollment.tuition_plan.price_cents,
                status=Payment.Status.FAILED if failed else Payment.Status.SUCCEEDED,
                failure_reason="Your card was declined." if failed else "",
                description=f"{enrollment.tuition_plan.name}: {enrollment.student.first_name}, {month:%B %Y}",
                stripe_invoice_id=f"in_demo_history_{key}",
                stripe_payment_intent_id=f"pi_demo_history_{key}",
                paid_at=None if failed else charged_at + timedelta(hours=1),
            )
            if not failed and len(payments) % REFUND_EVERY == REFUND_EVERY - 1:
                payment.amount_refunded_cents = payment.amount_cents // 4
                payment.status = Payment.Status.PARTIALLY_REFUNDED
            payments.append(payment)
            charged[key] = charged_at
            if failed:
                failures.append((payment, subscription, FAILURES[(enrollment.student.last_name, back)]))
            month = month_after(month)
    Payment.objects.bulk_create(payments)
    when = {p.pk: charged[p.stripe_invoice_id.removeprefix("in_demo_history_")] for p in payments}
    Payment.objects.filter(pk__in=when).update(
        created_at=Case(*[When(pk=pk, then=Value(at)) for pk, at in when.items()])
    )
    entries = []
    for payment in payments:
        entries.append(_entry(payment, LedgerEntry.Kind.CHARGE, payment.amount_cents, payment.stripe_invoice_id))
        if payment.paid_at:
            entries.append(
                _entry(payment, LedgerEntry.Kind.PAYMENT, payment.amount_cents, payment.stripe_payment_intent_id)
            )
        if payment.amount_refunded_cents:
            refund = payment.stripe_invoice_id.replace("in_", "re_", 1)
            entries.append(_entry(payment, LedgerEntry.Kind.CREDIT, payment.amount_refunded_cents, f"credit_{refund}"))
            entries.append(_entry(payment, LedgerEntry.Kind.REFUND, payment.amount_refunded_cents, refund))
    LedgerEntry.objects.bulk_create(entries)
    LedgerEntry.objects.filter(payment__in=payments).update(created_at=_payment_created_at())
    PaymentFailure.objects.bulk_create(
        PaymentFailure(
            family_id=payment.family_id,
            payment=payment,
            subscription=subscription,
            reason=payment.failure_reason,
            decline_code="card_declined",
            status=PaymentFailure.Status.OPEN if retrying else PaymentFailure.Status.GAVE_UP,
            attempts=2 if retrying else 4,
            next_retry_at=timezone.now() + timedelta(days=2) if retrying else None,
            resolved_at=None if retrying else when[payment.pk] + timedelta(days=21),
        )
        for payment, subscription, retrying in failures
    )
    PaymentFailure.objects.filter(payment__in=[p for p, _, _ in failures]).update(created_at=_payment_created_at())


def _payment_created_at() -> Subquery:
    """A ledger line's or a failure's time: its payment's charge."""
    return Subquery(Payment.objects.filter(pk=OuterRef("payment_id")).values("created_at")[:1])


def _entry(payment: Payment, kind: str, cents: int, reference: str) -> LedgerEntry:
    return LedgerEntry(
        family_id=payment.family_id,
        kind=kind,
        amount_cents=cents,
        description=f"{kind.title()}: {payment.description}"[:255],
        reference=reference,
        payment=payment,
    )
