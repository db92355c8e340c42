"""Families with a past, for the retention tests: lessons, sign-ups and ledger lines placed on days relative to
today (never a fixed date), at noon school time so no test depends on the hour it runs."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from accounts.models import Family, User
from billing.models import LedgerEntry, Payment
from cedarheights.periods import local_midnight
from cedarheights.selectors import school_settings_get, school_today
from enrollment.models import Enrollment
from scheduling.models import Lesson, Student, Teacher
from tests.factories import (
    EnrollmentFactory,
    FamilyFactory,
    LedgerEntryFactory,
    ParentFactory,
    PaymentFactory,
    StudentFactory,
    TeacherFactory,
)


def noon(day: date) -> datetime:
    return local_midnight(day, school_settings_get().zone) + timedelta(hours=12)


def years_before_today(years: int, *, days: int = 0) -> date:
    return school_today() - relativedelta(years=years) + timedelta(days=days)


def months_before_today(months: int, *, days: int = 0) -> date:
    return school_today() - relativedelta(months=months) + timedelta(days=days)


@dataclass
class PastFamily:
    family: Family
    parent: User
    student: Student
    teacher: Teacher
    enrollment: Enrollment
    lessons: list[Lesson] = field(default_factory=list)

    def lesson_on(self, day: date, *, kind: str = Lesson.Kind.REGULAR, notes: str = "Scales at 80 bpm") -> Lesson:
        start = noon(day)
        lesson = Lesson.objects.create(
            teacher=self.teacher,
            student=self.student,
            kind=kind,
            status=Lesson.Status.COMPLETED,
            outcome=Lesson.Outcome.ATTENDED,
            start_at=start,
            end_at=start + timedelta(minutes=30),
            notes=notes,
            family_note=f"Well done, {self.student.first_name}!",
        )
        self.lessons.append(lesson)
        return lesson

    def paid_month_on(self, day: date, *, cents: int = 14000) -> tuple[LedgerEntry, LedgerEntry]:
        """A month's tuition charged and paid that day: the family owes nothing for it."""
        payment = PaymentFactory(
            family=self.family,
            amount_cents=cents,
            status=Payment.Status.SUCCEEDED,
            description=f"Tuition for {self.student.first_name} {self.student.last_name}",
        )
        charge = LedgerEntryFactory(
            family=self.family, amount_cents=cents, description=f"Piano, {self.student.first_name}"
        )
        paid = LedgerEntryFactory(
            family=self.family,
            kind=LedgerEntry.Kind.PAYMENT,
            amount_cents=cents,
            payment=payment,
            description=f"Card payment by {self.parent.first_name}",
        )
        moment = noon(day)
        Payment.objects.filter(pk=payment.pk).update(created_at=moment, paid_at=moment)
        LedgerEntry.objects.filter(pk__in=[charge.pk, paid.pk]).update(created_at=moment)
        return charge, paid

    def joined_on(self, day: date) -> None:
        moment = noon(day)
        Family.objects.filter(pk=self.family.pk).update(created_at=moment)
        Enrollment.objects.filter(pk=self.enrollment.pk).update(created_at=moment, updated_at=moment)


def past_family(*, name: str, status: str = Enrollment.Status.COMPLETED, teacher: Teacher | None = None) -> PastFamily:
    family = FamilyFactory(
        name=name,
        street="12 Maple Ave",
        postal_code="M4B 1B3",
        emergency_contact_name="Grandma Ruth",
        emergency_contact_phone="416-555-0100",
        notes="Prefers Tuesdays",
    )
    parent = ParentFactory(family=family, phone="416-555-0199")
    student = StudentFactory(family=family, notes="Allergic to peanuts", status=Student.Status.WITHDRAWN)
    teacher = teacher or TeacherFactory()
    enrollment = EnrollmentFactory(student=student, status=status)
    return PastFamily(family, parent, student, teacher, enrollment)
