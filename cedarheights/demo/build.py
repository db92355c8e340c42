"""The demo school, made through the services of the apps that own its tables: accounts (the owner, teachers,
families, parents, consent), scheduling (the catalogue, the calendar, students and their lessons), enrollment
(plans and enrollments), billing (`cedarheights.demo.billing`). Each record is looked up by its natural key first
and made only when it is missing, so running the seed again changes nothing."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Family, User
from accounts.services import family_create, parent_create, staff_create
from billing.handoffs import billing_handoffs_recover
from cedarheights.demo import fakes
from cedarheights.demo.audit_reads import audit_reads_tell
from cedarheights.demo.billing import month_of_billing
from cedarheights.demo.calendars import calendar_links_give
from cedarheights.demo.consents import consents_tell
from cedarheights.demo.fees import fees_tell
from cedarheights.demo.history import school_history_seed
from cedarheights.demo.lesson_week import lesson_week_tell
from cedarheights.demo.lifecycle import lifecycle_tell
from cedarheights.demo.payroll import payroll_tell
from cedarheights.demo.privacy_requests import privacy_requests_tell
from cedarheights.demo.reminders import reminders_tell
from cedarheights.demo.retention import retention_tell
from cedarheights.demo.school import (
    ADMIN_PASSWORD,
    BILLING,
    DEMO_PASSWORD,
    FAMILIES,
    INSTRUMENTS,
    OWNER,
    PLANS,
    ROOMS,
    TEACHERS,
    DemoChild,
    DemoFamily,
    DemoPlan,
    DemoTeacher,
    DemoYear,
    Person,
    school_year,
)
from cedarheights.demo.tuition import tuition_tell
from cedarheights.selectors import privacy_notice_current, privacy_notices_published
from enrollment.consents import child_consent_give
from enrollment.models import ChildConsent, Enrollment, TuitionPlan
from enrollment.services import enrollment_create, tuition_plan_create
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
from scheduling.services import (
    academic_year_create,
    availability_create,
    closure_create,
    instrument_create,
    room_create,
    student_create,
    student_teacher_assign,
    teacher_create,
    term_create,
)
from scheduling.slots import Window
from scheduling.weekly_lessons import weekly_lesson_book

DEMO_NAMESPACE = uuid.UUID("6f1d3c52-2b7e-4a55-9a51-0c0ffee00001")  # each child's enrollment key derives from it


@dataclass(frozen=True)
class Catalogue:
    """What the families enroll in: instruments and plans by name, teachers by email."""

    instruments: dict[str, Instrument]
    plans: dict[str, TuitionPlan]
    teachers: dict[str, Teacher]


def demo_school_seed(*, today: date | None = None) -> dict[str, int]:
    """The demo school, in one transaction; then the sweeper starts the billing whose hand-off the demo lost (each
    restart is its own durable transaction, so it runs after the school's rows commit)."""
    counts = _demo_school_build(today=today or timezone.localdate())
    billing_handoffs_recover()
    return counts


@transaction.atomic
def _demo_school_build(*, today: date) -> dict[str, int]:
    _account(OWNER, ADMIN_PASSWORD, make=lambda: _staff_create(OWNER, role=User.Role.ADMIN, superuser=True))
    instruments = {name: _instrument(name) for name in INSTRUMENTS}
    for name in ROOMS:
        if not Room.objects.filter(name=name).exists():
            room_create(name=name)
    catalogue = Catalogue(
        instruments=instruments,
        plans={plan.name: _tuition_plan(plan, instruments) for plan in PLANS},
        teachers={teacher.person.email: _teacher(teacher, instruments) for teacher in TEACHERS},
    )
    year = school_year(today)
    terms = _calendar(year)
    current = next(term for term in terms if term.start_date <= today <= term.end_date)
    for family in FAMILIES:
        _family(family, catalogue, term=current, consented_on=year.consented_on, today=today)
    for billing in BILLING:
        month_of_billing(family=Family.objects.get(name=billing.family), billing=billing, today=today)
    tuition_tell(today=today)  # term-priced plans, discounts, a promotion code, first months
    lesson_week_tell(today=today)
    reminders_tell(today=today)
    lifecycle_tell(today=today)  # a vacation pause, a withdrawal with notice, a weekly time changed
    calendar_links_give()
    school_history_seed(today=today)  # a year of history, so the dashboard's charts have months to show
    # Before payroll: the pay periods reach back to the first lesson, which is now three years old.
    retention_tell(today=today, owner=User.objects.get(email=OWNER.email))  # families past their period, a breach
    payroll_tell(today=today)  # after the lesson week: its outcomes are what teachers are paid for
    fees_tell(today=today, owner=User.objects.get(email=OWNER.email))
    consents_tell(owner=User.objects.get(email=OWNER.email))  # notice v2, photo and news consents, withdrawals
    privacy_requests_tell(today=today, owner=User.objects.get(email=OWNER.email))  # after the history it exports
    audit_reads_tell()  # staff's and a teacher's reads, so the admin's audit log shows them
    fakes.worker_died_mid_work()
    return {
        "teachers": Teacher.objects.count(),
        "families": Family.objects.count(),
        "students": Student.objects.count(),
        "lessons": Lesson.objects.count(),
        "tuition_plans": TuitionPlan.objects.count(),
    }


def _account(person: Person, password: str, *, make: Callable[[], User]) -> User:
    """The person's account, or the one `make` creates now, which then gets the demo's published password."""
    if user := User.objects.filter(email=person.email).first():
        return user
    user = make()
    fakes.demo_password_give(user=user, password=password)
    return user


def _staff_create(person: Person, *, role: str, superuser: bool = False) -> User:
    return staff_create(
        actor=None,
        email=person.email,
        first_name=person.first_name,
        last_name=person.last_name,
        role=role,
        superuser=superuser,
    )


def _instrument(name: str) -> Instrument:
    return Instrument.objects.filter(name=name).first() or instrument_create(name=name)


def _tuition_plan(plan: DemoPlan, instruments: dict[str, Instrument]) -> TuitionPlan:
    return TuitionPlan.objects.filter(name=plan.name).first() or tuition_plan_create(
        name=plan.name,
        instrument=instruments.get(plan.instrument),
        lesson_minutes=plan.minutes,
        interval=plan.interval,
        price_cents=plan.price_cents,
        basis=plan.basis,
    )


def _teacher(story: DemoTeacher, instruments: dict[str, Instrument]) -> Teacher:
    user = _account(story.person, DEMO_PASSWORD, make=lambda: _staff_create(story.person, role=User.Role.TEACHER))
    teacher = Teacher.objects.filter(user=user).first() or teacher_create(
        user=user,
        capacity=story.capacity,
        bio=story.bio,
        active=True,
        instruments=[instruments[name] for name in story.instruments],
    )
    for hours in story.hours:
        windows = WeeklyAvailability.objects.filter(teacher=teacher, weekday=hours.weekday, start_time=hours.start)
        if not windows.exists():
            availability_create(teacher=teacher, weekday=hours.weekday, start_time=hours.start, end_time=hours.end)
    return teacher


def _calendar(year: DemoYear) -> list[Term]:
    """The academic year, its terms and the school's closures."""
    academic_year = AcademicYear.objects.filter(name=year.name).first() or academic_year_create(
        name=year.name, start_date=year.start, end_date=year.end
    )
    terms = {
        term.name: Term.objects.filter(academic_year=academic_year, name=term.name).first()
        or term_create(academic_year=academic_year, name=term.name, start_date=term.start, end_date=term.end)
        for term in year.terms
    }
    for closure in year.closures:
        if not Closure.objects.filter(reason=closure.reason, start_date=closure.start, teacher=None).exists():
            closure_create(
                reason=closure.reason, start_date=closure.start, end_date=closure.end, term=terms[closure.term]
            )
    return list(terms.values())


def _family(story: DemoFamily, catalogue: Catalogue, *, term: Term, consented_on: date, today: date) -> None:
    """The family, its parent, and its children (with their parent's consent for each)."""
    family = Family.objects.filter(name=story.name).first() or family_create(
        actor=None,
        name=story.name,
        city=story.city,
        province="ON",
        emergency_contact_name=f"{story.parent.first_name}'s sibling",
        emergency_contact_phone=story.parent.phone,
    )
    parent = _account(
        story.parent,
        DEMO_PASSWORD,
        make=lambda: parent_create(
            actor=None,
            family=family,
            email=story.parent.email,
            first_name=story.parent.first_name,
            last_name=story.parent.last_name,
            phone=story.parent.phone,
        ),
    )
    for child in story.children:
        _child(family, child, catalogue, term=term, today=today, parent=parent, consented_on=consented_on)


def _child(
    family: Family, child: DemoChild, catalogue: Catalogue, *, term: Term, today: date, parent: User, consented_on: date
) -> None:
    """The child, their parent's consent to the first privacy notice for them (before the school year), and their
    enrollment: with a teacher, booked by the owner, with a few weeks of lessons; without one, sent through the
    online form and waitlisted."""
    teacher = catalogue.teachers.get(child.teacher_email)
    student = Student.objects.filter(
        family=family, first_name=child.first_name, last_name=child.last_name
    ).first() or _student(family, child, catalogue, teacher=teacher)
    if not student.consents.filter(purpose=ChildConsent.Purpose.LESSONS).exists():
        # The version before the owner's v2 (cedarheights/demo/consents.py); a database without one publishes it now.
        first_notice = privacy_notices_published().last() or privacy_notice_current()
        consent = child_consent_give(
            actor=None, student=student, purpose=ChildConsent.Purpose.LESSONS, given_by=parent, notice=first_notice
        )
        fakes.consent_backdate(consent=consent, given_on=consented_on)
    key = uuid.uuid5(DEMO_NAMESPACE, f"{family.name}/{child.first_name}")
    if Enrollment.objects.filter(idempotency_key=key).exists():
        return
    end = (datetime.combine(today, child.start) + timedelta(minutes=child.minutes)).time()
    enrollment_create(
        student=student,
        instrument_id=catalogue.instruments[child.instrument].pk,
        lesson_minutes=child.minutes,
        tuition_plan_id=catalogue.plans[child.plan].pk,
        idempotency_key=key,
        windows=[Window(child.weekday, child.start, end)],
        source=Enrollment.Source.WEB if teacher is None else Enrollment.Source.ADMIN,
        status=Enrollment.Status.WAITLISTED if teacher is None else Enrollment.Status.ACTIVE,
    )
    if teacher is not None:
        _lessons(student, teacher, child, term=term, today=today)


def _student(family: Family, child: DemoChild, catalogue: Catalogue, *, teacher: Teacher | None) -> Student:
    student = student_create(
        actor=None,
        family=family,
        first_name=child.first_name,
        last_name=child.last_name,
        date_of_birth=child.born,
        instrument=catalogue.instruments[child.instrument],
    )
    if teacher is not None:
        student = student_teacher_assign(actor=None, student=student, teacher=teacher)
    return student


def _lessons(student: Student, teacher: Teacher, child: DemoChild, *, term: Term, today: date) -> None:
    """The child's weekly time, booked from eight weeks ago to the end of the year's terms (how the lessons went is
    cedarheights.demo.lesson_week's)."""
    weekly_lesson_book(
        student=student,
        teacher=teacher,
        weekday=child.weekday,
        start_time=child.start,
        minutes=child.minutes,
        starts_on=max(term.start_date, today - timedelta(weeks=8)),
    )
