"""A school with a term starting next month and a teacher free every weekday afternoon: children are enrolled with
a standing weekly time booked through the scheduling service, as the enrollment pipeline does."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from cedarheights.selectors import school_today
from enrollment.models import Enrollment
from enrollment.tuition import next_month_first
from scheduling.models import AcademicYear, Term
from scheduling.weekly_lessons import weekly_lesson_book
from tests.factories import (
    AvailabilityFactory,
    EnrollmentFactory,
    FamilyFactory,
    StudentFactory,
    TeacherFactory,
    TuitionPlanFactory,
    UserFactory,
)

TERM_MONTHS = 4


def months_after(first, months: int):
    for _ in range(months):
        first = next_month_first(first)
    return first


@pytest.fixture
def term(school) -> Term:
    """A term of four whole months, from the 1st of next month (its year around it)."""
    start = next_month_first(school_today())
    year = AcademicYear.objects.create(
        name="Tuition year", start_date=start, end_date=start.replace(year=start.year + 1) - timedelta(days=1)
    )
    return Term.objects.create(
        academic_year=year, name="Fall", start_date=start, end_date=months_after(start, TERM_MONTHS) - timedelta(1)
    )


@pytest.fixture
def teacher(school):
    teacher = TeacherFactory()
    for weekday in range(5):
        AvailabilityFactory(teacher=teacher, weekday=weekday, start_time="14:00", end_time="20:00")
    return teacher


@pytest.fixture
def term_plan(db):
    """Flat monthly, term-priced: $35 a lesson."""
    return TuitionPlanFactory(name="Piano 30, term-priced", price_cents=14_000, lesson_rate_cents=3_500)


@pytest.fixture
def per_lesson_plan(db):
    return TuitionPlanFactory(name="Piano 30, per lesson", basis="per_lesson", price_cents=4_000)


@pytest.fixture
def owner_user(db):
    return UserFactory(role=User.Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def family(db):
    return FamilyFactory(name="Ortiz family")


def enroll(*, family, teacher, plan, weekday: int, starts_on, at: time = time(16, 0), student=None) -> Enrollment:
    """A child (or `student`'s further lesson) enrolled on `plan`, their weekly time booked from `starts_on`."""
    student = student or StudentFactory(family=family)
    enrollment = EnrollmentFactory(
        student=student, tuition_plan=plan, status=Enrollment.Status.ACTIVE, activated_at=timezone.now()
    )
    weekly_lesson_book(
        student=student, teacher=teacher, weekday=weekday, start_time=at, minutes=30, starts_on=starts_on
    )
    return enrollment
