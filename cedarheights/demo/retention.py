"""The demo school's privacy records: two families the retention job's dry run lists (`manage.py privacy_retention
--dry-run`), and a breach in the register with both notices sent.

- The Halvorsen family left three years ago: Sigrid's weekly piano lessons ended then, every month was paid, and a
  registration fee of nine years ago is past the financial period (its description would be replaced).
- The Beaulieu family put Hugo on the waitlist thirteen months ago and never had a lesson.

The families and children are made through accounts' and scheduling's services (audited, as the others are); their
past, as in `cedarheights.demo.history`, is written through the models. It runs once: a school that has the
Halvorsen family has its privacy records."""

import uuid
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from accounts.breach_notices import breach_commissioner_notice_draft, breach_people_notice_draft
from accounts.models import Breach, Family, User
from accounts.services import family_create, parent_create, staff_create
from billing.models import LedgerEntry, Payment, PayRate
from billing.payroll.services import pay_rate_create
from cedarheights.demo.fakes import demo_password_give
from cedarheights.demo.school import DEMO_PASSWORD
from cedarheights.periods import local_midnight
from cedarheights.selectors import school_settings_get
from enrollment.models import Enrollment
from enrollment.services import enrollment_create
from scheduling.models import Instrument, Lesson, Student, Teacher
from scheduling.services import student_create, teacher_create

RETENTION_NAMESPACE = uuid.UUID("6f1d3c52-2b7e-4a55-9a51-0c0ffee0a118")
LEFT, WAITING = "Halvorsen family", "Beaulieu family"
RETENTION_FAMILY_NAMES = (LEFT, WAITING)
# Sigrid's teacher, who has since left: paid per lesson then, so payroll can close the periods of her lessons.
FORMER_TEACHER = ("Lars", "Eide", "lars.eide@cedarheights.test")
BREACHED_FAMILY = "Nguyen family"
MONTHLY_CENTS = 14_000
REGISTRATION_CENTS = 5_000


def _piano() -> Instrument:
    return Instrument.objects.get(name="Piano")


def _at(day: date, hour: int) -> datetime:
    return local_midnight(day, school_settings_get().zone) + timedelta(hours=hour)


def _backdate(family: Family, enrollment: Enrollment, moment: datetime) -> None:
    Family.objects.filter(pk=family.pk).update(created_at=moment)
    Enrollment.objects.filter(pk=enrollment.pk).update(created_at=moment, updated_at=moment)


def _household(*, owner: User, name: str, parent: tuple[str, str, str], child: tuple[str, date], status: str):
    family = family_create(
        actor=owner, name=name, street="8 Birch Crescent", city="Toronto", province="ON", postal_code="M4E 2K1"
    )
    first, last, email = parent
    parent = parent_create(
        actor=owner, family=family, email=email, first_name=first, last_name=last, phone="416-555-0142"
    )
    demo_password_give(user=parent, password=DEMO_PASSWORD)
    child_name, born = child
    piano = _piano()
    student = student_create(
        actor=owner, family=family, first_name=child_name, last_name=last, date_of_birth=born, instrument=piano
    )
    enrollment = enrollment_create(
        student=student,
        instrument_id=piano.pk,
        lesson_minutes=30,
        tuition_plan_id=None,
        idempotency_key=uuid.uuid5(RETENTION_NAMESPACE, name),
        windows=[],
        source=Enrollment.Source.ADMIN,
        status=status,
    )
    return family, student, enrollment


def _paid(family: Family, *, day: date, cents: int, what: str, key: str) -> None:
    moment = _at(day, 10)
    payment = Payment.objects.create(
        family=family,
        amount_cents=cents,
        status=Payment.Status.SUCCEEDED,
        description=what,
        stripe_invoice_id=f"in_demo_retention_{key}",
        paid_at=moment,
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(family=family, kind=LedgerEntry.Kind.CHARGE, amount_cents=cents, description=what),
            LedgerEntry(
                family=family,
                kind=LedgerEntry.Kind.PAYMENT,
                amount_cents=cents,
                description=f"Payment: {what}",
                payment=payment,
            ),
        ]
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=moment)
    LedgerEntry.objects.filter(family=family, description__endswith=what).update(created_at=moment)


def former_teacher(*, today: date) -> Teacher:
    first, last, email = FORMER_TEACHER
    user = staff_create(actor=None, email=email, first_name=first, last_name=last, role=User.Role.TEACHER)
    demo_password_give(user=user, password=DEMO_PASSWORD)
    teacher = teacher_create(
        user=user, capacity=0, bio="Taught piano until three years ago.", active=False, instruments=[_piano()]
    )
    pay_rate_create(
        actor=None,
        teacher=teacher,
        kind=PayRate.Kind.FIXED,
        lesson_minutes=30,
        amount_cents=3_000,
        effective_from=today - relativedelta(years=5),
    )
    return teacher


def family_who_left_three_years_ago(*, today: date, owner: User) -> None:
    family, student, enrollment = _household(
        owner=owner,
        name=LEFT,
        parent=("Ingrid", "Halvorsen", "ingrid.lindqvist@example.com"),
        child=("Sigrid", today - relativedelta(years=14, months=3)),
        status=Enrollment.Status.COMPLETED,
    )
    Student.objects.filter(pk=student.pk).update(status=Student.Status.WITHDRAWN, notes="Loves Grieg.")
    last_lesson = today - relativedelta(years=3)
    teacher = former_teacher(today=today)
    Lesson.objects.bulk_create(
        Lesson(
            teacher=teacher,
            student=student,
            start_at=_at(last_lesson - timedelta(weeks=week), 16),
            end_at=_at(last_lesson - timedelta(weeks=week), 16) + timedelta(minutes=30),
            status=Lesson.Status.COMPLETED,
            outcome=Lesson.Outcome.ATTENDED,
            notes="Scales hands together; Grieg's Arietta next.",
            family_note="Lovely phrasing today, Sigrid!",
        )
        for week in range(8)
    )
    for months in (0, 1):
        month = last_lesson - relativedelta(months=months)
        _paid(
            family, day=month, cents=MONTHLY_CENTS, what=f"Piano tuition, Sigrid, {month:%B %Y}", key=f"sigrid{months}"
        )
    joined = today - relativedelta(years=9)
    _paid(
        family, day=joined, cents=REGISTRATION_CENTS, what="Registration, Sigrid Halvorsen", key="sigrid_registration"
    )
    _backdate(family, enrollment, _at(joined, 10))


def family_waitlisted_thirteen_months_ago(*, today: date, owner: User) -> None:
    family, _, enrollment = _household(
        owner=owner,
        name=WAITING,
        parent=("Claire", "Beaulieu", "claire.beaulieu@example.com"),
        child=("Hugo", today - relativedelta(years=8, months=7)),
        status=Enrollment.Status.WAITLISTED,
    )
    _backdate(family, enrollment, _at(today - relativedelta(months=13), 10))


def breach_with_notices(*, today: date, owner: User) -> None:
    discovered = today - timedelta(days=40)
    breach = Breach.objects.create(
        summary="Recital programme with children's birth dates emailed to all families",
        circumstances="A spreadsheet of the spring recital was attached to the newsletter instead of the programme.",
        occurred_on=discovered,
        discovered_on=discovered,
        contained_on=discovered + timedelta(days=1),
        information_involved="Children's names, birth dates and their parents' phone numbers",
        people_involved="The 12 children in the spring recital and their parents",
        people_affected_estimate=30,
        sensitivity=Breach.Level.HIGH,
        sensitivity_factors="Children's birth dates with their parents' contacts (identity theft, a child located).",
        probability=Breach.Level.MEDIUM,
        probability_factors="Sent to 140 known families, not the public; 118 confirmed they deleted it.",
        actions_taken="Recalled the email; asked every family to delete it; newsletters now go from a template "
        "without attachments.",
        recorded_by=owner,
    )
    breach.affected_families.set(Family.objects.filter(name=BREACHED_FAMILY))
    breach.commissioner_notice = breach_commissioner_notice_draft(breach=breach)
    breach.people_notice = breach_people_notice_draft(breach=breach)
    breach.commissioner_notified_on = breach.people_notified_on = discovered + timedelta(days=3)
    breach.save()


def retention_tell(*, today: date, owner: User) -> None:
    if Family.objects.filter(name=LEFT).exists():
        return
    family_who_left_three_years_ago(today=today, owner=owner)
    family_waitlisted_thirteen_months_ago(today=today, owner=owner)
    breach_with_notices(today=today, owner=owner)
