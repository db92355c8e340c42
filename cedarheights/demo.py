"""A believable demo school, built through the services; running it again changes nothing.

Its billing is a month as the owner sees it: a family that paid, one refunded for a cancelled lesson, one
whose card was declined (retrying), and a child on the waitlist. It is written through our own billing
services and never calls Stripe (the demo is seeded before the local Stripe server starts): its Stripe ids
are plainly fake (`cus_demo_…`, `sub_demo_…`, `in_demo_…`, `pi_demo_…`), so Stripe has none of them, and
a retry of the demo's declined payment, once due, stops at Stripe's "No such invoice".
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ConsentRecord, Family, User
from accounts.policy import PRIVACY_POLICY_VERSION
from billing.handoffs import billing_handoffs_recover
from billing.models import BillingProfile, Payment, TuitionSubscription
from billing.services.charges import refund_record
from billing.services.dunning import payment_failure_open
from billing.services.ledger import credit_issue, payment_record_succeeded
from cedarheights.emails import UNCONFIRMED_REASON, email_parents
from cedarheights.models import EmailLog
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment, PreferredWindow, TuitionPlan
from scheduling.models import (
    AcademicYear,
    Closure,
    Instrument,
    Lesson,
    Room,
    Student,
    Teacher,
    Term,
    WeeklyAvailability,
)
from scheduling.services import lesson_status_change, term_lessons_generate

ADMIN_EMAIL = "admin@cedarheights.test"
ADMIN_PASSWORD = "cedarheights-admin"
DEMO_PASSWORD = "cedarheights-demo"  # parents and teachers of the demo school
DEMO_NAMESPACE = uuid.UUID("6f1d3c52-2b7e-4a55-9a51-0c0ffee00001")

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

TEACHERS = [
    # email, first, last, instruments, capacity, bio, [(weekday, start, end)]
    (
        "amelia.hart@cedarheights.test",
        "Amelia",
        "Hart",
        ["Piano"],
        25,
        "Royal Conservatory-trained pianist; patient with beginners of every age.",
        [
            (MON, "15:00", "20:00"),
            (TUE, "15:00", "20:00"),
            (WED, "15:00", "20:00"),
            (THU, "15:00", "20:00"),
            (SAT, "09:00", "13:00"),
        ],
    ),
    (
        "marco.bellini@cedarheights.test",
        "Marco",
        "Bellini",
        ["Guitar", "Bass"],
        20,
        "Session guitarist and bassist; rock, jazz and classical guitar.",
        [(TUE, "15:30", "20:30"), (WED, "15:30", "20:30"), (THU, "15:30", "20:30"), (FRI, "15:30", "20:30")],
    ),
    (
        "priya.raman@cedarheights.test",
        "Priya",
        "Raman",
        ["Piano", "Guitar"],
        18,
        "Teaches piano and fingerstyle guitar; loves preparing students for their first recital.",
        [(MON, "16:00", "20:00"), (WED, "16:00", "20:00"), (SAT, "10:00", "15:00")],
    ),
    (
        "dev.okafor@cedarheights.test",
        "Dev",
        "Okafor",
        ["Bass", "Guitar"],
        15,
        "Bassist in a touring funk band; groove, theory and reading.",
        [(THU, "16:00", "21:00"), (FRI, "16:00", "21:00"), (SUN, "11:00", "15:00")],
    ),
]


@dataclass(frozen=True)
class DemoStudent:
    first_name: str
    last_name: str
    date_of_birth: date
    instrument: str
    teacher_email: str
    weekday: int
    start: str
    minutes: int
    plan: str


FAMILIES = [
    # family name, parent (email, first, last, phone), city, students
    (
        "Nguyen family",
        ("linh.nguyen@example.com", "Linh", "Nguyen", "416-555-0101"),
        "Toronto",
        [
            DemoStudent(
                "Ava",
                "Nguyen",
                date(2016, 4, 12),
                "Piano",
                "amelia.hart@cedarheights.test",
                MON,
                "16:00",
                30,
                "Piano 30 min, monthly",
            ),
            DemoStudent(
                "Leo",
                "Nguyen",
                date(2013, 9, 3),
                "Guitar",
                "marco.bellini@cedarheights.test",
                TUE,
                "16:30",
                45,
                "Guitar or bass 45 min, monthly",
            ),
        ],
    ),
    (
        "Tremblay family",
        ("julie.tremblay@example.com", "Julie", "Tremblay", "416-555-0102"),
        "Toronto",
        [
            DemoStudent(
                "Chloé",
                "Tremblay",
                date(2015, 2, 20),
                "Piano",
                "priya.raman@cedarheights.test",
                WED,
                "17:00",
                30,
                "Piano 30 min, monthly",
            ),
        ],
    ),
    (
        "Okonkwo family",
        ("chidi.okonkwo@example.com", "Chidi", "Okonkwo", "647-555-0103"),
        "Mississauga",
        [
            DemoStudent(
                "Ada",
                "Okonkwo",
                date(2011, 11, 30),
                "Bass",
                "dev.okafor@cedarheights.test",
                THU,
                "18:00",
                45,
                "Guitar or bass 45 min, monthly",
            ),
        ],
    ),
    (
        "Singh family",
        ("harpreet.singh@example.com", "Harpreet", "Singh", "905-555-0104"),
        "Brampton",
        [
            DemoStudent(
                "Arjun",
                "Singh",
                date(2017, 6, 15),
                "Guitar",
                "priya.raman@cedarheights.test",
                SAT,
                "10:30",
                30,
                "Guitar or bass 30 min, monthly",
            ),
        ],
    ),
    (
        "MacDonald family",
        ("fiona.macdonald@example.com", "Fiona", "MacDonald", "416-555-0105"),
        "Toronto",
        [
            DemoStudent(
                "Ewan",
                "MacDonald",
                date(2009, 1, 22),
                "Bass",
                "marco.bellini@cedarheights.test",
                FRI,
                "17:00",
                60,
                "Any instrument 60 min, monthly",
            ),
        ],
    ),
    (
        "Rossi family",
        ("giulia.rossi@example.com", "Giulia", "Rossi", "647-555-0106"),
        "Toronto",
        [
            DemoStudent(
                "Sofia",
                "Rossi",
                date(2018, 3, 8),
                "Piano",
                "amelia.hart@cedarheights.test",
                SAT,
                "09:30",
                30,
                "Any instrument 30 min, weekly",
            ),
        ],
    ),
    (
        "Chen household",
        ("wei.chen@example.com", "Wei", "Chen", "416-555-0107"),
        "Toronto",
        [
            DemoStudent(
                "Wei",
                "Chen",
                date(1984, 7, 19),
                "Piano",
                "amelia.hart@cedarheights.test",
                WED,
                "19:00",
                60,
                "Any instrument 60 min, monthly",
            ),
        ],
    ),
]


@dataclass(frozen=True)
class DemoBilling:
    """One family's month of tuition: its card, its subscriptions' state, and how the month's charge went."""

    family: str
    card_last4: str
    subscription_status: str
    outcome: str  # "paid", "refunded" (paid, then part refunded) or "declined"


BILLING = [
    DemoBilling("Nguyen family", "4242", TuitionSubscription.Status.ACTIVE, "paid"),
    DemoBilling("Tremblay family", "4444", TuitionSubscription.Status.ACTIVE, "refunded"),
    DemoBilling("Okonkwo family", "0341", TuitionSubscription.Status.PAST_DUE, "declined"),
]

# A child no teacher can take yet: piano on Sunday mornings, when no piano teacher works.
WAITLISTED = DemoStudent("Meera", "Singh", date(2019, 10, 2), "Piano", "", SUN, "09:00", 30, "Piano 30 min, monthly")
WAITLISTED_FAMILY = "Singh family"

PLANS = [
    # name, instrument, minutes, interval, price in cents
    ("Piano 30 min, monthly", "Piano", 30, TuitionPlan.Interval.MONTH, 14000),
    ("Piano 45 min, monthly", "Piano", 45, TuitionPlan.Interval.MONTH, 19500),
    ("Guitar or bass 30 min, monthly", None, 30, TuitionPlan.Interval.MONTH, 13000),
    ("Guitar or bass 45 min, monthly", None, 45, TuitionPlan.Interval.MONTH, 18500),
    ("Any instrument 60 min, monthly", None, 60, TuitionPlan.Interval.MONTH, 25000),
    ("Any instrument 30 min, weekly", None, 30, TuitionPlan.Interval.WEEK, 3500),
]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _hhmm(text: str) -> time:
    return time.fromisoformat(text)


def _school_year(today: date) -> tuple[int, int]:
    first = today.year if today.month >= 9 else today.year - 1
    return first, first + 1


def _calendar(today: date) -> list[Term]:
    """The academic year around `today`: four terms that cover it whole, with Ontario's usual closures."""
    first, second = _school_year(today)
    year, _ = AcademicYear.objects.update_or_create(
        name=f"{first}–{second}", defaults={"start_date": date(first, 9, 1), "end_date": date(second, 8, 31)}
    )
    terms = []
    for name, start, end in [
        ("Fall", date(first, 9, 1), date(first, 12, 31)),
        ("Winter", date(second, 1, 1), date(second, 3, 31)),
        ("Spring", date(second, 4, 1), date(second, 6, 30)),
        ("Summer", date(second, 7, 1), date(second, 8, 31)),
    ]:
        term, _ = Term.objects.update_or_create(
            academic_year=year, name=name, defaults={"start_date": start, "end_date": end}
        )
        terms.append(term)
    fall, winter, spring, summer = terms
    march_break = _nth_weekday(second, 3, MON, 2)
    for reason, start, end, term in [
        ("Labour Day", _nth_weekday(first, 9, MON, 1), _nth_weekday(first, 9, MON, 1), fall),
        ("Thanksgiving", _nth_weekday(first, 10, MON, 2), _nth_weekday(first, 10, MON, 2), fall),
        ("Winter break", date(first, 12, 21), date(first, 12, 31), fall),
        ("Winter break", date(second, 1, 1), date(second, 1, 3), winter),
        ("Family Day", _nth_weekday(second, 2, MON, 3), _nth_weekday(second, 2, MON, 3), winter),
        ("March Break", march_break, march_break + timedelta(days=6), winter),
        ("Victoria Day", date(second, 5, 25) - timedelta(days=(date(second, 5, 25).weekday() or 7)), None, spring),
        ("Canada Day", date(second, 7, 1), date(second, 7, 1), summer),
        ("Civic Holiday", _nth_weekday(second, 8, MON, 1), _nth_weekday(second, 8, MON, 1), summer),
    ]:
        Closure.objects.update_or_create(
            reason=reason, start_date=start, teacher=None, defaults={"end_date": end or start, "term": term}
        )
    return terms


def _user(email: str, first: str, last: str, *, role: str, password: str, phone: str = "", family=None) -> User:
    user, created = User.objects.update_or_create(
        email=email, defaults={"first_name": first, "last_name": last, "role": role, "phone": phone, "family": family}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def demo_school_seed(*, today: date | None = None) -> dict[str, int]:
    """The demo school, in one transaction; then the sweeper starts the billing whose hand-off the demo lost (each
    restart is its own durable transaction, so it runs after the school's rows commit)."""
    counts = _demo_school_build(today=today or timezone.localdate())
    billing_handoffs_recover()
    return counts


@transaction.atomic
def _demo_school_build(*, today: date) -> dict[str, int]:
    admin, created = User.objects.update_or_create(
        email=ADMIN_EMAIL,
        defaults={
            "first_name": "Amira",
            "last_name": "Haddad",
            "role": User.Role.ADMIN,
            "is_staff": True,
            "is_superuser": True,
        },
    )
    if created:
        admin.set_password(ADMIN_PASSWORD)
        admin.save(update_fields=["password"])

    instruments = {name: Instrument.objects.get_or_create(name=name)[0] for name in ("Piano", "Guitar", "Bass")}
    for name in ("Studio A", "Studio B", "Studio C"):
        Room.objects.get_or_create(name=name)
    plans = {}
    for name, instrument, minutes, interval, price in PLANS:
        plans[name], _ = TuitionPlan.objects.update_or_create(
            name=name,
            defaults={
                "instrument": instruments.get(instrument),
                "lesson_minutes": minutes,
                "interval": interval,
                "price_cents": price,
            },
        )

    teachers = {}
    for email, first, last, teaches, capacity, bio, windows in TEACHERS:
        user = _user(email, first, last, role=User.Role.TEACHER, password=DEMO_PASSWORD)
        teacher, _ = Teacher.objects.update_or_create(
            user=user, defaults={"capacity": capacity, "bio": bio, "active": True}
        )
        teacher.instruments.set([instruments[name] for name in teaches])
        for weekday, start, end in windows:
            WeeklyAvailability.objects.update_or_create(
                teacher=teacher, weekday=weekday, start_time=_hhmm(start), defaults={"end_time": _hhmm(end)}
            )
        teachers[email] = teacher

    terms = _calendar(today)
    current = next(term for term in terms if term.start_date <= today <= term.end_date)
    zone = school_settings_get().zone
    given_at = datetime(current.start_date.year, 8, 20, 12, 0, tzinfo=zone)
    for family_name, (email, first, last, phone), city, children in FAMILIES:
        family, _ = Family.objects.update_or_create(
            name=family_name,
            defaults={
                "city": city,
                "province": "ON",
                "emergency_contact_name": f"{first}'s sibling",
                "emergency_contact_phone": phone,
            },
        )
        parent = _user(email, first, last, role=User.Role.PARENT, password=DEMO_PASSWORD, phone=phone, family=family)
        ConsentRecord.objects.update_or_create(
            family=family,
            purpose=ConsentRecord.Purpose.PRIVACY_POLICY,
            policy_version=PRIVACY_POLICY_VERSION,
            defaults={"given_by": parent, "given_at": given_at},
        )
        for child in children:
            _demo_student(family, child, instruments, teachers, plans, current, today)

    _demo_enrollment(  # no teacher, no lessons: on the waitlist
        Family.objects.get(name=WAITLISTED_FAMILY),
        WAITLISTED,
        instruments,
        plans,
        teacher=None,
        status=Enrollment.Status.WAITLISTED,
        source=Enrollment.Source.WEB,
    )
    for billing in BILLING:
        _demo_billing(Family.objects.get(name=billing.family), billing, today)
    _demo_worker_died_mid_work()
    return {
        "teachers": Teacher.objects.count(),
        "families": Family.objects.count(),
        "students": Student.objects.count(),
        "lessons": Lesson.objects.count(),
        "tuition_plans": TuitionPlan.objects.count(),
    }


def _demo_enrollment(family, child: DemoStudent, instruments, plans, *, teacher, status: str, source: str):
    """The child, their enrollment and the weekly time they asked for."""
    student, _ = Student.objects.update_or_create(
        family=family,
        first_name=child.first_name,
        last_name=child.last_name,
        defaults={
            "date_of_birth": child.date_of_birth,
            "instrument": instruments[child.instrument],
            "teacher": teacher,
            "status": Student.Status.ACTIVE if teacher else Student.Status.PROSPECTIVE,
        },
    )
    enrollment, _ = Enrollment.objects.update_or_create(
        idempotency_key=uuid.uuid5(DEMO_NAMESPACE, f"{family.name}/{child.first_name}"),
        defaults={
            "student": student,
            "instrument": instruments[child.instrument],
            "lesson_minutes": child.minutes,
            "tuition_plan": plans[child.plan],
            "status": status,
            "source": source,
        },
    )
    start = _hhmm(child.start)
    end = (datetime.combine(date.min, start) + timedelta(minutes=child.minutes)).time()
    PreferredWindow.objects.update_or_create(
        enrollment=enrollment, weekday=child.weekday, start_time=start, defaults={"end_time": end}
    )
    return enrollment


def _demo_student(family, child: DemoStudent, instruments, teachers, plans, term: Term, today: date) -> None:
    teacher = teachers[child.teacher_email]
    student = _demo_enrollment(
        family,
        child,
        instruments,
        plans,
        teacher=teacher,
        status=Enrollment.Status.ACTIVE,
        source=Enrollment.Source.ADMIN,
    ).student
    start = _hhmm(child.start)
    # A few weeks of lessons: from four weeks ago to the end of the current term.
    term_lessons_generate(
        student=student,
        teacher=teacher,
        term=term,
        weekday=child.weekday,
        start_time=start,
        minutes=child.minutes,
        from_date=max(term.start_date, today - timedelta(weeks=4)),
    )
    for lesson in Lesson.objects.filter(student=student, status=Lesson.Status.SCHEDULED, end_at__lt=timezone.now()):
        lesson_status_change(lesson=lesson, status=Lesson.Status.COMPLETED, actor=None)


def _demo_billing(family, billing: DemoBilling, today: date) -> None:
    """The family's card, a subscription per enrollment, and this month's charge of each, paid or declined."""
    zone = school_settings_get().zone
    slug = family.name.split()[0].lower()
    month = today.replace(day=1)
    charged_at = datetime.combine(month, time.min, tzinfo=zone)  # Stripe invoices on the 1st
    BillingProfile.objects.update_or_create(
        family=family,
        defaults={
            "stripe_customer_id": f"cus_demo_{slug}",
            "default_payment_method_id": f"pm_demo_{slug}",
            "card_brand": "visa",
            "card_last4": billing.card_last4,
            "card_exp_month": 12,
            "card_exp_year": today.year + 3,
        },
    )
    enrollments = Enrollment.objects.filter(student__family=family, status=Enrollment.Status.ACTIVE)
    for enrollment in enrollments.select_related("student", "tuition_plan").order_by("pk"):
        key = f"{slug}_{enrollment.student.first_name.lower()}"
        plan = enrollment.tuition_plan
        subscription, _ = TuitionSubscription.objects.update_or_create(
            enrollment=enrollment,
            defaults={
                "family": family,
                "tuition_plan": plan,
                "status": billing.subscription_status,
                "stripe_subscription_id": f"sub_demo_{key}",
                "starts_at": Lesson.objects.filter(student=enrollment.student).order_by("start_at").first().start_at,
                "current_period_end": datetime.combine((month + timedelta(days=32)).replace(day=1), time.min, zone),
            },
        )
        payment, _ = Payment.objects.get_or_create(
            stripe_invoice_id=f"in_demo_{key}",
            defaults={
                "family": family,
                "amount_cents": plan.price_cents,
                "currency": plan.currency,
                "description": f"{plan.name}: {enrollment.student.first_name}, {month:%B %Y}",
                "stripe_payment_intent_id": f"pi_demo_{key}",
            },
        )
        if billing.outcome == "declined":
            payment_failure_open(
                payment=payment,
                reason="Your card has insufficient funds.",
                decline_code="insufficient_funds",
                subscription=subscription,
            )
            continue
        payment_record_succeeded(payment=payment, paid_at=charged_at)
        if billing.outcome == "refunded":  # the lesson is credited, and its price goes back to the card
            credit_issue(
                family=family,
                amount_cents=plan.price_cents // 4,
                reason="a lesson the school cancelled",
                reference=f"credit_demo_{key}",
            )
            refund_record(
                payment=payment,
                amount_cents=plan.price_cents // 4,
                reference=f"re_demo_{key}",
                reason="a lesson the school cancelled",
            )


UNCONFIRMED_FAMILY = "MacDonald family"
LOST_HANDOFF_FAMILY = "Rossi family"


def _demo_worker_died_mid_work() -> None:
    """What the owner finds after a worker was killed mid-work: the MacDonalds' welcome email left unconfirmed
    (it may have gone out; the owner resends it in one click), and the Rossis' subscription whose hand-off to the
    worker was lost, made an hour ago, for the sweeper to start (a `billing_sweep` run; the worker then bills them
    on the local Stripe server with its test card)."""
    enrollment = Enrollment.objects.filter(student__family__name=UNCONFIRMED_FAMILY).order_by("pk").first()
    email_parents(
        family=enrollment.student.family,
        template="welcome_parent",
        related=enrollment,
        dedupe_key="demo:welcome",
        context={"booked": [enrollment], "waitlisted": [], "set_password_url": "", "confirmation_url": ""},
    )
    # In the seed's transaction, with its send task: the worker finds the row unconfirmed and leaves it.
    EmailLog.objects.filter(dedupe_key__startswith="demo:welcome:", status=EmailLog.Status.QUEUED).update(
        status=EmailLog.Status.UNCONFIRMED, error=UNCONFIRMED_REASON
    )

    enrollment = Enrollment.objects.filter(student__family__name=LOST_HANDOFF_FAMILY).order_by("pk").first()
    first = Lesson.objects.filter(student=enrollment.student, start_at__gt=timezone.now()).order_by("start_at").first()
    subscription, created = TuitionSubscription.objects.get_or_create(
        enrollment=enrollment,
        defaults={
            "family": enrollment.student.family,
            "tuition_plan": enrollment.tuition_plan,
            "payment_method_id": "pm_card_visa",
            "starts_at": first.start_at if first else None,
        },
    )
    if created:  # made an hour ago, its task lost: well past the sweeper's grace period
        TuitionSubscription.objects.filter(pk=subscription.pk).update(created_at=timezone.now() - timedelta(hours=1))
